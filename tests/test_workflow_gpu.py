"""The `gpu` preset (one GPU, one evening): its DAG and its cost, which CI cannot run."""

import os
import re
import subprocess
import sys
from pathlib import Path

from harness import workflow as wp
from harness.estimate import estimate

ROOT = Path(__file__).resolve().parent.parent
GPU = ROOT / "workflow" / "config" / "gpu.yaml"
BUDGET_GPU_HOURS = 8.0  # issue 9: one H100-class GPU, one evening


def test_gpu_preset_plan():
    """CIFAR-10 at 32 px; the four weightings with three paired seeds; the A/A control."""
    config = wp.load_config([GPU])
    plan = wp.build_plan(config)
    ds = config["datasets"]["cifar10"]
    assert (ds["source"], ds["resolution"], ds["class_cond"]) == ("torchvision:cifar10", 32, True)
    table2 = [c for c in plan.cells if "table2" in c["uses"]]
    assert {c["weighting"] for c in table2} == {"constant", "p2", "min_snr", "debias"}
    slots = {(c["steps"], c["weighting"]) for c in table2}
    for slot in slots:  # three paired training seeds per table slot
        assert {c["seed"] for c in table2 if (c["steps"], c["weighting"]) == slot} == {0, 1, 2}
    control = [c for c in plan.cells if c["arm"] == "control"]
    assert {(c["seed"], c["steps"]) for c in control} == {
        (s, t) for s in (1000, 1001, 1002) for t in (100, 10)}  # Table 2's step counts
    assert {c["weighting"] for c in control} == {"constant"}
    assert config["sampling"]["num_samples"] == 10000
    assert {c["sampler"] for c in plan.cells} == {"ddpm", "ddim"}  # Fig. 8 is DDIM
    assert len(plan.runs) == 15 and len(plan.unique_cells()) == 36


def test_gpu_preset_fits_one_gpu_evening(tmp_path):
    """On the FLOP basis (no CUDA record: an empty bench folder) the preset stays within
    8 GPU-hours and spends most of them training."""
    result = estimate(wp.load_config([GPU]), tmp_path)
    stages = result["stages"]
    assert result["total_gpu_hours"] <= BUDGET_GPU_HOURS
    assert stages["train"]["gpu_hours"] > 0.7 * result["total_gpu_hours"]
    # 15 runs, one job per EMA checkpoint: Fig. 7a's two runs also stop at 6k iterations.
    assert stages["train"]["jobs"] == 17 and stages["sample"]["jobs"] == 36


def test_gpu_preset_dry_run(tmp_path):
    """Snakemake builds the whole DAG (nothing runs; the data is never touched)."""
    env = {**os.environ, "PATH": os.pathsep.join([os.path.dirname(sys.executable),
                                                  os.environ["PATH"]])}
    out = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--snakefile", str(ROOT / "Snakefile"),
         "--cores", "8", "--configfile", str(GPU)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    table = out.stdout.split("Job stats:")[1].split("\n\n")[0]
    jobs = {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}
    assert jobs["sample"] == jobs["metrics"] == 36
    assert jobs["prepare"] == jobs["refstats"] == 1 and jobs["analyze"] == 2 * 3  # 3 seeds
    assert jobs["train"] >= 15  # one job per run, or per EMA checkpoint
