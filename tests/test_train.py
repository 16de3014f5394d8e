"""`harness train` end to end on a tiny UNet: outputs, resume (bitwise), divergence, refusals."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from harness.checkpoint import divergence_of, load_checkpoint, load_model
from harness.cli import main
from harness.sampling import SampleRequest, sample
from harness.training import TrainConfig, train

TINY = ["--image-size", "16", "--num-channels", "32", "--num-res-blocks", "1",
        "--channel-mult", "1,2", "--attention-resolutions", "", "--batch-size", "4",
        "--lr", "1e-3", "--device", "cpu", "--no-progress"]  # fmt: skip


def make_images(folder: Path, count: int = 12, labelled: bool = False, seed: int = 0) -> Path:
    """`count` 16 px PNGs: a random background colour with a square in the opposite colour;
    with `labelled`, ADM-style `{label}_{i}.png` names for 3 classes."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    for i in range(count):
        colour = rng.integers(0, 256, 3)
        arr = np.tile(colour, (16, 16, 1)).astype(np.uint8)
        arr[4:12, 4:12] = 255 - colour
        name = f"{i % 3}_{i:04d}.png" if labelled else f"{i:04d}.png"
        Image.fromarray(arr).save(folder / name)
    return folder


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["train", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def tensors_equal(a: dict, b: dict) -> bool:
    """Bitwise equality of nested dicts/lists of tensors and plain values."""
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(tensors_equal(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(tensors_equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def test_tiny_run_writes_everything(tmp_path):
    data = make_images(tmp_path / "data")
    run = tmp_path / "run"
    code, out = run_cli("--data", str(data), "--run-dir", str(run), "--max-steps", "8",
                        "--save-every", "3", "--eval-iterations", "4,8", "--log-every", "4",
                        *TINY)
    assert code == 0, out
    names = sorted(p.name for p in run.iterdir())
    assert names == [".lock", "config.json", "ema_0.9999_000004.pt", "ema_0.9999_000008.pt",
                     "log.csv", "status.json", "train_state_0000006.pt", "train_state_0000008.pt"]
    assert json.loads((run / "status.json").read_text()) == {"status": "completed", "step": 8}
    recorded = json.loads((run / "config.json").read_text())
    assert recorded["options"]["max_steps"] == 8 and recorded["model_config"]["num_channels"] == 32
    with (run / "log.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["step"] for r in rows] == ["4", "8"]
    assert all(np.isfinite(float(r["loss"])) and float(r["vb"]) >= 0 for r in rows)
    assert set(rows[0]) >= {"loss_q0", "loss_q1", "loss_q2", "loss_q3", "lr", "samples_per_s"}
    ckpt = load_checkpoint(run / "ema_0.9999_000008.pt", expect_diffusion={"target": "eps"})
    assert ckpt.meta == {"step": 8, "ema_rate": 0.9999, "compiled_steps": 0}  # eager
    assert ckpt.diffusion_config["learn_sigma"] is True
    model, _ = load_model(run / "ema_0.9999_000008.pt")
    state = torch.load(run / "train_state_0000008.pt", weights_only=True)
    # EMA at 0.9999 after 8 steps sits next to the initial weights, away from the model's.
    differs = [not torch.equal(state["model"][k], v) for k, v in model.state_dict().items()]
    assert any(differs)
    # A rerun of a completed run does nothing and says so.
    code, out = run_cli("--data", str(data), "--run-dir", str(run), "--max-steps", "8",
                        "--save-every", "3", "--eval-iterations", "4,8", "--log-every", "4",
                        *TINY)
    assert code == 0 and "completed" in out


def test_rerun_with_other_options_names_them(tmp_path):
    data = make_images(tmp_path / "data")
    run = tmp_path / "run"
    base = ["--data", str(data), "--run-dir", str(run), "--max-steps", "2", *TINY]
    assert run_cli(*base)[0] == 0
    code, out = run_cli(*base, "--target", "v", "--seed", "4")
    assert code != 0
    assert "target: run has 'eps', asked for 'v'" in out and "seed: run has 0, asked for 4" in out


def test_resume_and_train_on_equals_one_run(tmp_path):
    """8 steps, then on to 12 (a schedule option) == 12 steps at once, bitwise."""
    data = make_images(tmp_path / "data")
    common = {"data": str(data), "image_size": 16, "num_channels": 32, "num_res_blocks": 1,
              "channel_mult": "1,2", "attention_resolutions": "", "batch_size": 4,
              "lr": 1e-3, "device": "cpu", "progress": False, "save_every": 4,
              "eval_iterations": (12,), "dropout": 0.1, "ema_rate": "0.9,0.9999"}
    train(TrainConfig(run_dir=str(tmp_path / "a"), max_steps=12, **common))
    assert train(TrainConfig(run_dir=str(tmp_path / "b"), max_steps=8,
                             **{**common, "eval_iterations": ()}))["step"] == 8
    train(TrainConfig(run_dir=str(tmp_path / "b"), max_steps=12, **common))
    for name in ("ema_0.9_000012.pt", "ema_0.9999_000012.pt"):
        a = load_checkpoint(tmp_path / "a" / name).state_dict
        b = load_checkpoint(tmp_path / "b" / name).state_dict
        assert tensors_equal(a, b), name
    sa = torch.load(tmp_path / "a" / "train_state_0000012.pt", weights_only=True)
    sb = torch.load(tmp_path / "b" / "train_state_0000012.pt", weights_only=True)
    for key in ("model", "ema", "optimizer"):
        assert tensors_equal(sa[key], sb[key]), key
    with (tmp_path / "b" / "log.csv").open() as f:  # a window restarts at a resume
        assert [r["step"] for r in csv.DictReader(f)] == ["8", "10", "12"]


def test_forced_non_finite_loss_ends_as_diverged_and_sampling_propagates(tmp_path):
    data = make_images(tmp_path / "data")
    run = tmp_path / "run"
    code, out = run_cli("--data", str(data), "--run-dir", str(run), "--max-steps", "10",
                        "--save-every", "2", "--eval-iterations", "2,10", "--fail-at-step", "5",
                        *TINY)
    assert code == 0, out
    assert "diverged at step 5" in out
    status = json.loads((run / "status.json").read_text())
    assert status == {"status": "diverged", "step": 5, "message": "diverged at step 5"}
    # Iteration 10 was never reached: a divergence record stands in for its checkpoint.
    assert divergence_of(run / "ema_0.9999_000010.pt") == "diverged at step 5"
    assert divergence_of(run / "ema_0.9999_000002.pt") is None
    assert (run / "train_state_0000004.pt").exists()
    # Rerunning a diverged run keeps its verdict.
    assert "diverged at step 5" in run_cli("--data", str(data), "--run-dir", str(run),
                                           "--max-steps", "10", "--save-every", "2",
                                           "--eval-iterations", "2,10", "--fail-at-step", "5",
                                           *TINY)[1]
    meta = sample(SampleRequest(checkpoint=str(run / "ema_0.9999_000010.pt"), sampler="ddpm",
                                steps=5, num_samples=4, batch_size=4, seed=0,
                                out=str(tmp_path / "s.npz"), grid=str(tmp_path / "s.png"),
                                progress=False))
    assert meta["status"] == "diverged at step 5"
    assert np.load(tmp_path / "s.npz")["arr_0"].shape == (0, 16, 16, 3)


def test_bad_inputs_fail_before_anything_is_written(tmp_path):
    unlabelled = make_images(tmp_path / "plain")
    run = tmp_path / "run"
    code, out = run_cli("--data", str(unlabelled), "--run-dir", str(run), "--max-steps", "2",
                        "--class-cond", "--num-classes", "3", *TINY)
    assert code != 0 and "labels" in out and not run.exists()
    code, out = run_cli("--data", str(tmp_path / "missing"), "--run-dir", str(run),
                        "--max-steps", "2", *TINY)
    assert code != 0 and "missing" in out and not run.exists()
    code, out = run_cli("--data", str(unlabelled), "--run-dir", str(run), "--max-steps", "2",
                        "--precision", "fp16", *TINY)
    assert code != 0 and "fp16" in out and not run.exists()
    code, out = run_cli("--data", str(unlabelled), "--run-dir", str(run), "--max-steps", "2",
                        "--batch-size", "64", *[a for a in TINY if a not in ("--batch-size",
                                                                             "4")])
    assert code != 0 and "batch size" in out


def test_class_conditional_run_and_sampling(tmp_path):
    data = make_images(tmp_path / "data", labelled=True)
    run = tmp_path / "run"
    code, out = run_cli("--data", str(data), "--run-dir", str(run), "--max-steps", "3",
                        "--eval-iterations", "3", "--class-cond", "--num-classes", "3",
                        "--target", "v", "--weighting", "debias", *TINY)
    assert code == 0, out
    meta = sample(SampleRequest(checkpoint=str(run / "ema_0.9999_000003.pt"), sampler="ddim",
                                steps=3, num_samples=5, batch_size=2, seed=0,
                                out=str(tmp_path / "s.npz"), grid=str(tmp_path / "s.png"),
                                expect_diffusion={"target": "v"}, progress=False))
    z = np.load(tmp_path / "s.npz")
    assert meta["status"] == "ok" and z["arr_1"].shape == (5,) and z["arr_0"].shape[0] == 5


def _train_cmd(data: Path, run: Path, steps: int) -> list[str]:
    return [sys.executable, "-c", "from harness.cli import main; main()", "train",
            "--data", str(data), "--run-dir", str(run), "--max-steps", str(steps),
            "--save-every", "5", "--eval-iterations", str(steps), *TINY]


# The process kills itself with SIGKILL at a fixed point of the run (no race with a watcher,
# however loaded the machine): while writing the state of step 10 (a partial temporary is
# left) or right after it was renamed into place.
KILLER = """
import os, signal, sys
from harness.runtime import atomic_target
import harness.training.state as state
original, when = state.save_torch_atomic, sys.argv.pop(1)
def save(path, payload):
    if payload["step"] == 10 and when == "during":
        with atomic_target(path) as tmp, open(tmp, "wb") as f:
            f.write(b"half a state")
            f.flush()
            os.kill(os.getpid(), signal.SIGKILL)
    original(path, payload)
    if payload["step"] == 10:
        os.kill(os.getpid(), signal.SIGKILL)
state.save_torch_atomic = save
from harness.cli import main
main()
"""


@pytest.mark.slow
@pytest.mark.parametrize("when", ["during", "after"])
def test_sigkill_mid_run_then_rerun_is_bitwise_equal(tmp_path, when):
    data = make_images(tmp_path / "data")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    steps = 30
    whole = subprocess.run(_train_cmd(data, tmp_path / "whole", steps), env=env,
                           capture_output=True, text=True)
    assert whole.returncode == 0, whole.stderr
    run = tmp_path / "killed"
    killed = subprocess.run([sys.executable, "-c", KILLER, when,
                             *_train_cmd(data, run, steps)[3:]], env=env, capture_output=True)
    assert killed.returncode == -signal.SIGKILL
    assert not (run / "status.json").exists()
    assert (run / "train_state_0000010.pt").exists() == (when == "after")
    partial = list(run.glob(".train_state_0000010.pt.*.harness-tmp"))
    assert len(partial) == (when == "during")
    again = subprocess.run(_train_cmd(data, run, steps), env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert not list(run.glob("*.harness-tmp")) and not list(run.glob(".*.harness-tmp"))
    name = f"ema_0.9999_{steps:06d}.pt"
    assert tensors_equal(load_checkpoint(tmp_path / "whole" / name).state_dict,
                         load_checkpoint(run / name).state_dict)
    final = f"train_state_{steps:07d}.pt"
    sa = torch.load(tmp_path / "whole" / final, weights_only=True)
    sb = torch.load(run / final, weights_only=True)
    for key in ("model", "ema", "optimizer"):
        assert tensors_equal(sa[key], sb[key]), key


@pytest.mark.slow
def test_a_few_hundred_steps_then_sampling(tmp_path):
    """The acceptance run: 200 steps of the tiny config, then ddpm and ddim samples."""
    data = make_images(tmp_path / "data", count=32)
    run = tmp_path / "run"
    began = time.perf_counter()
    code, out = run_cli("--data", str(data), "--run-dir", str(run), "--max-steps", "200",
                        "--save-every", "100", "--eval-iterations", "200", "--log-every", "50",
                        *[a if a != "4" else "8" for a in TINY])
    seconds = time.perf_counter() - began
    assert code == 0, out
    print(f"200 steps of the tiny config (batch 8, 16 px): {seconds:.1f} s")
    with (run / "log.csv").open() as f:
        losses = [float(r["loss"]) for r in csv.DictReader(f)]
    assert losses[-1] < losses[0]
    for sampler in ("ddpm", "ddim"):
        for steps in (5, 25):
            meta = sample(SampleRequest(checkpoint=str(run / "ema_0.9999_000200.pt"),
                                        sampler=sampler, steps=steps, num_samples=8,
                                        batch_size=8, seed=0, out=str(tmp_path / "s.npz"),
                                        grid=str(tmp_path / "s.png"), progress=False))
            assert meta["num_samples"] == 8 and meta["status"] == "ok"


@pytest.mark.slow
def test_torchrun_two_cpu_processes(tmp_path):
    """Data parallel on CPU (Gloo): rank 0 writes; a 1-process rerun is refused by name."""
    torchrun = Path(sys.executable).parent / "torchrun"
    if not torchrun.exists():
        pytest.skip("torchrun not installed beside this Python")
    data = make_images(tmp_path / "data")
    run = tmp_path / "run"
    cmd = [str(torchrun), "--standalone", "--nproc_per_node", "2", "--no-python",
           str(Path(sys.executable).parent / "harness"), "train", "--data", str(data),
           "--run-dir", str(run), "--max-steps", "4", "--eval-iterations", "4", *TINY]
    done = subprocess.run(cmd, env=dict(os.environ, OMP_NUM_THREADS="1"), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads((run / "status.json").read_text())["status"] == "completed"
    assert json.loads((run / "config.json").read_text())["options"]["world_size"] == 2
    assert (run / "ema_0.9999_000004.pt").exists()
    code, out = run_cli("--data", str(data), "--run-dir", str(run), "--max-steps", "6",
                        "--eval-iterations", "4", *TINY)
    assert code != 0 and "world_size: run has 2, asked for 1" in out


def test_eval_iterations_added_after_the_fact_are_reported(tmp_path):
    data = make_images(tmp_path / "data")
    common = {"data": str(data), "run_dir": str(tmp_path / "run"), "image_size": 16,
              "num_channels": 32, "num_res_blocks": 1, "channel_mult": "1,2",
              "attention_resolutions": "", "batch_size": 4, "device": "cpu", "progress": False,
              "max_steps": 2}
    train(TrainConfig(**common, eval_iterations=(2,)))
    with pytest.warns(UserWarning, match=r"iterations \[1\] were not written"):
        status = train(TrainConfig(**common, eval_iterations=(1, 2)))
    assert status["status"] == "completed"


def test_loader_workers_do_not_change_the_run(tmp_path):
    data = make_images(tmp_path / "data")
    common = {"data": str(data), "image_size": 16, "num_channels": 32, "num_res_blocks": 1,
              "channel_mult": "1,2", "attention_resolutions": "", "batch_size": 4,
              "device": "cpu", "progress": False, "max_steps": 3, "cache_data": "no"}
    train(TrainConfig(run_dir=str(tmp_path / "w0"), num_workers=0, **common))
    train(TrainConfig(run_dir=str(tmp_path / "w2"), num_workers=2, **common))
    a = torch.load(tmp_path / "w0" / "train_state_0000003.pt", weights_only=True)
    b = torch.load(tmp_path / "w2" / "train_state_0000003.pt", weights_only=True)
    assert tensors_equal(a["model"], b["model"]) and tensors_equal(a["ema"], b["ema"])


def test_iteration_zero_is_the_initial_weights(tmp_path):
    """EMA checkpoint 0 holds the seed's initial weights, whatever the weighting; resuming
    leaves it alone, and a lost one is rebuilt from the seed."""
    data = make_images(tmp_path / "data")
    common = {"data": str(data), "image_size": 16, "num_channels": 32, "num_res_blocks": 1,
              "channel_mult": "1,2", "attention_resolutions": "", "batch_size": 4,
              "ema_rate": "0.9", "device": "cpu", "progress": False, "seed": 3,
              "eval_iterations": (0, 2)}
    train(TrainConfig(run_dir=str(tmp_path / "c"), max_steps=2, weighting="constant", **common))
    train(TrainConfig(run_dir=str(tmp_path / "d"), max_steps=2, weighting="debias", **common))
    init_c = load_checkpoint(tmp_path / "c" / "ema_0.9_000000.pt")
    init_d = load_checkpoint(tmp_path / "d" / "ema_0.9_000000.pt")
    trained = load_checkpoint(tmp_path / "c" / "ema_0.9_000002.pt")
    assert init_c.meta["step"] == 0 and tensors_equal(init_c.state_dict, init_d.state_dict)
    assert not tensors_equal(init_c.state_dict, trained.state_dict)
    before = (tmp_path / "c" / "ema_0.9_000000.pt").stat().st_mtime_ns
    train(TrainConfig(run_dir=str(tmp_path / "c"), max_steps=3, weighting="constant", **common))
    assert (tmp_path / "c" / "ema_0.9_000000.pt").stat().st_mtime_ns == before
    # A job of zero steps writes only the initial checkpoint (the workflow's job for
    # iteration 0); the run then trains on from scratch to the same weights.
    zero = TrainConfig(run_dir=str(tmp_path / "z"), max_steps=0, weighting="constant",
                       **{**common, "eval_iterations": (0,)})
    assert train(zero) == {"status": "completed", "step": 0}
    assert sorted(p.name for p in (tmp_path / "z").glob("*.pt")) == ["ema_0.9_000000.pt"]
    train(TrainConfig(run_dir=str(tmp_path / "z"), max_steps=2, weighting="constant", **common))
    assert tensors_equal(load_checkpoint(tmp_path / "z" / "ema_0.9_000002.pt").state_dict,
                         trained.state_dict)
    # Lost (e.g. a killed job's outputs deleted by the scheduler): rebuilt from the seed alone.
    (tmp_path / "c" / "ema_0.9_000000.pt").unlink()
    train(TrainConfig(run_dir=str(tmp_path / "c"), max_steps=4, weighting="constant", **common))
    again = load_checkpoint(tmp_path / "c" / "ema_0.9_000000.pt")
    assert again.meta["step"] == 0 and tensors_equal(again.state_dict, init_c.state_dict)
