"""A scheduler's notice (SIGTERM, SIGUSR1) stops `harness train` after the step in progress with
its training state written, and `harness sample` at its next network call with its finished
chunks kept (the batch in progress is drawn again); both exit with status 75, and rerunning
the same command resumes bitwise (CPU).

The signals are real (os.kill of this process) and sent from inside a step, at a chosen step,
so that where they land does not depend on the machine's speed.
"""

from __future__ import annotations

import csv
import os
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from test_faults_runs import make_checkpoint
from test_train import TINY, make_images, tensors_equal

from harness.checkpoint import load_checkpoint
from harness.cli import main
from harness.errors import EXIT_INTERRUPTED
from harness.runtime.execution import Network
from harness.training.ema import EMA

STEPS = 12


def signal_during_step(monkeypatch, target, name: str, call: int, signum: int) -> None:
    """Make the `call`-th call of target.name send `signum` to this process (after the call's
    own work: for EMA.update, inside a training step, before its save points; for
    Network.forward, inside a sampling batch)."""
    original = getattr(target, name)
    calls = [0]

    def wrapped(*args, **kwargs):
        result = original(*args, **kwargs)
        calls[0] += 1
        if calls[0] == call:
            os.kill(os.getpid(), signum)
        return result

    monkeypatch.setattr(target, name, wrapped)


def train(data: Path, run: Path) -> tuple[int, str]:
    # save_every > STEPS: every state but the last is one a signal asked for; log rows every 4
    # steps, so the stops at steps 5 and 7 fall inside log windows.
    result = CliRunner().invoke(main, [
        "train", "--data", str(data), "--run-dir", str(run), "--max-steps", str(STEPS),
        "--eval-iterations", str(STEPS), "--save-every", "100", "--log-every", "4",
        "--ema-rate", "0.9", *TINY])
    return result.exit_code, result.output


def log_rows(run: Path) -> list[dict]:
    with (run / "log.csv").open() as f:
        return [{k: v for k, v in row.items() if k != "samples_per_s"} for row in csv.DictReader(f)]


def test_train_stopped_by_sigterm_then_sigusr1_resumes_bitwise(tmp_path, monkeypatch):
    data = make_images(tmp_path / "data")
    assert train(data, tmp_path / "whole")[0] == 0
    run = tmp_path / "run"
    # (signal, the step it arrives in, that step's number in this process: 7 is the second
    # step of the run resumed from step 5)
    for signum, step, call in ((signal.SIGTERM, 5, 5), (signal.SIGUSR1, 7, 2)):
        with monkeypatch.context() as m:
            signal_during_step(m, EMA, "update", call, signum)
            code, out = train(data, run)
        assert code == EXIT_INTERRUPTED, out
        said = [line for line in out.splitlines() if "stopped by" in line]
        assert said == [f"{run}: stopped by {signum.name} at step {step} of {STEPS} (training "
                        f"state {run}/train_state_{step:07d}.pt written); run the same command "
                        "again to resume"], out
        assert (run / f"train_state_{step:07d}.pt").exists()
        assert not (run / "status.json").exists() and not (run / f"ema_0.9_{STEPS:06d}.pt").exists()
    assert train(data, run)[0] == 0
    name = f"ema_0.9_{STEPS:06d}.pt"
    whole, resumed = load_checkpoint(tmp_path / "whole" / name), load_checkpoint(run / name)
    assert tensors_equal(whole.state_dict, resumed.state_dict)
    assert whole.meta == resumed.meta == {"step": STEPS, "ema_rate": 0.9, "compiled_steps": 0}
    final = f"train_state_{STEPS:07d}.pt"
    a = torch.load(tmp_path / "whole" / final, weights_only=True)
    b = torch.load(run / final, weights_only=True)
    for key in ("model", "ema", "optimizer", "log_window", "compiled_steps"):
        assert tensors_equal(a[key], b[key]), key
    # The windows cut by the stops were carried in the states: the same rows, to the bit.
    assert log_rows(run) == log_rows(tmp_path / "whole") and len(log_rows(run)) == 3


def test_a_signal_before_the_first_step_stops_without_a_state(tmp_path, monkeypatch):
    data = make_images(tmp_path / "data")
    run = tmp_path / "run"
    signal_during_step(monkeypatch, torch.optim.AdamW, "__init__", 1, signal.SIGTERM)
    code, out = train(data, run)
    assert code == EXIT_INTERRUPTED and "stopped by SIGTERM at step 0 of 12 (no step was " \
        "taken, nothing new to save)" in out
    assert not list(run.glob("train_state_*.pt"))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGUSR1])
def test_sample_stopped_by_a_signal_keeps_its_chunks_and_resumes_bitwise(tmp_path, monkeypatch,
                                                                         signum):
    ckpt = make_checkpoint(tmp_path / "ema.pt")

    def sample(out: Path) -> tuple[int, str]:
        result = CliRunner().invoke(main, [
            "sample", "--checkpoint", str(ckpt), "--sampler", "ddim", "--steps", "3",
            "--num-samples", "6", "--batch-size", "2", "--seed", "1", "--out", str(out),
            "--grid", str(out.with_suffix(".png")), "--device", "cpu", "--no-progress"])
        return result.exit_code, result.output

    reference = tmp_path / "ref.npz"
    assert sample(reference)[0] == 0
    out = tmp_path / "s.npz"
    with monkeypatch.context() as m:  # DDIM 3 steps: network calls 1-3 draw samples 0-1
        signal_during_step(m, Network, "forward", 5, signum)
        code, said = sample(out)
    assert code == EXIT_INTERRUPTED, said
    assert f"{out}: stopped by {signum.name} with 2 of 6 samples drawn" in said
    parts = Path(f"{out}.parts")
    assert sorted(p.name for p in parts.glob("chunk_*")) == ["chunk_0000000_0000002.npz"]
    assert not out.exists()
    kept = np.load(parts / "chunk_0000000_0000002.npz")["images"]
    assert sample(out)[0] == 0
    np.testing.assert_array_equal(np.load(out)["arr_0"], np.load(reference)["arr_0"])
    np.testing.assert_array_equal(np.load(out)["arr_0"][:2], kept)
