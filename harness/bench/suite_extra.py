"""The suite's lower-priority checks (harness.bench.suite runs them if time is left): the
cost of --deterministic, the paper's batch 8 for `harness estimate`, CUDA graphs, batch 256,
the paths without channels_last, and the CIFAR-10 network. A mixin of Suite: it uses the
suite's settings, device, model config, flops, paths and record files."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from harness.bench import environment
from harness.bench.determinism import child_environment, execution_args
from harness.bench.flops import add_utilisation, flop_context
from harness.bench.model import PRESETS, bench_model
from harness.bench.sample import sampling_checkpoint, time_sampling
from harness.bench.train import bench_train
from harness.runtime import Execution


class ExtraChecks:
    """Checks 5.x of harness.bench.suite."""

    def check_train_loop_paper_batch(self) -> None:
        rec = self.records.get("train_loop") or self.record_base("suite-train-loop")
        record = self.train_loop(2 if self.s.smoke else 8)
        rec["records"].append(record)
        self.write("train_loop", rec)
        self.summary["headline"]["train_loop_paper_batch"] = {
            "batch_size": record["batch_size"], "img_per_s": record["img_per_s"],
            "mfu": record["mfu"]}

    def check_deterministic_cost(self) -> None:
        """Real-loop img/s with and without --deterministic, each in a fresh process."""
        out = {}
        execution = Execution(precision="bf16")
        for deterministic in (False, True):
            path = Path(tempfile.mkdtemp(prefix="harness-suite-")) / "det_cost.json"
            cmd = [sys.executable, "-m", "harness.cli", "bench", "train", "--preset",
                   "tiny" if self.s.smoke else "paper", "--device", self.dev.type,
                   *(["--image-size", "16", "--channel-mult", "1,2", "--attention-resolutions",
                      "8"] if self.s.smoke else []),
                   "--batch-size", str(self.batch), "--steps", "3" if self.s.smoke else "6",
                   "--out", str(path), *execution_args(
                       dataclasses.replace(execution, deterministic=deterministic))]
            subprocess.run(cmd, check=True, capture_output=True, timeout=300,
                           env=child_environment())
            out[f"deterministic={deterministic}"] = json.loads(path.read_text())
            shutil.rmtree(path.parent, ignore_errors=True)
        rates = [r["img_per_s"] for r in out.values()]
        self.extra("deterministic_cost", {"execution": execution.as_dict(),
                                          "records": list(out.values()),
                                          "slowdown": 1 - rates[1] / rates[0]})

    def extra(self, name: str, value: dict[str, Any]) -> None:
        rec = self.records.get("extra") or self.record_base("suite-extra")
        rec[name] = value
        rec["records"] += value.get("records", [])
        self.write("extra", rec)
        self.summary["headline"][name] = {k: v for k, v in value.items() if k != "records"}

    def sample_variant(self, name: str, execution: Execution, batch: int) -> None:
        with tempfile.TemporaryDirectory(prefix="harness-suite-") as tmp:
            ckpt = sampling_checkpoint(Path(tmp), self.config)
            record, _ = self.sample_record(Path(tmp), ckpt, execution, batch, name)
        result = record["results"][0]
        self.extra(name, {"execution": execution.as_dict(), "batch_size": batch,
                          "img_per_s": result["img_per_s"], "mfu": result["mfu"],
                          "records": [record]})

    def check_sample_cudagraphs(self) -> None:
        path = dataclasses.replace(self.paths["sampling"], compile_mode="reduce-overhead")
        self.sample_variant("sample_cudagraphs", path, self.batch)

    def check_sample_batch256(self) -> None:
        self.sample_variant("sample_batch256", self.paths["sampling"],
                            8 if self.s.smoke else 256)

    def check_no_channels_last(self) -> None:
        sampling = dataclasses.replace(self.paths["sampling"], channels_last=False)
        self.sample_variant("sample_no_channels_last", sampling, self.batch)
        training = dataclasses.replace(self.paths["training"], channels_last=False)
        record = bench_model(self.config, self.batch, str(self.dev), training, warmup=3,
                             iters=self.iters, train_step=True, forward_backward=False,
                             diffusion_config={"weighting": "debias"},
                             fused_optimizer=self.fused, flops=self.flops)
        self.extra("model_no_channels_last", {
            "execution": training.as_dict(),
            "forward_img_per_s": record["forward"]["img_per_s"],
            "train_step_img_per_s": record["train_step"]["img_per_s"], "records": [record]})


    def check_cifar(self) -> None:
        """The paper's CIFAR-10 network (32 px, class-conditional) on the presets' paths:
        `harness estimate` needs its own records."""
        config = PRESETS["cifar"]
        flops = flop_context(config, self.dev)
        loop = bench_train(config, batch_size=2 if self.s.smoke else 8,
                           steps=4 if self.s.smoke else 8, warmup=2 if self.s.smoke else 3,
                           device=str(self.dev), weighting="debias",
                           execution=self.paths["training"], flops=flops)
        with tempfile.TemporaryDirectory(prefix="harness-suite-") as tmp:
            ckpt = sampling_checkpoint(Path(tmp), config)
            result, _ = time_sampling(ckpt, Path(tmp) / "cifar.npz", self.batch, 2, self.steps,
                                      "ddpm", 0.0, self.dev, self.paths["sampling"])
        add_utilisation(result, flops, self.steps)
        sampled = {"benchmark": "sample", "model_config": {**config, "use_fp16": False},
                   "sampler": "ddpm", "steps": self.steps, "eta": 0.0,
                   "execution": self.paths["sampling"].as_dict(), "results": [result],
                   "flops": flops, "environment": environment(self.dev)}
        self.extra("cifar", {"train_img_per_s": loop["img_per_s"],
                             "sample_img_per_s": result["img_per_s"],
                             "records": [loop, sampled]})
