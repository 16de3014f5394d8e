"""Faults of runs and outputs on tiny models: options refused before a run directory exists,
size mismatches, unreadable training states, locks, corrupt chunks, foreign files left alone,
pinned weights files and config values that JSON schema alone would let through."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from harness import workflow as wp
from harness.checkpoint import save_checkpoint
from harness.cli import main
from harness.models import create_model
from harness.runtime import RunLock, output_lock
from harness.sampling import SampleRequest, sample
from harness.sampling.chunks import ChunkStore
from harness.training import TrainConfig

MODEL = {"image_size": 16, "num_channels": 32, "num_res_blocks": 1, "channel_mult": "1,2",
         "attention_resolutions": "", "learn_sigma": True}
TINY = ["--num-channels", "32", "--num-res-blocks", "1", "--channel-mult", "1,2",
        "--attention-resolutions", "", "--batch-size", "4", "--lr", "1e-3", "--device", "cpu",
        "--no-progress"]


def make_images(folder: Path, size: int = 16, count: int = 8) -> Path:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for i in range(count):
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(
            folder / f"{i:04d}.png")
    return folder


def train_cli(data: Path, run: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["train", "--data", str(data), "--run-dir", str(run),
                                       *TINY, *args])  # the last value of an option counts
    assert isinstance(result.exception, SystemExit | None), result.exception
    return result.exit_code, result.output


def make_checkpoint(path: Path, nan: bool = False) -> Path:
    torch.manual_seed(0)
    state = create_model(**MODEL).state_dict()
    if nan:
        state = {k: torch.full_like(v, float("nan")) if v.is_floating_point() else v
                 for k, v in state.items()}
    save_checkpoint(path, state, MODEL, {"steps": 1000, "learn_sigma": True, "target": "eps"},
                    step=4)
    return path


def sample_request(ckpt: Path, out: Path, **kw) -> SampleRequest:
    args = {"checkpoint": str(ckpt), "sampler": "ddim", "steps": 3, "num_samples": 6,
            "batch_size": 2, "seed": 1, "out": str(out), "grid": str(out.with_suffix(".png")),
            "device": "cpu", "progress": False, **kw}
    return SampleRequest(**args)


# --------------------------------------------------------------------------- training
def test_refused_options_leave_no_run_directory_and_the_fix_then_runs(tmp_path):
    data = make_images(tmp_path / "data")
    run = tmp_path / "run"
    for bad in (["--num-channels", "16"], ["--lr", "nan"], ["--dropout", "nan"],
                ["--weighting", "p2", "--p2-gamma", "inf"], ["--weighting", "p2", "--p2-k", "0"],
                ["--attention-resolutions", "8", "--num-head-channels", "7"],
                ["--channel-mult", "1,1,1,1,1,1"], ["--grad-clip", "-1"]):
        code, out = train_cli(data, run, "--image-size", "16", "--max-steps", "2", *bad)
        assert code != 0 and "Error:" in out, bad
        assert not run.exists(), bad
    code, out = train_cli(data, run, "--image-size", "16", "--max-steps", "2")
    assert code == 0 and "completed" in out, out
    for field, value in (("lr", float("nan")), ("p2_gamma", float("inf")), ("dropout", 1.0),
                         ("min_snr_gamma", 0.0), ("seed", -1), ("num_workers", -2)):
        with pytest.raises(ValueError, match=field):
            TrainConfig(data=str(data), run_dir=str(run), image_size=16, max_steps=2,
                        **{field: value})


def test_a_folder_of_other_files_is_never_used_as_a_run_directory(tmp_path):
    data = make_images(tmp_path / "data")
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "log.csv").write_text("their log")
    code, out = train_cli(data, theirs, "--image-size", "16", "--max-steps", "2")
    assert code == 1 and "not a run directory" in out and "log.csv" in out
    assert sorted(p.name for p in theirs.iterdir()) == ["log.csv"]
    assert (theirs / "log.csv").read_text() == "their log"
    (tmp_path / "file").write_text("x")
    code, out = train_cli(data, tmp_path / "file", "--image-size", "16", "--max-steps", "2")
    assert code == 1 and "is a file, not a folder" in out


def test_data_of_another_resolution_is_refused_by_train_and_analyze(tmp_path):
    data16 = make_images(tmp_path / "d16")
    code, out = train_cli(data16, tmp_path / "run", "--image-size", "32", "--max-steps", "2")
    assert code == 1 and "holds 16 px images" in out and "--image-size is 32" in out
    assert not (tmp_path / "run").exists()
    ckpt = make_checkpoint(tmp_path / "ema.pt")
    data32 = make_images(tmp_path / "d32", size=32)
    result = CliRunner().invoke(main, ["analyze", "--checkpoint", str(ckpt), "--data",
                                       str(data32), "--out-mse", str(tmp_path / "m.json"),
                                       "--out-x0", str(tmp_path / "x.npz"), "--device", "cpu"])
    assert result.exit_code == 1 and "holds 32 px images" in result.output
    assert "image_size of" in result.output and not (tmp_path / "m.json").exists()


def test_unreadable_states_stop_the_run_and_restart_moves_them_aside(tmp_path):
    data = make_images(tmp_path / "data")
    run = tmp_path / "run"
    args = ["--image-size", "16", "--save-every", "2", "--eval-iterations", "4"]
    assert train_cli(data, run, *args, "--max-steps", "4")[0] == 0
    (run / "train_state_0000002.pt").write_bytes(b"garbage")
    newest = run / "train_state_0000004.pt"
    newest.write_bytes(newest.read_bytes()[:1000])  # truncated
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    code, out = train_cli(data, run, *args, "--max-steps", "6")
    assert code == 1
    assert "train_state_0000004.pt" in out and "train_state_0000002.pt" in out
    assert "none is readable" in out and "--restart" in out
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before

    code, out = train_cli(data, run, *args, "--max-steps", "6", "--restart")
    assert code == 0 and "completed" in out, out
    (aside,) = run.glob("set-aside-*")
    kept = {p.name: p.read_bytes() for p in aside.iterdir()}
    assert set(kept) == {"train_state_0000002.pt", "train_state_0000004.pt", "log.csv",
                         "status.json", "ema_0.9999_000004.pt"}
    assert all(kept[name] == before[name] for name in kept)
    assert (run / "ema_0.9999_000004.pt").exists() and (run / "train_state_0000006.pt").exists()


def test_a_state_of_another_run_is_named(tmp_path):
    data = make_images(tmp_path / "data")
    for run, extra in (("a", []), ("b", ["--no-learn-sigma"])):
        code, _ = train_cli(data, tmp_path / run, "--image-size", "16", "--max-steps", "2",
                            "--save-every", "2", *extra)
        assert code == 0
    copied = tmp_path / "b" / "train_state_0000002.pt"
    copied.write_bytes((tmp_path / "a" / "train_state_0000002.pt").read_bytes())
    code, out = train_cli(data, tmp_path / "b", "--image-size", "16", "--max-steps", "4",
                          "--no-learn-sigma")
    assert code == 1 and f"training state '{copied}' does not fit" in out
    assert "raceback" not in out


def test_a_second_process_on_a_run_directory_is_refused_naming_the_holder(tmp_path):
    data = make_images(tmp_path / "data")
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "harness.cli", "train", "--data", str(data), "--run-dir",
           str(run), "--image-size", "16", "--max-steps", "2", *TINY]
    with RunLock(run / ".lock", "run directory (test)"):
        second = subprocess.run(cmd, capture_output=True, text=True,
                                env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert second.returncode == 1 and "raceback" not in second.stderr
    assert f"run directory '{run}' is in use by another process (pid {os.getpid()}" in (
        second.stderr)
    assert sorted(p.name for p in run.iterdir()) == [".lock"]  # nothing else written


def test_a_killed_holder_never_blocks_the_rerun(tmp_path):
    data = make_images(tmp_path / "data")
    run = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from harness.runtime import RunLock\n"
         f"RunLock({str(run / '.lock')!r}, 'x').acquire(); print('held', flush=True); "
         "sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        code, out = train_cli(data, run, "--image-size", "16", "--max-steps", "2")
        assert code == 1 and f"pid {holder.pid}" in out and "raceback" not in out
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        code, out = train_cli(data, run, "--image-size", "16", "--max-steps", "2")
        assert code == 0 and "completed" in out
    finally:
        holder.kill()
        holder.wait()


# --------------------------------------------------------------------------- sampling
def test_a_second_sampler_on_one_output_is_refused(tmp_path):
    ckpt = make_checkpoint(tmp_path / "ema.pt")
    out = tmp_path / "s.npz"
    with output_lock(out, "sampling output"):
        result = CliRunner().invoke(main, [
            "sample", "--checkpoint", str(ckpt), "--sampler", "ddim", "--steps", "2",
            "--num-samples", "2", "--out", str(out), "--grid", str(tmp_path / "s.png"),
            "--device", "cpu", "--no-progress"])
    assert result.exit_code == 1 and f"sampling output '{out}' is in use" in result.output
    assert "raceback" not in result.output
    assert f"pid {os.getpid()}" in result.output and not out.exists()


# --------------------------------------------------------------------------- preparing
def test_a_second_preparer_of_one_dataset_is_refused_and_a_finished_one_is_only_read(tmp_path):
    out = tmp_path / "tiny"
    prepare = ["prepare", "--dataset", "tiny", "--source", "builtin:colorshapes",
               "--resolution", "16", "--count", "4", "--out", str(out)]
    with output_lock(out, "prepared dataset"):
        result = CliRunner().invoke(main, prepare)
        assert result.exit_code == 1 and f"prepared dataset '{out}' is in use" in result.output
        assert f"pid {os.getpid()}" in result.output and not out.exists()
    assert CliRunner().invoke(main, prepare).exit_code == 0
    with output_lock(out, "prepared dataset"):  # reading a finished dataset takes no lock
        assert CliRunner().invoke(main, prepare).exit_code == 0


def test_a_corrupt_chunk_is_named_set_aside_and_sampled_again(tmp_path, monkeypatch, capfd):
    ckpt = make_checkpoint(tmp_path / "ema.pt")
    reference = tmp_path / "ref.npz"
    sample(sample_request(ckpt, reference))
    out = tmp_path / "s.npz"
    original = ChunkStore.write

    def write_twice_then_stop(self, start, *args):
        if start >= 4:
            raise KeyboardInterrupt
        return original(self, start, *args)

    monkeypatch.setattr(ChunkStore, "write", write_twice_then_stop)
    with pytest.raises(KeyboardInterrupt):
        sample(sample_request(ckpt, out))
    monkeypatch.setattr(ChunkStore, "write", original)
    parts = Path(str(out) + ".parts")
    chunk = parts / "chunk_0000002_0000004.npz"
    damaged = chunk.read_bytes()[:100]
    chunk.write_bytes(damaged)
    capfd.readouterr()
    sample(sample_request(ckpt, out))
    assert "chunk_0000002_0000004.npz" in capfd.readouterr().err
    np.testing.assert_array_equal(np.load(out)["arr_0"], np.load(reference)["arr_0"])
    assert sorted(p.name for p in parts.iterdir()) == ["chunk_0000002_0000004.npz.unreadable"]
    assert (parts / "chunk_0000002_0000004.npz.unreadable").read_bytes() == damaged


def test_the_chunk_folder_keeps_files_it_did_not_write(tmp_path):
    ckpt = make_checkpoint(tmp_path / "ema.pt")
    out = tmp_path / "s.npz"
    stale = ChunkStore(out, {"another": "request"})
    stale.write(0, np.zeros((2, 16, 16, 3), np.uint8), None, 0.0, "cpu")
    (stale.dir / "notes.txt").write_text("mine")
    sample(sample_request(ckpt, out))
    assert np.load(out)["arr_0"].shape == (6, 16, 16, 3)
    assert sorted(p.name for p in stale.dir.iterdir()) == ["notes.txt"]
    (tmp_path / "file.npz.parts").write_text("a file in the way")
    with pytest.raises(ValueError, match="file.npz.parts"):
        sample(sample_request(ckpt, tmp_path / "file.npz"))


def test_non_finite_samples_and_eta_are_errors_not_black_images(tmp_path):
    nan = make_checkpoint(tmp_path / "nan.pt", nan=True)
    with pytest.raises(ValueError, match="not finite"):
        sample(sample_request(nan, tmp_path / "n.npz"))
    assert not (tmp_path / "n.npz").exists()
    for eta in (float("nan"), -0.5, 1.5):
        with pytest.raises(ValueError, match="eta"):
            sample_request(nan, tmp_path / "e.npz", eta=eta)


def test_a_killed_writers_temporary_is_never_a_result(tmp_path):
    ckpt = make_checkpoint(tmp_path / "ema.pt")
    out = tmp_path / "s.npz"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    leftover = tmp_path / f".s.npz.{dead.pid}-0123abcd.harness-tmp"
    leftover.write_bytes(b"")
    sample(sample_request(ckpt, out))
    assert np.load(out)["arr_0"].shape == (6, 16, 16, 3) and not leftover.exists()


# --------------------------------------------------------------------------- other outputs
def test_report_refuses_an_assets_folder_it_did_not_make(tmp_path):
    from harness.report.render import ASSETS_MARKER, claim_assets

    theirs = tmp_path / "theirs"
    (theirs / "assets").mkdir(parents=True)
    (theirs / "assets" / "fig4_mse.png").write_bytes(b"their picture")
    with pytest.raises(ValueError, match="was not made by `harness report`"):
        claim_assets(theirs / "assets")
    assert (theirs / "assets" / "fig4_mse.png").read_bytes() == b"their picture"
    ours = tmp_path / "ours" / "assets"
    claim_assets(ours)
    (ours / "fig4_mse.png").write_bytes(b"old figure")
    claim_assets(ours)  # an earlier report's folder: accepted
    assert (ours / ASSETS_MARKER).is_file()


def test_is_weights_are_pinned_by_their_full_hash_before_any_unpickling(tmp_path, monkeypatch):
    from harness.metrics import inception_score as ism

    def no_unpickling(*args, **kwargs):
        raise AssertionError("torch.load called before the hash matched")

    monkeypatch.setattr(torch, "load", no_unpickling)
    fake = tmp_path / ism.TORCH_FIDELITY_FILENAME
    fake.write_bytes(b"a pickle that could run code")
    with pytest.raises(ValueError, match=ism.TORCH_FIDELITY_SHA256):
        ism.resolve_is_weights(fake)

    # A download that is not the pinned file never reaches the cache; nor does a broken one.
    from torch import hub

    cache = tmp_path / "cache"
    monkeypatch.setattr(ism, "host_reachable", lambda host: True)
    monkeypatch.setattr(hub, "download_url_to_file",
                        lambda url, dst, **kw: Path(dst).write_bytes(b"tampered"))
    with pytest.raises(ValueError, match="sha256"):
        ism.resolve_is_weights(None, cache_dir=cache)

    def broken_download(url, dst, **kw):
        Path(dst).write_bytes(b"half a file")
        raise ConnectionResetError("connection reset")

    monkeypatch.setattr(hub, "download_url_to_file", broken_download)
    assert ism.resolve_is_weights(None, cache_dir=cache) is None
    assert list(cache.iterdir()) == []


@pytest.mark.parametrize("key,value", [
    ("training.lr", float("nan")), ("training.lr", float("inf")),
    ("diffusion.p2_gamma", -1.0), ("diffusion.p2_k", 0.0), ("diffusion.min_snr_gamma", 0.0),
    ("training.ema_rate", 1.0), ("training.grad_clip", -1.0), ("sampling.eta", 2.0),
    ("model.dropout", 1.0), ("model.num_head_channels", 0), ("sampling.eta", float("nan")),
])
def test_workflow_config_refuses_out_of_range_and_non_finite_values(key, value):
    section, name = key.split(".")
    with pytest.raises(ValueError, match=f"config key {key}"):
        wp.load_config([wp.ROOT / "workflow/config/quick.yaml"], {section: {name: value}})
