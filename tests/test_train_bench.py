"""`harness bench train` and `harness bench sample`: records from the real loops."""

from __future__ import annotations

import json

from click.testing import CliRunner

from harness.commands.bench import bench

SMALL = ["--image-size", "16", "--num-channels", "32", "--num-res-blocks", "1",
         "--channel-mult", "1,2", "--attention-resolutions", ""]  # fmt: skip


def test_bench_train_writes_img_per_s(tmp_path):
    out = tmp_path / "train.json"
    result = CliRunner().invoke(bench, ["train", *SMALL, "--batch-size", "2", "--steps", "2",
                                        "--warmup", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    record = json.loads(out.read_text())
    assert record["benchmark"] == "train" and record["img_per_s"] > 0
    assert record["model_config"]["image_size"] == 16 and record["environment"]["device"] == "cpu"


def test_bench_sample_writes_one_result_per_batch_size(tmp_path):
    out = tmp_path / "sample.json"
    result = CliRunner().invoke(bench, ["sample", *SMALL, "--batch-sizes", "1,2", "--steps", "2",
                                        "--sampler", "ddim", "--out", str(out)])
    assert result.exit_code == 0, result.output
    record = json.loads(out.read_text())
    assert [r["batch_size"] for r in record["results"]] == [1, 2]
    assert all(r["img_per_s"] > 0 for r in record["results"]) and record["sampler"] == "ddim"
