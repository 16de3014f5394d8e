"""`harness sample`: per-sample seeds, resumable chunks, output format, refusals, divergence."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from harness.checkpoint import save_checkpoint
from harness.cli import main
from harness.models import create_model
from harness.sampling import SampleRequest, respacing, sample, to_uint8
from harness.sampling.chunks import ChunkStore, batches_of
from harness.training.status import write_status

TINY = {"image_size": 16, "num_channels": 32, "num_res_blocks": 1, "channel_mult": "1,2",
        "attention_resolutions": "", "learn_sigma": True}


def make_checkpoint(path: Path, target: str = "eps", class_cond: bool = False,
                    step: int = 10, **model_overrides) -> Path:
    """A harness checkpoint of a tiny randomly initialised UNet (no training needed)."""
    config = dict(TINY, class_cond=class_cond, num_classes=3, **model_overrides)
    torch.manual_seed(0)
    model = create_model(**config)
    diffusion = {"steps": 1000, "noise_schedule": "linear", "learn_sigma": config["learn_sigma"],
                 "target": target, "weighting": "constant"}
    save_checkpoint(path, model.state_dict(), config, diffusion, step=step, ema_rate=0.9999)
    return path


def run_sample(tmp_path: Path, ckpt: Path, name: str, **kw) -> tuple[np.lib.npyio.NpzFile, dict]:
    args = {"checkpoint": str(ckpt), "sampler": "ddpm", "steps": 4, "num_samples": 10,
            "batch_size": 8, "seed": 7, "out": str(tmp_path / f"{name}.npz"),
            "grid": str(tmp_path / f"{name}.png"), "progress": False, "device": "cpu"}
    args.update(kw)
    meta = sample(SampleRequest(**args))
    return np.load(args["out"]), meta


def test_quantisation_rounds_and_clamps():
    x = torch.tensor([-2.0, -1.0, -0.999, 0.0, 0.9999, 1.0, 3.0]).view(1, 1, 1, 7)
    x = x.expand(1, 3, 1, 7)
    out = to_uint8(x)
    assert out.dtype == np.uint8 and out.shape == (1, 1, 7, 3)
    assert out[0, 0, :, 0].tolist() == [0, 0, 0, 128, 255, 255, 255]


def test_respacing_follows_adm():
    assert respacing("ddpm", 100) == "100"
    assert respacing("ddim", 50) == "ddim50"


def test_batches_of_splits_contiguous_runs():
    assert batches_of([0, 1, 2, 3, 4], 2) == [range(0, 2), range(2, 4), range(4, 5)]
    assert batches_of([0, 1, 5, 6, 7], 8) == [range(0, 2), range(5, 8)]
    assert batches_of([], 4) == []


def test_npz_format_grid_and_meta(tmp_path):
    ckpt = make_checkpoint(tmp_path / "ema_0.9999_000010.pt")
    z, meta = run_sample(tmp_path, ckpt, "a")
    assert z["arr_0"].shape == (10, 16, 16, 3) and z["arr_0"].dtype == np.uint8
    assert "arr_1" not in z.files
    stored = json.loads(str(z["meta"]))
    assert stored == json.loads(json.dumps(meta))
    for key in ("checkpoint", "iteration", "ema_rate", "sampler", "steps", "eta", "seed",
                "num_samples", "status", "model_config", "diffusion_config", "wall_time_s",
                "device"):
        assert key in stored, key
    assert stored["status"] == "ok" and stored["iteration"] == 10
    assert stored["diffusion_config"]["timestep_respacing"] == "4"
    assert (tmp_path / "a.png").stat().st_size > 0
    assert not (tmp_path / "a.npz.parts").exists()


def test_sample_i_is_independent_of_batch_size(tmp_path):
    ckpt = make_checkpoint(tmp_path / "ema.pt")
    a, _ = run_sample(tmp_path, ckpt, "b8", batch_size=8, num_samples=34, steps=3)
    b, _ = run_sample(tmp_path, ckpt, "b32", batch_size=32, num_samples=34, steps=3)
    np.testing.assert_array_equal(a["arr_0"], b["arr_0"])
    c, _ = run_sample(tmp_path, ckpt, "first10", batch_size=3, num_samples=10, steps=3)
    np.testing.assert_array_equal(a["arr_0"][:10], c["arr_0"])
    d, _ = run_sample(tmp_path, ckpt, "seed", batch_size=8, num_samples=10, steps=3, seed=8)
    assert not np.array_equal(a["arr_0"][:10], d["arr_0"])


@pytest.mark.parametrize("sampler,steps", [("ddpm", 2), ("ddpm", 5), ("ddim", 2), ("ddim", 5)])
def test_samplers_at_several_step_counts(tmp_path, sampler, steps):
    ckpt = make_checkpoint(tmp_path / "ema.pt")
    z, meta = run_sample(tmp_path, ckpt, "s", sampler=sampler, steps=steps, num_samples=3)
    assert z["arr_0"].shape == (3, 16, 16, 3)
    assert meta["diffusion_config"]["timestep_respacing"] == respacing(sampler, steps)


def test_ddim_eta_changes_samples(tmp_path):
    ckpt = make_checkpoint(tmp_path / "ema.pt")
    a, _ = run_sample(tmp_path, ckpt, "e0", sampler="ddim", steps=3, num_samples=2, eta=0.0)
    b, _ = run_sample(tmp_path, ckpt, "e1", sampler="ddim", steps=3, num_samples=2, eta=1.0)
    assert not np.array_equal(a["arr_0"], b["arr_0"])


def test_class_conditional_labels_are_per_sample(tmp_path):
    ckpt = make_checkpoint(tmp_path / "ema.pt", class_cond=True)
    a, _ = run_sample(tmp_path, ckpt, "a", num_samples=12, batch_size=5, steps=2)
    b, _ = run_sample(tmp_path, ckpt, "b", num_samples=12, batch_size=12, steps=2)
    assert a["arr_1"].dtype == np.int64 and a["arr_1"].shape == (12,)
    assert set(a["arr_1"].tolist()) <= {0, 1, 2} and len(set(a["arr_1"].tolist())) > 1
    np.testing.assert_array_equal(a["arr_1"], b["arr_1"])
    np.testing.assert_array_equal(a["arr_0"], b["arr_0"])


def test_resume_from_chunks_gives_identical_npz(tmp_path, monkeypatch):
    """Chunks of an interrupted run are reused (with another batch size); chunks of another
    request are discarded."""
    ckpt = make_checkpoint(tmp_path / "ema.pt")
    full, _ = run_sample(tmp_path, ckpt, "full", num_samples=10, batch_size=4, steps=3)
    # A stale chunk of another request sits in the folder: it must not be merged in.
    ChunkStore(tmp_path / "part.npz", {"other": "request"}).write(
        0, np.zeros((2, 16, 16, 3), np.uint8), None, 0.0, "cpu")
    original = ChunkStore.write
    calls = []

    def write_then_die(self, *args, **kwargs):
        if calls:
            raise KeyboardInterrupt("interrupted")
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ChunkStore, "write", write_then_die)
    with pytest.raises(KeyboardInterrupt):
        run_sample(tmp_path, ckpt, "part", num_samples=10, batch_size=4, steps=3)
    monkeypatch.setattr(ChunkStore, "write", original)
    chunks = sorted(p.name for p in (tmp_path / "part.npz.parts").glob("chunk_*"))
    assert chunks == ["chunk_0000000_0000004.npz"] and not (tmp_path / "part.npz").exists()
    resumed, meta = run_sample(tmp_path, ckpt, "part", num_samples=10, batch_size=3, steps=3)
    np.testing.assert_array_equal(resumed["arr_0"], full["arr_0"])
    assert meta["num_samples"] == 10


# The sampler kills itself with SIGKILL at a fixed point (no race with a watcher, however
# loaded the machine): while writing its second chunk (a partial temporary is left).
KILLER = """
import os, signal
from harness.runtime import atomic_target
from harness.sampling.chunks import ChunkStore
original = ChunkStore.write
def write(self, start, *args):
    if start == 2:
        with atomic_target(self.dir / "chunk_0000002_0000004.npz") as tmp:
            tmp.write_bytes(b"half a chunk")
            os.kill(os.getpid(), signal.SIGKILL)
    original(self, start, *args)
ChunkStore.write = write
from harness.cli import main
main()
"""


@pytest.mark.slow
def test_sigkill_and_rerun_gives_identical_npz(tmp_path):
    """Kill `harness sample` while it writes its second chunk, rerun, compare."""
    ckpt = make_checkpoint(tmp_path / "ema.pt")
    reference, _ = run_sample(tmp_path, ckpt, "ref", num_samples=8, batch_size=2, steps=12)
    out = tmp_path / "killed.npz"
    args = ["sample", "--checkpoint", str(ckpt), "--sampler", "ddpm", "--steps", "12",
            "--num-samples", "8", "--batch-size", "2", "--seed", "7", "--out", str(out),
            "--grid", str(tmp_path / "k.png"), "--device", "cpu", "--no-progress"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    killed = subprocess.run([sys.executable, "-c", KILLER, *args], env=env, capture_output=True)
    assert killed.returncode == -signal.SIGKILL
    parts = tmp_path / "killed.npz.parts"
    assert not out.exists()
    assert sorted(p.name for p in parts.glob("chunk_*")) == ["chunk_0000000_0000002.npz"]
    assert len(list(parts.glob(".chunk_0000002_0000004.npz.*.harness-tmp"))) == 1
    done = subprocess.run([sys.executable, "-m", "harness.cli", *args], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    z = np.load(out)
    np.testing.assert_array_equal(z["arr_0"], reference["arr_0"])
    assert json.loads(str(z["meta"]))["num_samples"] == 8
    assert not parts.exists()


def test_refuses_other_target_or_architecture(tmp_path):
    ckpt = make_checkpoint(tmp_path / "ema.pt", target="eps")
    with pytest.raises(ValueError, match="target: checkpoint has 'eps', asked for 'x0'"):
        run_sample(tmp_path, ckpt, "t", expect_diffusion={"target": "x0"})
    with pytest.raises(ValueError, match="learn_sigma"):
        run_sample(tmp_path, ckpt, "t", expect_diffusion={"learn_sigma": False})
    other = dict(TINY, num_channels=64)
    with pytest.raises(ValueError, match="num_channels: checkpoint has 32, asked for 64"):
        run_sample(tmp_path, ckpt, "t", model_config=other)
    assert not (tmp_path / "t.npz").exists() and not (tmp_path / "t.npz.parts").exists()
    result = CliRunner().invoke(main, [
        "sample", "--checkpoint", str(ckpt), "--sampler", "ddpm", "--steps", "2",
        "--num-samples", "2", "--out", str(tmp_path / "c.npz"), "--grid",
        str(tmp_path / "c.png"), "--target", "v"])
    assert result.exit_code != 0 and "asked for 'v'" in result.output


def test_plain_state_dict_needs_a_config(tmp_path):
    model = create_model(**TINY)
    torch.save(model.state_dict(), tmp_path / "plain.pt")
    with pytest.raises(ValueError, match="model config"):
        run_sample(tmp_path, tmp_path / "plain.pt", "p")
    config = {"model_config": TINY, "diffusion_config": {"learn_sigma": True, "target": "eps"}}
    z, meta = run_sample(tmp_path, tmp_path / "plain.pt", "p", steps=2, num_samples=2,
                         model_config=config["model_config"],
                         diffusion_config=config["diffusion_config"])
    assert z["arr_0"].shape == (2, 16, 16, 3) and meta["iteration"] is None


def test_diverged_run_propagates(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"model_config": dict(TINY, class_cond=True)}))
    write_status(run, "diverged", 12, "diverged at step 12")
    result = CliRunner().invoke(main, [
        "sample", "--checkpoint", str(run / "ema_0.9999_000200.pt"), "--sampler", "ddim",
        "--steps", "5", "--num-samples", "4", "--out", str(tmp_path / "d.npz"),
        "--grid", str(tmp_path / "d.png"), "--no-progress"])
    assert result.exit_code == 0, result.output
    z = np.load(tmp_path / "d.npz")
    assert z["arr_0"].shape == (0, 16, 16, 3) and z["arr_1"].shape == (0,)
    assert json.loads(str(z["meta"]))["status"] == "diverged at step 12"
    assert (tmp_path / "d.png").stat().st_size > 0


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        run_sample(tmp_path, tmp_path / "nope.pt", "m")


@pytest.mark.slow
def test_torchrun_two_processes_give_the_same_samples(tmp_path):
    torchrun = Path(sys.executable).parent / "torchrun"
    if not torchrun.exists():
        pytest.skip("torchrun not installed beside this Python")
    ckpt = make_checkpoint(tmp_path / "ema.pt", class_cond=True)
    single, _ = run_sample(tmp_path, ckpt, "one", num_samples=7, batch_size=2, steps=3)
    out = tmp_path / "two.npz"
    cmd = [str(torchrun), "--standalone", "--nproc_per_node", "2", "--no-python",
           str(Path(sys.executable).parent / "harness"), "sample", "--checkpoint", str(ckpt),
           "--sampler", "ddpm", "--steps", "3", "--num-samples", "7", "--batch-size", "2",
           "--seed", "7", "--out", str(out), "--grid", str(tmp_path / "two.png"),
           "--device", "cpu", "--no-progress"]
    done = subprocess.run(cmd, env=dict(os.environ, OMP_NUM_THREADS="1"), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    z = np.load(out)
    np.testing.assert_array_equal(z["arr_0"], single["arr_0"])
    np.testing.assert_array_equal(z["arr_1"], single["arr_1"])
    assert json.loads(str(z["meta"]))["ranks"] == 2
