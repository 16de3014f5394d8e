"""`harness bench model`: the record it writes and its argument handling."""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner

from harness.bench import time_calls
from harness.bench.model import PRESETS, bench_model, resolve_config
from harness.commands.bench import bench
from harness.errors import CudaUnavailableError
from harness.runtime import Execution, resolve_device

SMALL = ["--image-size", "16", "--num-channels", "32", "--num-res-blocks", "1",
         "--channel-mult", "1,2", "--attention-resolutions", "8"]  # fmt: skip


def test_presets_resolve_and_overrides_win():
    assert resolve_config("paper")["num_head_channels"] == 64
    cifar = resolve_config("cifar", batch=None, num_channels=64)
    assert cifar["image_size"] == 32 and cifar["class_cond"] and cifar["num_channels"] == 64
    with pytest.raises(ValueError, match="paper, cifar, tiny"):
        resolve_config("huge")
    with pytest.raises(ValueError, match="image_size is required"):
        resolve_config(None, num_channels=32)
    assert set(PRESETS) == {"paper", "cifar", "tiny"}


def test_time_calls_counts_warmup_and_iterations():
    calls = []
    result = time_calls(lambda: calls.append(1), torch.device("cpu"), warmup=2, iters=3)
    assert len(calls) == 5 and len(result["times_s"]) == 3
    assert result["min_s"] <= result["median_s"]


def test_cuda_without_gpu_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(CudaUnavailableError, match="no usable CUDA device on host .*"
                       "CUDA_VISIBLE_DEVICES="):
        resolve_device("cuda")


def test_bench_model_times_forward_backward_and_train_step():
    config = resolve_config(None, image_size=16, num_channels=32, num_res_blocks=1,
                            channel_mult="1,2", attention_resolutions="8", learn_sigma=True,
                            class_cond=True, num_classes=3)  # fmt: skip
    record = bench_model(config, batch_size=2, warmup=0, iters=1, train_step=True)
    assert record["parameters"] == sum(
        p.numel() for p in __import__("harness.models").models.create_model(**config).parameters()
    )
    for key in ("forward", "forward_backward", "train_step"):
        assert record[key]["median_s"] > 0 and record[key]["img_per_s"] > 0
    assert record["train_step"]["diffusion_config"]["learn_sigma"] is True
    env = record["environment"]
    assert env["device"] == "cpu" and env["torch"] == torch.__version__
    json.dumps(record)  # JSON-able


def test_cli_writes_json_where_told(tmp_path):
    out = tmp_path / "bench" / "model-small.json"
    args = [
        "model",
        *SMALL,
        "--batch-size",
        "1",
        "--warmup",
        "0",
        "--iters",
        "2",
        "--out",
        str(out),
    ]
    result = CliRunner().invoke(bench, args)
    assert result.exit_code == 0, result.output
    record = json.loads(out.read_text())
    assert record["benchmark"] == "model" and record["iters"] == 2
    assert record["model_config"]["channel_mult"] == "1,2"
    assert len(record["forward_backward"]["times_s"]) == 2
    assert "train_step" not in record
    assert "wrote" in result.output


def test_cli_reports_bad_arguments():
    result = CliRunner().invoke(bench, ["model", "--num-channels", "32"])
    assert result.exit_code != 0 and "image_size is required" in result.output


def test_bf16_autocast_and_channels_last_run_on_cpu():
    config = resolve_config(None, image_size=16, num_channels=32, num_res_blocks=1,
                            channel_mult="1,2", attention_resolutions="8")  # fmt: skip
    record = bench_model(config, batch_size=1, warmup=0, iters=1,
                         execution=Execution(precision="bf16", channels_last=True))
    assert record["execution"]["precision"] == "bf16" and record["execution"]["channels_last"]
    assert record["forward"]["mfu"] > 0 and record["flops"]["peak_bf16"]["tflops"] > 0
    assert record["forward"]["img_per_s"] > 0
