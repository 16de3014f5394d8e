"""A cell's samples drawn by several jobs: batch-aligned shard ranges, `harness sample --shard`
(resumable per shard), and `harness merge-samples`, whose file equals one job's bitwise."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from test_metrics import CELL_ARGS, fake_refstats, write_samples
from test_sample import TINY, make_checkpoint

from harness.cli import main
from harness.runtime.lock import LockedError
from harness.sampling.chunks import ChunkStore
from harness.sampling.merge import merge_shards
from harness.sampling.run import output_lock
from harness.shards import parse_shard, shard_ranges
from harness.training.status import write_status


def test_shard_ranges_cover_every_sample_once_on_batch_boundaries():
    for n, b, s in [(10, 4, 2), (10, 4, 3), (50000, 250, 8), (7, 7, 1), (9, 2, 5), (64, 8, 3)]:
        ranges = shard_ranges(n, b, s)
        assert len(ranges) == s and [i for r in ranges for i in r] == list(range(n))
        assert all(r.start % b == 0 and len(r) > 0 for r in ranges)
        sizes = [-(-len(r) // b) for r in ranges]  # batches per shard
        assert max(sizes) - min(sizes) <= 1
    assert shard_ranges(10, 4, 3) == [range(0, 4), range(4, 8), range(8, 10)]
    with pytest.raises(ValueError, match="4 shards exceed the 3 batches of 4 in 10 samples"):
        shard_ranges(10, 4, 4)
    assert parse_shard("3/8") == (3, 8)
    for bad in ("8/8", "3", "a/2", "-1/2"):
        with pytest.raises(ValueError, match="is not K/S"):
            parse_shard(bad)


def sample_args(ckpt, out, *extra) -> list[str]:
    return ["sample", "--checkpoint", str(ckpt), "--sampler", "ddpm", "--steps", "3",
            "--num-samples", "10", "--batch-size", "3", "--seed", "7", "--out", str(out),
            "--device", "cpu", "--no-progress", *extra]


def invoke(args: list[str]) -> str:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return result.output


def read(path) -> tuple[dict, dict]:
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    return arrays, json.loads(str(arrays.pop("meta")))


@pytest.mark.parametrize("class_cond", [False, True])
def test_sharded_equals_unsharded_bitwise_through_the_cli(tmp_path, class_cond):
    ckpt = make_checkpoint(tmp_path / "ema.pt", class_cond=class_cond)
    whole = tmp_path / "whole.npz"
    invoke(sample_args(ckpt, whole, "--grid", str(tmp_path / "whole.png")))
    shards = [tmp_path / f"{k}of3.npz" for k in range(3)]
    for k in (2, 0, 1):  # any order
        invoke(sample_args(ckpt, shards[k], "--shard", f"{k}/3"))
    shard_meta = read(shards[1])[1]["shard"]
    assert shard_meta == {"index": 1, "count": 3, "start": 6, "stop": 9}  # 2, 1, 1 batches
    merged = tmp_path / "merged.npz"
    out = invoke(["merge-samples", *map(str, shards[::-1]), "--out", str(merged),
                  "--grid", str(tmp_path / "merged.png")])
    assert "10 samples from 3 shards" in out
    (a, meta_a), (b, meta_b) = read(whole), read(merged)
    assert a.keys() == b.keys() == ({"arr_0", "arr_1"} if class_cond else {"arr_0"})
    for key in a:
        assert a[key].dtype == b[key].dtype and a[key].tobytes() == b[key].tobytes()
    assert (tmp_path / "merged.png").read_bytes() == (tmp_path / "whole.png").read_bytes()
    # The meta is the unsharded one, plus where each part came from.
    varying = {"wall_time_s", "shards"}
    assert {k: v for k, v in meta_b.items() if k not in varying} == {
        k: v for k, v in meta_a.items() if k not in varying}
    assert [(s["index"], s["start"], s["stop"], s["file"]) for s in meta_b["shards"]] == [
        (0, 0, 6, "0of3.npz"), (1, 6, 9, "1of3.npz"), (2, 9, 10, "2of3.npz")]
    assert meta_b["wall_time_s"] == pytest.approx(
        sum(s["wall_time_s"] for s in meta_b["shards"]), abs=2e-3)  # 3 roundings of 5e-4


def test_a_killed_shard_redoes_only_its_missing_chunks(tmp_path, monkeypatch):
    ckpt = make_checkpoint(tmp_path / "ema.pt")
    out = tmp_path / "1of2.npz"
    original, drawn = ChunkStore.write, []

    def write_then_die(self, start, *args):  # the job is killed drawing its second batch
        drawn.append(start)
        if len(drawn) == 2:
            raise KeyboardInterrupt("killed")
        return original(self, start, *args)

    monkeypatch.setattr(ChunkStore, "write", write_then_die)
    result = CliRunner().invoke(main, sample_args(ckpt, out, "--shard", "1/2"))
    assert result.exit_code != 0 and not out.exists()
    invoke(sample_args(ckpt, out, "--shard", "1/2"))
    # Shard 1 of 2 over 4 batches of 3 holds samples 6..9: batches at 6 and 9; the rerun drew
    # only the batch the killed job had not written.
    assert drawn == [6, 9, 9] and read(out)[1]["shard"] == {"index": 1, "count": 2,
                                                             "start": 6, "stop": 10}
    assert len(read(out)[0]["arr_0"]) == 4 and not (tmp_path / "1of2.npz.parts").exists()


def test_merge_refuses_shards_that_do_not_fit(tmp_path):
    ckpt = make_checkpoint(tmp_path / "ema.pt")
    for k in range(2):
        invoke(sample_args(ckpt, tmp_path / f"{k}.npz", "--shard", f"{k}/2"))
    invoke(sample_args(ckpt, tmp_path / "seed8.npz", "--shard", "1/2", "--seed", "8"))
    invoke(sample_args(ckpt, tmp_path / "of3.npz", "--shard", "1/3"))
    out, grid = str(tmp_path / "m.npz"), str(tmp_path / "m.png")
    cases = [([tmp_path / "0.npz"], "is one of 2 shards, 1 given"),
             ([tmp_path / "0.npz", tmp_path / "seed8.npz"], "seed8.npz': seed 8 differs from 7"),
             ([tmp_path / "0.npz", tmp_path / "0.npz"], "starts at sample 0, expected 6"),
             ([tmp_path / "0.npz", tmp_path / "of3.npz"], "is one of 3 shards, 2 given")]
    for shards, message in cases:
        result = CliRunner().invoke(main, ["merge-samples", *map(str, shards), "--out", out,
                                           "--grid", grid])
        assert result.exit_code == 1 and message in result.output, result.output
    whole = tmp_path / "whole.npz"
    invoke(sample_args(ckpt, whole, "--grid", grid))
    result = CliRunner().invoke(main, ["merge-samples", str(whole), "--out", out, "--grid", grid])
    assert "has no meta 'shard'" in result.output
    assert not (tmp_path / "m.npz").exists()
    result = CliRunner().invoke(main, sample_args(ckpt, tmp_path / "x.npz", "--shard", "4/4"))
    assert result.exit_code == 2 and "is not K/S" in result.output
    result = CliRunner().invoke(main, sample_args(ckpt, tmp_path / "x.npz", "--shard", "0/5"))
    assert result.exit_code == 1 and "5 shards exceed the 4 batches" in result.output


def test_shards_of_a_diverged_run_merge_into_the_diverged_file(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"model_config": TINY}))
    write_status(run, "diverged", 12, "diverged at step 12")
    ckpt = run / "ema_0.9999_000200.pt"
    invoke(sample_args(ckpt, tmp_path / "whole.npz", "--grid", str(tmp_path / "w.png")))
    for k in range(2):
        invoke(sample_args(ckpt, tmp_path / f"{k}.npz", "--shard", f"{k}/2"))
    invoke(["merge-samples", str(tmp_path / "0.npz"), str(tmp_path / "1.npz"),
            "--out", str(tmp_path / "m.npz"), "--grid", str(tmp_path / "m.png")])
    (a, meta_a), (b, meta_b) = read(tmp_path / "whole.npz"), read(tmp_path / "m.npz")
    assert a["arr_0"].shape == b["arr_0"].shape == (0, 16, 16, 3)
    assert meta_b.pop("shards") and meta_b == meta_a
    assert meta_b["status"] == "diverged at step 12"


def test_merge_holds_the_cells_lock_and_metrics_carry_the_shards(tmp_path):
    ckpt = make_checkpoint(tmp_path / "ema.pt")
    shards = [str(tmp_path / f"{k}.npz") for k in range(2)]
    for k, path in enumerate(shards):
        invoke(sample_args(ckpt, path, "--shard", f"{k}/2"))
    out = tmp_path / "m.npz"
    with output_lock(out, "sampling output"), pytest.raises(LockedError, match="sampling output"):
        merge_shards(shards, str(out), str(tmp_path / "m.png"))  # e.g. a `harness sample`
    assert not out.exists()
    merged = merge_shards(shards, str(out), str(tmp_path / "m.png"))
    # The metrics JSON's provenance names the shards (a diverged cell: no Inception needed).
    samples = write_samples(tmp_path / "s.npz", np.zeros((0, 16, 16, 3), np.uint8),
                            status="diverged at step 4", shards=merged["shards"])
    cell = tmp_path / "cell.json"
    invoke(["metrics", "--samples", str(samples), "--refstats",
            str(fake_refstats(tmp_path / "r.npz")), "--out", str(cell), *CELL_ARGS])
    provenance = json.loads(cell.read_text())["provenance"]
    assert [(s["start"], s["stop"]) for s in provenance["sampling_shards"]] == [(0, 6), (6, 10)]
