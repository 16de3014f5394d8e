"""`harness estimate`: GPU-hours per stage from FLOPs, or from bench records when present."""

import json
from pathlib import Path

from click.testing import CliRunner

from harness import workflow as wp
from harness.cli import main
from harness.estimate import estimate, model_flops

SMOKE = Path(__file__).resolve().parent.parent / "workflow" / "config" / "smoke.yaml"


def test_flops_scale_with_resolution():
    cfg = {"image_size": 16, "num_channels": 32, "num_res_blocks": 1, "channel_mult": "1,2",
           "attention_resolutions": "8"}
    small, large = model_flops(cfg), model_flops({**cfg, "image_size": 32})
    assert small > 0 and 3.5 < large / small < 4.5  # convolutions dominate: ~4x pixels


def test_estimate_counts_jobs_and_prefers_bench(tmp_path):
    config = wp.load_config([SMOKE])
    plan = wp.build_plan(config)
    result = estimate(config, tmp_path, tflops=10)
    stages = result["stages"]
    # One training job per segment (EMA checkpoint) of each run, as the DAG has them.
    assert stages["train"]["jobs"] == sum(len(wp.eval_iterations(config, plan, run))
                                          for run in plan.runs)
    assert stages["sample"]["jobs"] == stages["metrics"]["jobs"] == len(plan.unique_cells())
    assert stages["refstats"]["jobs"] == 2 and stages["analysis"]["jobs"] == len(plan.analysis)
    assert all("FLOPs" in b for s in stages.values() for b in s["basis"])
    # A CUDA measurement of the same model replaces the FLOPs guess for training.
    record = {"benchmark": "model", "model_config": wp.model_config(config, "tiny"),
              "environment": {"device": "cuda:0"}, "train_step": {"img_per_s": 1000.0},
              "forward": {"img_per_s": 4000.0}}
    (tmp_path / "tiny.json").write_text(json.dumps(record))
    measured = estimate(config, tmp_path, tflops=10)["stages"]["train"]
    assert any(b.startswith("bench") for b in measured["basis"])


def test_estimate_cli(tmp_path):
    out = tmp_path / "estimate.json"
    result = CliRunner().invoke(main, ["estimate", "--configfile", str(SMOKE),
                                       "--bench-dir", str(tmp_path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "train" in result.output and json.loads(out.read_text())["total_gpu_hours"] > 0


def test_environment_yml_pins_match_pyproject():
    """The cluster's conda environment installs the same pinned packages as pyproject."""
    import tomllib

    import yaml

    root = SMOKE.parent.parent.parent
    deps = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    env = yaml.safe_load((root / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert set(deps) <= set(pip) and "-e ." in pip
