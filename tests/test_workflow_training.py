"""Training through the workflow with the real `harness train`: a job killed mid-run is retried
by Snakemake and resumes from the training state the killed attempt left, while the run's
earlier, protected checkpoint stays as it was."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import yaml
from test_train import tensors_equal
from test_workflow import snakemake

from harness.checkpoint import load_checkpoint
from harness.training import TrainConfig, train

ROOT = Path(__file__).resolve().parent.parent
MODEL = {"num_channels": 32, "num_res_blocks": 1, "channel_mult": "1,2",
         "attention_resolutions": "8", "num_head_channels": 8, "learn_sigma": True,
         "use_scale_shift_norm": True, "resblock_updown": False}
CONFIG = {
    "preset": "retry", "scale": "toy",
    "datasets": {"tiny": {"source": "builtin:colorshapes", "resolution": 16, "count": 16}},
    "model": MODEL,
    "training": {"iterations": 8, "batch_size": 4, "lr": 1.0e-3, "ema_rate": 0.9,
                 "save_every": 2, "seed": 0},
    "sampling": {"num_samples": 4, "batch_size": 4},
    "metrics": {"kid_subset_size": 2},
    "experiments": {"fig7a": {"dataset": "tiny", "weightings": ["constant"], "steps": 2,
                              "iterations": [4, 8]}},
    "resources": {"train": {"retries": 1}},
}
# A `harness` on PATH that plays a scheduler killing the first attempt of the job that trains
# to iteration 8 once it has passed step 6: it runs the real training to step 6 (writing the
# state of step 6), removes what only a finished run writes (status.json), leaves a partial
# checkpoint behind and fails like a killed job. Every other call is the real harness.
KILLER = """#!{python}
import os, subprocess, sys
from pathlib import Path
args = sys.argv[1:]
real = [sys.executable, "-c", "from harness.cli import main; main()"]
def value(name):
    return args[args.index(name) + 1]
if args[0] == "train" and value("--max-steps") == "8" and not Path("killed").exists():
    Path("killed").write_text("attempt 1")
    cut = list(args)
    cut[cut.index("--max-steps") + 1] = "6"
    cut[cut.index("--eval-iterations") + 1] = "4"
    subprocess.run(real + cut, check=True)
    run = Path(value("--run-dir"))
    (run / "status.json").unlink()
    (run / "ema_0.9_000008.pt").write_bytes(b"half-written")
    sys.exit(137)
os.execv(sys.executable, real + args)
"""


@pytest.mark.slow
def test_killed_training_job_is_retried_and_resumes(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "harness").write_text(KILLER.format(python=sys.executable))
    (bindir / "harness").chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(CONFIG))
    run = work / "results/train/tiny/eps-constant/seed0"
    args = ["--cores", "1", "--configfile", str(tmp_path / "config.yaml")]

    snakemake([f"{run.relative_to(work)}/ema_0.9_000004.pt", *args], work, bindir)
    first = (run / "ema_0.9_000004.pt").stat()
    out = snakemake([f"{run.relative_to(work)}/ema_0.9_000008.pt", *args], work, bindir)
    assert (work / "killed").exists()  # attempt 1 was killed, attempt 2 finished the job
    assert "Trying to restart job" in out.stdout + out.stderr
    # The retry resumed from the state the killed attempt wrote (it did not rewrite it) ...
    assert sorted(p.name for p in run.glob("train_state_*")) == [
        "train_state_0000006.pt", "train_state_0000008.pt"]
    # ... and the earlier checkpoint was neither touched nor left writable.
    kept = (run / "ema_0.9_000004.pt").stat()
    assert kept.st_mtime_ns == first.st_mtime_ns and kept.st_mode & 0o222 == 0
    assert (run / "ema_0.9_000008.pt").stat().st_mode & 0o222 == 0
    # Killed at 6 and resumed == trained to 8 at once, bitwise (CPU).
    whole = TrainConfig(data=str(work / "results/data/tiny"), run_dir=str(tmp_path / "whole"),
                        image_size=16, max_steps=8, batch_size=4, lr=1e-3, ema_rate="0.9",
                        save_every=2, eval_iterations=(4, 8), device="cpu", progress=False,
                        num_heads=4, **MODEL)
    train(whole)
    assert tensors_equal(load_checkpoint(run / "ema_0.9_000008.pt").state_dict,
                         load_checkpoint(tmp_path / "whole/ema_0.9_000008.pt").state_dict)
    log = (work / "results/logs/train/tiny/eps-constant/seed0/ema_0.9_000008.log").read_text()
    assert os.path.getsize(run / "log.csv") > 0 and "completed" in log
