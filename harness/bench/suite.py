"""`harness bench suite`: the project's GPU checks in one run with a time budget.

Checks, most valuable first (each starts only if its estimated cost fits the budget left):
1. sample: `harness sample` img/s and MFU, 10 DDPM steps, for fp32, bf16 and the presets'
   path, against the authors' fp32 and fp16 `p_sample_loop`; agreement of the reduced and
   compiled paths' samples with fp32 ones from the same noise.
2. model: UNet forward and training-step img/s and MFU, ours (fp32, fp32+TF32, bf16, the
   presets' path) against the authors' fp32 and fp16 code.
3. train_loop: `harness train`'s real loop (`bench train`) on the presets' path, against the
   isolated step of check 2.
4. deterministic: `harness train --deterministic` on the presets' path twice, stopped and
   resumed, killed and rerun: bitwise equal? (harness.bench.determinism)
5. extra: the cost of --deterministic, the presets' training path at the paper's batch 8
   (what `harness estimate` needs), CUDA graphs, batch 256 sampling, the paths without
   channels_last, and the 32 px class-conditional CIFAR-10 network.
Output under OUT, named PREFIX-NAME.json (PREFIX: the device and the date): PREFIX-suite.json
(verdicts against the issue's targets, seconds and errors per check) and one file per check;
a file holding several bench records lists them under "records", which `harness estimate`
reads. Files are rewritten as measurements arrive, so a time-out keeps what finished. `smoke`
runs the same code on CPU at toy size.
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from harness.bench import environment, time_calls, write_json
from harness.bench.determinism import execution_args, reproducibility
from harness.bench.flops import TRAIN_FACTOR, add_utilisation, flop_context
from harness.bench.model import PRESETS, bench_model, fixed_inputs
from harness.bench.reference import AuthorsCode, missing_reason
from harness.bench.sample import sampling_checkpoint, time_sampling
from harness.bench.suite_extra import ExtraChecks
from harness.bench.train import bench_train, random_images
from harness.runtime import Execution, resolve_device
from harness.runtime.execution import compile_unavailable

# What workflow/config/paper.yaml runs (tests/test_bench_suite.py keeps the two equal).
# The paper and gpu presets' paths (workflow/config/paper.yaml): training keeps the authors'
# numerics (fp32, TF32 convolutions) compiled; sampling runs bf16 + compile + channels_last.
PRESET_TRAINING = Execution(precision="fp32", tf32=True, compile=True)
# Fused AdamW is measured as its own variant first: with torch.compile its gradients' strides
# can differ from the parameters' and the fused kernel then refuses them (pytorch#126585).
PRESET_FUSED_OPTIMIZER = False
PRESET_SAMPLING = Execution(precision="bf16", compile=True, channels_last=True)
# The fastest path the harness offers for the UNet (the speed and MFU targets).
FASTEST = Execution(precision="bf16", compile=True, channels_last=True)
TARGETS = {"sampling_vs_authors_fp16": 2.5, "train_step_vs_authors_fp16": 1.6,
           "real_loop_vs_step": 0.9, "mfu_train_step": 0.30, "mfu_forward": 0.35}
# Estimated seconds per check on one H200 (compilation included), for the budget guard.
NEEDS = {"sample": 100, "model": 170, "train_loop": 30, "deterministic": 80,
         "deterministic_cost": 50, "train_loop_paper_batch": 120, "sample_cudagraphs": 45,
         "sample_batch256": 60, "no_channels_last": 150, "cifar": 120}
# --smoke: every ADM feature of the paper network, at 16 px and 32 channels.
SMOKE_MODEL = dict(PRESETS["tiny"], image_size=16, channel_mult="1,2", attention_resolutions="8")


def small_train_args(model: dict[str, Any], batch: int) -> list[str]:
    """`harness train` flags for the deterministic check's network (the mechanism, not the
    size, is what is tested there)."""
    return ["--image-size", str(model["image_size"]), "--num-channels",
            str(model["num_channels"]), "--channel-mult", model["channel_mult"],
            "--num-res-blocks", "1", "--attention-resolutions", model["attention_resolutions"],
            "--num-head-channels", str(model["num_head_channels"]), "--use-scale-shift-norm",
            "--resblock-updown", "--batch-size", str(batch), "--weighting", "debias",
            "--lr", "1e-4"]


@dataclasses.dataclass(frozen=True)
class Settings:
    out: Path
    reference: str | None = None
    budget_s: float = 420.0
    smoke: bool = False
    device: str = "auto"
    compile: bool = True  # False: leave torch.compile out (machines without a compiler)
    checks: tuple[str, ...] | None = None  # None: all
    preset: str | None = None  # harness.bench.model.PRESETS; None: paper (tiny when smoke)
    batch_size: int | None = None  # None: 64 (4 when smoke)
    steps: int | None = None  # sampling steps; None: 10 (3 when smoke)
    prefix: str | None = None  # of the file names; None: the device's name and today's date




def file_prefix(environment: dict[str, Any]) -> str:
    """e.g. 'nvidia-h200-2026-11-29': where and when, so records from runs never collide."""
    name = re.sub(r"[^a-z0-9]+", "-", str(environment.get("device_name") or "device").lower())
    return f"{name.strip('-') or 'device'}-{str(environment.get('created', ''))[:10]}"


def variant_error(err: Exception) -> str:
    print(f"   variant failed: {type(err).__name__}: {str(err)[:300]}", flush=True)
    return f"{type(err).__name__}: {str(err)[:500]}\n{traceback.format_exc()[-1500:]}"


def agreement(reference: np.ndarray, other: np.ndarray) -> dict[str, float]:
    """How far uint8 samples from the same noise are apart, in 8-bit levels."""
    diff = np.abs(reference.astype(np.int16) - other.astype(np.int16))
    return {"max_levels": int(diff.max()), "mean_levels": round(float(diff.mean()), 4),
            "fraction_over_8_levels": round(float((diff > 8).mean()), 6)}


class Suite(ExtraChecks):
    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.began = time.perf_counter()
        self.dev = resolve_device("cpu" if settings.smoke else settings.device)
        self.config = dict(PRESETS[settings.preset] if settings.preset else
                           SMOKE_MODEL if settings.smoke else PRESETS["paper"])
        self.batch = settings.batch_size or (4 if settings.smoke else 64)
        self.steps = settings.steps or (3 if settings.smoke else 10)
        self.iters = 2 if settings.smoke else 3  # medians of 3: GPU timings vary by < 1%
        self.fused = PRESET_FUSED_OPTIMIZER
        self.paths = {"training": self._allowed(PRESET_TRAINING),
                      "sampling": self._allowed(PRESET_SAMPLING),
                      "fastest": self._allowed(FASTEST)}
        self.summary: dict[str, Any] = {
            "settings": {k: str(v) for k, v in dataclasses.asdict(settings).items()},
            "model_config": self.config, "batch_size": self.batch, "sampling_steps": self.steps,
            "preset_paths": {k: v.as_dict() for k, v in self.paths.items()},
            "targets": TARGETS, "environment": environment(self.dev), "checks": {},
            "headline": {}}
        self.records: dict[str, dict[str, Any]] = {}
        reason = missing_reason(settings.reference)
        self.authors = None if reason else AuthorsCode(settings.reference, self.config, self.dev)
        self.summary["authors_code"] = reason or str(settings.reference)
        if reason:
            print(f"suite: authors' code skipped: {reason}", flush=True)
        settings.out.mkdir(parents=True, exist_ok=True)
        self.prefix = settings.prefix or file_prefix(self.summary["environment"])
        for name in ("recompile_limit", "cache_size_limit"):  # many variants, one process
            if hasattr(torch._dynamo.config, name):
                setattr(torch._dynamo.config, name, 64)
        self.flops = flop_context(self.config, self.dev)
        self.summary["flops"] = self.flops
        if settings.compile:
            self.summary["torch_compile"] = compile_unavailable(self.dev.type) or "available"

    def _allowed(self, execution: Execution) -> Execution:
        return execution if self.s.compile else dataclasses.replace(execution, compile=False)

    def release(self) -> None:
        """Hand cached GPU memory back between variants (a batch-64 fp32 step peaks near
        123 GiB on the paper network)."""
        if self.dev.type == "cuda":
            torch.cuda.empty_cache()

    def left(self) -> float:
        return self.s.budget_s - (time.perf_counter() - self.began)

    def write(self, name: str, record: dict[str, Any]) -> None:
        self.records[name] = record
        write_json(record, self.s.out / f"{self.prefix}-{name}.json")

    def save_summary(self) -> None:
        self.summary["elapsed_s"] = round(time.perf_counter() - self.began, 1)
        self.summary["files_prefix"] = self.prefix
        write_json(self.summary, self.s.out / f"{self.prefix}-suite.json")

    def record_base(self, benchmark: str) -> dict[str, Any]:
        return {"benchmark": benchmark, "model_config": self.config, "batch_size": self.batch,
                "flops": self.flops, "environment": environment(self.dev),
                "source": "harness bench suite", "records": []}

    def run(self) -> dict[str, Any]:
        plan: list[tuple[str, Callable[[], None]]] = [
            ("sample", self.check_sample), ("model", self.check_model),
            ("train_loop", self.check_train_loop), ("deterministic", self.check_deterministic),
            ("deterministic_cost", self.check_deterministic_cost),
            ("train_loop_paper_batch", self.check_train_loop_paper_batch),
            ("sample_cudagraphs", self.check_sample_cudagraphs),
            ("sample_batch256", self.check_sample_batch256),
            ("no_channels_last", self.check_no_channels_last), ("cifar", self.check_cifar)]
        for name, check in plan:
            if self.s.checks is not None and name not in self.s.checks:
                continue
            need = 0 if self.s.smoke else NEEDS[name]
            status: dict[str, Any] = {}
            if self.left() < need:
                status["status"] = f"skipped: {self.left():.0f} s left, needs ~{need} s"
            else:
                began = time.perf_counter()
                print(f"== {name} (at {time.perf_counter() - self.began:.0f} s)", flush=True)
                try:
                    check()
                    status["status"] = "ok"
                except Exception as err:  # noqa: BLE001 - one failed check must not stop the rest
                    status["status"] = f"error: {type(err).__name__}: {str(err)[:300]}"
                    status["traceback"] = traceback.format_exc()[-2000:]
                status["seconds"] = round(time.perf_counter() - began, 1)
            print(f"   {name}: {status['status']}", flush=True)
            self.summary["checks"][name] = status
            self.save_summary()
            self.release()
        self.save_summary()
        return self.summary

    # 1. sampling ----------------------------------------------------------------------------
    def sample_record(self, tmp: Path, checkpoint: Path, execution: Execution, batch: int,
                      label: str) -> tuple[dict[str, Any], np.ndarray]:
        result, images = time_sampling(checkpoint, tmp / f"{label}.npz", batch, 2, self.steps,
                                       "ddpm", 0.0, self.dev, execution)
        add_utilisation(result, self.flops, self.steps)
        return {"benchmark": "sample", "model_config": {**self.config, "use_fp16": False},
                "sampler": "ddpm", "steps": self.steps, "eta": 0.0,
                "execution": execution.as_dict(), "results": [result],
                "environment": environment(self.dev)}, images

    def check_sample(self) -> None:
        rec = {**self.record_base("suite-sample"), "steps": self.steps, "authors": {},
               "agreement": {}}
        variants = {"fp32": Execution(), "bf16": Execution(precision="bf16"),
                    "preset": self.paths["sampling"]}
        with tempfile.TemporaryDirectory(prefix="harness-suite-") as tmp:
            ckpt = sampling_checkpoint(Path(tmp), self.config, perturb=0.02)
            images = {}
            for label, execution in variants.items():
                try:
                    record, images[label] = self.sample_record(Path(tmp), ckpt, execution,
                                                               self.batch, label)
                except Exception as err:  # noqa: BLE001 - keep the other variants
                    rec.setdefault("errors", {})[label] = variant_error(err)
                    continue
                record["label"] = label
                rec["records"].append(record)
                if label != "fp32" and "fp32" in images:
                    rec["agreement"][f"{label} ({execution.label()}) vs fp32"] = agreement(
                        images["fp32"], images[label])
                self.write("sample", rec)
        for fp16 in (False, True) if self.authors else ():
            run = self.authors.sample_loop(fp16, self.batch, self.steps, {})
            timing = time_calls(run, self.dev, warmup=1, iters=2)
            result = {"img_per_s": self.batch / timing["median_s"], **timing}
            add_utilisation(result, self.flops, self.steps)
            rec["authors"]["fp16" if fp16 else "fp32"] = result
            self.write("sample", rec)
            del run
            self.release()
        ours = {r["label"]: r["results"][0]["img_per_s"] for r in rec["records"]}
        if not ours:
            raise RuntimeError(f"every sampling variant failed: {rec.get('errors')}")
        best = max(ours, key=ours.get)
        head = {"ours_img_per_s": ours, "best": f"{best} ({variants[best].label()})",
                "agreement": rec["agreement"]}
        if "fp16" in rec["authors"]:
            head["authors_img_per_s"] = {k: v["img_per_s"] for k, v in rec["authors"].items()}
            head["best_vs_authors_fp16"] = ours[best] / rec["authors"]["fp16"]["img_per_s"]
        self.summary["headline"]["sampling"] = head

    # 2. forward and training step ---------------------------------------------------------
    def check_model(self) -> None:
        rec = {**self.record_base("suite-model"), "authors": {}}
        x, t, kwargs = fixed_inputs(self.config, self.batch, self.dev)
        for fp16 in (False, True) if self.authors else ():
            key = "fp16" if fp16 else "fp32"
            for what, calls in (("forward", 1), ("train_step", TRAIN_FACTOR)):
                fn = getattr(self.authors, what)(fp16, x, t, kwargs)
                timing = time_calls(fn, self.dev, warmup=2, iters=self.iters)
                result = {"img_per_s": self.batch / timing["median_s"], **timing}
                add_utilisation(result, self.flops, calls)
                rec["authors"].setdefault(key, {})[what] = result
                del fn
                self.release()
            self.write("model", rec)
        variants = {"fp32": (Execution(), False), "fp32+tf32": (Execution(tf32=True), False),
                    "bf16": (Execution(precision="bf16"), False),
                    "preset": (self.paths["training"], PRESET_FUSED_OPTIMIZER),
                    "preset+fused_adamw": (self.paths["training"], True),
                    "fastest": (self.paths["fastest"], False)}
        for label, (execution, fused) in variants.items():
            try:
                record = bench_model(self.config, self.batch, str(self.dev), execution,
                                     warmup=3 if execution.compile else 2, iters=self.iters,
                                     train_step=True, forward_backward=False,
                                     diffusion_config={"weighting": "debias"},
                                     fused_optimizer=fused, flops=self.flops)
            except Exception as err:  # noqa: BLE001 - keep the other variants
                rec.setdefault("errors", {})[label] = variant_error(err)
                self.write("model", rec)
                continue
            record["label"] = label
            rec["records"].append(record)
            self.write("model", rec)
            self.release()
        self.summary["headline"]["model"] = self.model_headline(rec)

    def model_headline(self, rec: dict[str, Any]) -> dict[str, Any]:
        head: dict[str, Any] = {}
        for r in rec["records"]:
            head[r["label"]] = {k: {"img_per_s": round(r[k]["img_per_s"], 2), "mfu": r[k]["mfu"]}
                                for k in ("forward", "train_step")}
        preset = head.get("preset")
        fp16 = rec["authors"].get("fp16")
        if preset and fp16:
            for what in ("forward", "train_step"):
                head[f"preset_{what}_vs_authors_fp16"] = (preset[what]["img_per_s"]
                                                         / fp16[what]["img_per_s"])
        for what in ("forward", "train_step"):
            label = max((r["label"] for r in rec["records"]),
                        key=lambda k: head[k][what]["img_per_s"], default=None)
            if label is not None:
                head[f"best_{what}"] = {"label": label, **head[label][what]}
                if fp16:
                    head[f"best_{what}_vs_authors_fp16"] = (head[label][what]["img_per_s"]
                                                           / fp16[what]["img_per_s"])
        return head

    # 3. the real loop ---------------------------------------------------------------------
    def train_loop(self, batch: int) -> dict[str, Any]:
        return bench_train(self.config, batch_size=batch, steps=4 if self.s.smoke else 8,
                           warmup=2 if self.s.smoke else 3, device=str(self.dev),
                           weighting="debias", execution=self.paths["training"],
                           fused_optimizer=PRESET_FUSED_OPTIMIZER, flops=self.flops)

    def check_train_loop(self) -> None:
        rec = self.records.get("train_loop") or self.record_base("suite-train-loop")
        record = self.train_loop(self.batch)
        rec["records"].append(record)
        self.write("train_loop", rec)
        head = {"img_per_s": record["img_per_s"], "mfu": record["mfu"]}
        step = next((r["train_step"] for r in self.records.get("model", {}).get("records", [])
                     if r.get("label") == "preset"), None)
        if step:
            head["vs_isolated_step"] = record["img_per_s"] / step["img_per_s"]
        self.summary["headline"]["train_loop"] = head

    # 4. determinism -------------------------------------------------------------------------
    def check_deterministic(self) -> None:
        """The presets' training path with --deterministic; eager too if that path fails."""
        rec = {"benchmark": "suite-deterministic", "environment": environment(self.dev)}
        path = dataclasses.replace(self.paths["training"], deterministic=True)
        for execution in (path, dataclasses.replace(path, compile=False)):
            small = SMOKE_MODEL if self.s.smoke else PRESETS["tiny"]
            with tempfile.TemporaryDirectory(prefix="harness-suite-det-") as tmp:
                data = random_images(Path(tmp) / "data", 32, small["image_size"])
                args = [*small_train_args(small, 4 if self.s.smoke else 16),
                        "--device", self.dev.type,
                        *execution_args(execution, PRESET_FUSED_OPTIMIZER)]
                # Enough steps after the first state that the kill lands mid-run.
                result = reproducibility(data, Path(tmp), args,
                                         steps=8 if self.s.smoke else 40,
                                         save_every=4 if self.s.smoke else 8)
            result["execution"] = execution.as_dict()
            rec[execution.label()] = result
            self.write("deterministic", rec)
            head = {k: result[k] for k in ("run_to_run_equal", "stopped_and_resumed_equal",
                                           "killed_and_resumed_equal")}
            head["killed_mid_run"] = result["killed"]["killed"]
            self.summary["headline"].setdefault("deterministic", {})[execution.label()] = head
            if result["straight"]["rc"] == 0 or not execution.compile:
                break

def verdicts(summary: dict[str, Any]) -> list[str]:
    """One line per target of the issue: measured, target, met?"""
    head, lines = summary["headline"], []

    def line(name: str, value: float | None, target: float, unit: str = "x") -> None:
        if value is None:
            lines.append(f"{name:<34} not measured (target {target}{unit})")
        else:
            ok = "met" if value >= target else "NOT met"
            lines.append(f"{name:<34} {value:8.3f}{unit}  target {target}{unit}: {ok}")

    model = head.get("model", {})
    line("sampling vs authors' fp16", head.get("sampling", {}).get("best_vs_authors_fp16"),
         TARGETS["sampling_vs_authors_fp16"])
    line("training step vs authors' fp16", model.get("best_train_step_vs_authors_fp16"),
         TARGETS["train_step_vs_authors_fp16"])
    line("real loop / isolated step", head.get("train_loop", {}).get("vs_isolated_step"),
         TARGETS["real_loop_vs_step"])
    line("MFU training step", model.get("best_train_step", {}).get("mfu"),
         TARGETS["mfu_train_step"], "")
    line("MFU forward", model.get("best_forward", {}).get("mfu"), TARGETS["mfu_forward"], "")
    for label, det in (head.get("deterministic") or {"": None}).items():
        lines.append(f"{'bitwise: run, stopped, killed':<34} " + (
            " ".join(str(det[k]) for k in ("run_to_run_equal", "stopped_and_resumed_equal",
                                            "killed_and_resumed_equal")) + f"  ({label})"
            if det else "not measured"))
    return lines
