"""`harness estimate` from measured numbers: CUDA records only, the closest fitting record per
stage with its basis on every line, and the README's figure is the tool's own output."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from harness import workflow as wp
from harness.cli import main
from harness.estimate import estimate, format_table, load_cuda_records

ROOT = Path(__file__).resolve().parent.parent
SMOKE = ROOT / "workflow" / "config" / "smoke.yaml"
PAPER = ROOT / "workflow" / "config" / "paper.yaml"


def train_record(model_config: dict, device: str, img_per_s: float, batch: int,
                 **execution) -> dict:
    return {"benchmark": "train", "model_config": model_config, "batch_size": batch,
            "img_per_s": img_per_s, "execution": {"precision": "fp32", **execution},
            "environment": {"device": device, "device_name": f"{device} box",
                            "created": "2026-11-28T00:00:00+00:00"}}


def test_a_cpu_record_is_never_the_basis_of_gpu_hours(tmp_path):
    config = wp.load_config([SMOKE])
    model = wp.model_config(config, "tiny")
    (tmp_path / "cpu.json").write_text(json.dumps(train_record(model, "cpu", 1e6, 4)))
    train = estimate(config, tmp_path)["stages"]["train"]
    assert all(b.startswith("FLOPs") for b in train["basis"])
    # One file may hold several records; the CUDA one is used, for its own model only.
    (tmp_path / "suite.json").write_text(json.dumps({"records": [
        train_record(model, "cuda", 400.0, 2), train_record({**model, "num_channels": 64},
                                                            "cuda", 9e9, 2)]}))
    train = estimate(config, tmp_path)["stages"]["train"]
    basis = [b for b in train["basis"] if b.startswith("bench")]
    assert basis and all("cuda box" in b and "400.0 img/s" in b for b in basis)


def test_the_closest_batch_then_the_configs_execution_wins(tmp_path):
    config = wp.load_config([SMOKE])
    model = wp.model_config(config, "tiny")
    batch = config["training"]["batch_size"]
    records = [train_record(model, "cuda", 100.0, batch * 8, precision="bf16"),
               train_record(model, "cuda", 50.0, batch, precision="bf16"),
               train_record(model, "cuda", 70.0, batch)]
    (tmp_path / "r.json").write_text(json.dumps({"records": records}))
    config["training"]["precision"] = "bf16"
    basis = estimate(config, tmp_path)["stages"]["train"]["basis"]
    assert all("50.0 img/s" in b and "differs" not in b for b in basis if b.startswith("bench"))
    config["training"]["precision"] = "fp32"
    basis = estimate(config, tmp_path)["stages"]["train"]["basis"]
    assert all("70.0 img/s" in b for b in basis if b.startswith("bench"))
    config["training"]["compile"] = True  # no record compiled: the difference is printed
    basis = estimate(config, tmp_path)["stages"]["train"]["basis"]
    assert all("[differs: compile False (config: True)]" in b for b in basis
               if b.startswith("bench"))


def test_the_paper_estimate_rests_on_the_committed_cuda_records():
    records = load_cuda_records(ROOT / "results" / "bench")
    assert records and all(r["environment"]["device"].startswith("cuda") for r in records)
    assert all("source" in json.loads(Path(ROOT / r["file"]).read_text()) for r in records)
    result = estimate(wp.load_config([PAPER]), ROOT / "results" / "bench")
    for stage in ("train", "sample", "analysis"):
        assert any("NVIDIA H200" in b for b in result["stages"][stage]["basis"]), stage


def test_the_readme_shows_the_tools_output():
    """README.md's estimate block is `harness estimate --configfile workflow/config/paper.yaml
    --gpus 8 --gpus 64 --gpus 256`; after a change of the plan, the records or the scheduling,
    paste the command's output there again."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- estimate:paper -->\n```\n(.*?)```\n<!-- /estimate -->", readme,
                      re.S)
    assert block, "README.md lacks the <!-- estimate:paper --> block"
    assert "--configfile workflow/config/paper.yaml\n--gpus 8 --gpus 64 --gpus 256" in readme
    result = CliRunner().invoke(main, ["estimate", "--configfile", str(PAPER), "--gpus", "8",
                                       "--gpus", "64", "--gpus", "256"])
    assert result.exit_code == 0, result.output
    assert block.group(1).strip() == result.output.strip()
    table = format_table(estimate(wp.load_config([PAPER])))
    assert result.output.startswith(table + "\n")
