"""`harness bench suite|versus` on CPU at toy size (the GPU run must not fail on a typo), the
deterministic check's verdicts, and the authors' code side by side when a checkout exists."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from harness.bench.determinism import reproducibility, run_digests, tensor_digest
from harness.bench.suite import (
    PRESET_FUSED_OPTIMIZER,
    PRESET_SAMPLING,
    PRESET_TRAINING,
    SMOKE_MODEL,
    Settings,
    Suite,
    execution_args,
    small_train_args,
    verdicts,
)
from harness.bench.train import random_images
from harness.commands.bench import bench
from harness.runtime import Execution

ROOT = Path(__file__).resolve().parent.parent
DEBIAS = Path(os.environ.get("HARNESS_DEBIAS_DIR", "/work/ref/debias"))


def test_the_suite_measures_what_the_paper_preset_runs():
    config = yaml.safe_load((ROOT / "workflow/config/paper.yaml").read_text())
    for section, path in (("training", PRESET_TRAINING), ("sampling", PRESET_SAMPLING)):
        for key, value in path.as_dict().items():
            assert config[section].get(key, Execution().as_dict()[key]) == value, (section, key)
    assert config["training"].get("fused_optimizer", False) == PRESET_FUSED_OPTIMIZER


def test_execution_args_round_trip_through_the_train_command():
    from harness.commands.train import train_command

    execution = Execution(precision="bf16", tf32=True, compile=True, channels_last=True,
                          deterministic=True, compile_mode="reduce-overhead")
    ctx = train_command.make_context("train", ["--data", "d", "--run-dir", "r", "--image-size",
                                               "16", "--max-steps", "1",
                                               *execution_args(execution, fused=True)])
    got = {k: ctx.params[k] for k in execution.as_dict()}
    assert got == execution.as_dict() and ctx.params["fused_optimizer"] is True


def test_budget_guard_skips_checks_and_still_writes_the_summary(tmp_path):
    summary = Suite(Settings(out=tmp_path, budget_s=0.0, device="cpu", prefix="t")).run()
    assert summary["checks"] and all(c["status"].startswith("skipped")
                                     for c in summary["checks"].values())
    written = json.loads((tmp_path / "t-suite.json").read_text())
    assert written["checks"] == summary["checks"]
    assert written["flops"]["forward_gflop_per_img"] == pytest.approx(387.934, rel=1e-3)
    assert "not measured" in "\n".join(verdicts(summary))


def test_smoke_sampling_and_real_loop_without_the_authors_code(tmp_path):
    result = CliRunner().invoke(bench, ["suite", "--smoke", "--no-compile", "--out",
                                        str(tmp_path), "--checks", "sample,train_loop"])
    (prefix,) = {p.name.rsplit("-", 1)[0] for p in tmp_path.glob("*-suite.json")}
    assert prefix.endswith(datetime.now(UTC).strftime("%Y-%m-%d"))
    assert result.exit_code == 0, result.output
    assert "authors' code skipped: no --reference folder given" in result.output
    summary = json.loads((tmp_path / f"{prefix}-suite.json").read_text())
    assert {k: c["status"] for k, c in summary["checks"].items()} == {
        "sample": "ok", "train_loop": "ok"}
    sample = json.loads((tmp_path / f"{prefix}-sample.json").read_text())
    labels = [r["label"] for r in sample["records"]]
    assert labels == ["fp32", "bf16", "preset"] and sample["authors"] == {}
    assert sample["records"][2]["execution"] == {**PRESET_SAMPLING.as_dict(), "compile": False}
    for record in sample["records"]:
        result = record["results"][0]
        assert result["img_per_s"] > 0 and 0 < result["mfu"] < 1
    # Same noise, other rounding: samples agree up to a few levels, not bit for bit.
    for stats in sample["agreement"].values():
        assert 0 < stats["mean_levels"] < 8
    loop = json.loads((tmp_path / f"{prefix}-train_loop.json").read_text())["records"][0]
    assert loop["benchmark"] == "train"
    assert loop["execution"]["precision"] == PRESET_TRAINING.precision
    assert loop["fused_optimizer"] is PRESET_FUSED_OPTIMIZER and 0 < loop["mfu"] < 1


@pytest.mark.slow
@pytest.mark.skipif(not (DEBIAS / "guided_diffusion").is_dir(),
                    reason=f"the authors' code is not at {DEBIAS} (set HARNESS_DEBIAS_DIR)")
def test_versus_times_the_authors_fp32_and_fp16_code_beside_ours(tmp_path):
    result = CliRunner().invoke(bench, ["versus", "--smoke", "--no-compile", "--reference",
                                        str(DEBIAS), "--out", str(tmp_path), "--prefix", "v"])
    assert result.exit_code == 0, result.output
    model = json.loads((tmp_path / "v-model.json").read_text())
    sample = json.loads((tmp_path / "v-sample.json").read_text())
    for precision in ("fp32", "fp16"):
        for what in ("forward", "train_step"):
            assert model["authors"][precision][what]["img_per_s"] > 0
        assert sample["authors"][precision]["mfu"] > 0
    assert [r["label"] for r in model["records"]] == ["fp32", "fp32+tf32", "bf16", "preset",
                                                     "preset+fused_adamw", "fastest"]
    fastest = max(model["records"], key=lambda r: r["train_step"]["img_per_s"])
    headline = json.loads((tmp_path / "v-suite.json").read_text())["headline"]["model"]
    assert headline["best_train_step"]["label"] == fastest["label"]
    assert model["model_config"] == SMOKE_MODEL


def test_digests_see_every_tensor_and_only_tensors():
    import torch

    a = {"w": torch.ones(3), "opt": {"step": torch.tensor(2.0), "lr": 1e-4}}
    b = {"w": torch.ones(3), "opt": {"step": torch.tensor(2.0), "lr": 2e-4}}
    assert tensor_digest(a) == tensor_digest(b)
    b["w"][1] = 1.0 + 2**-23  # one bit of one element
    assert tensor_digest(a) != tensor_digest(b)
    assert tensor_digest({"w": torch.ones(3)}) != tensor_digest({"w": torch.ones(3).double()})


@pytest.mark.slow
def test_reproducibility_check_on_cpu(tmp_path):
    """Four `harness train` processes: straight, again, stopped + resumed, killed + rerun."""
    data = random_images(tmp_path / "data", 16, 16)
    args = [*small_train_args(SMOKE_MODEL, 4), "--device", "cpu",
            *execution_args(Execution(deterministic=True))]
    result = reproducibility(data, tmp_path / "runs", args, steps=6, save_every=2)
    for name in ("straight", "again", "stopped", "stopped_resumed", "killed_resumed"):
        assert result[name]["rc"] == 0, result[name]["tail"]
    assert result["run_to_run_equal"] and result["stopped_and_resumed_equal"]
    assert result["killed_and_resumed_equal"]
    assert set(result["digests"]["straight"]) == {"ema_0.9999_000006.pt",
                                                  "train_state_0000006.pt"}
    # A different run (another seed) must not compare equal: the digests see the weights.
    other = tmp_path / "runs" / "other"
    from harness.bench.determinism import run_command, train_command

    command = train_command(data, other, 6, [*args, "--seed", "1", "--eval-iterations", "6"])
    assert run_command(command, 300)["rc"] == 0
    assert run_digests(other)["ema_0.9999_000006.pt"] != (
        result["digests"]["straight"]["ema_0.9999_000006.pt"])
