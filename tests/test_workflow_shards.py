"""Sharded sampling in the workflow: the plan's shard counts, the DAG with and without shards,
`harness cell` on a sharded cell, and a real run whose merged samples equal an unsharded
run's bitwise."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from test_workflow import (  # noqa: F401 (stub is a fixture)
    PRESETS,
    job_counts,
    snakemake,
    stub,
    write_config,
)

from harness import workflow as wp


def small(config: dict, shards: int = 2, **experiment) -> None:
    """The smoke preset cut to Table 1 of Constant and Ours (4 cells, one replicate), 2 batches
    of 8 per cell."""
    config["experiments"] = {"table1": {**config["experiments"]["table1"],
                                        "weightings": ["constant", "debias"], **experiment}}
    config["replicates"] = 1
    config["sampling"].update(batch_size=8, shards=shards)


def test_plan_counts_shards_per_cell_and_no_hash_sees_them(tmp_path):
    config = wp.load_config([PRESETS / "smoke.yaml"])
    base = wp.build_plan(config)
    assert set(base.shards.values()) == {1}
    config["sampling"]["batch_size"] = 4  # 4 batches of the 16 samples
    config["experiments"]["fig7b"]["shards"] = 4
    config["experiments"]["table1"]["shards"] = 2
    plan = wp.build_plan(config)
    fig7b = wp.select_cells(plan, "fig7b")
    assert set(wp.select_cells(plan, "table1")) == set(fig7b)
    assert {plan.shards[c] for c in fig7b} == {4}  # table1's cells too: the larger count
    others = set(plan.unique_cells()) - set(fig7b)
    assert others and {plan.shards[c] for c in others} == {1}
    cell = fig7b[0]
    assert cell.shard_paths(4)[3] == f"results/samples/{cell.stem}.shards/3of4.npz"
    jobs = wp.sample_jobs(config, plan, cell)
    assert [j.stage for j in jobs] == ["sample"] * 4 + ["merge"]
    assert sum(j.work for j in jobs) == 16 * cell.steps and jobs[-1].needs == tuple(
        cell.shard_paths(4))
    # Shards change how many jobs sample, not what: no hash moves.
    unsharded = wp.load_config([PRESETS / "smoke.yaml"])
    unsharded["sampling"]["batch_size"] = 4
    assert wp.cell_hash(config, "tiny") == wp.cell_hash(unsharded, "tiny")
    assert (wp.plan_json(config, plan, "c")["config_hash"]
            == wp.plan_json(unsharded, wp.build_plan(unsharded), "c")["config_hash"])
    config["experiments"]["fig7a"]["shards"] = 5
    with pytest.raises(ValueError, match=r"experiments.fig7a.shards: 5 shards exceed the 4 "):
        wp.build_plan(config)


def test_dag_with_and_without_shards(tmp_path):
    one = snakemake(["-n", "--configfile", str(write_config(tmp_path, "smoke", lambda c: small(
        c, shards=1)))], tmp_path)
    counts = job_counts(one.stdout)
    assert counts["sample"] == counts["metrics"] == 4
    assert "sample_shard" not in counts and "merge_samples" not in counts
    two = snakemake(["-n", "-p", "--configfile", str(write_config(tmp_path, "smoke", small))],
                    tmp_path)
    counts = job_counts(two.stdout)
    assert counts["sample_shard"] == 8 and counts["merge_samples"] == counts["metrics"] == 4
    assert "sample" not in counts
    assert "--shard 1/2 --out results/samples/tiny/eps-debias/seed0/6/ddpm4.shards/1of2.npz" in (
        two.stdout)


@pytest.mark.slow
def test_report_and_cell_rerun_of_a_sharded_cell(stub):  # noqa: F811
    bindir, work = stub
    config = str(write_config(work.parent, "smoke", lambda c: small(
        c, weightings=["debias"], rows=[{"dataset": "tiny", "steps": [4]}])))
    snakemake(["--cores", "2", "--configfile", config], work, bindir)
    stem = "tiny/eps-debias/seed0/6/ddpm4"
    assert (work / f"results/samples/{stem}.npz").exists()
    assert not list(work.glob("results/samples/**/*.shards/*.npz"))  # temporary: merged
    again = snakemake(["-n", "--configfile", config], work, bindir)
    assert "Nothing to be done" in again.stdout + again.stderr  # merged: shards not missed
    # The merged cell's grid is in Snakemake's own report, like any cell's.
    out = snakemake(["--report", "snakemake-report.html", "--configfile", config], work, bindir)
    assert (out.stdout + out.stderr).count("Adding ddpm4.png") == 1
    (work / "stub_calls.log").unlink()
    cell = [sys.executable, "-c", "from harness.cli import main; main()", "cell", "--table", "1",
            "--dataset", "tiny", "--weighting", "debias", "--steps", "4",
            "--configfile", config, "--cores", "1"]
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    run = subprocess.run(cell, cwd=work, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    calls = (work / "stub_calls.log").read_text().splitlines()
    assert sorted(c.split()[0] + (" --shard" if "--shard" in c else "") for c in calls) == [
        "merge-samples", "metrics", "report", "sample --shard", "sample --shard"], calls


@pytest.mark.slow
def test_sharded_workflow_samples_equal_unsharded_bitwise(tmp_path):
    """The real verbs: one cell sampled by one job, then (same training) by two shard jobs
    and a merge, as `harness cell` would force it."""
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep
           + os.environ["PATH"]}
    target = "results/samples/tiny/eps-constant/seed0/6/ddpm2.npz"
    work = tmp_path / "work"
    work.mkdir()
    arrays = []
    for shards in (1, 2):
        folder = tmp_path / f"config{shards}"
        folder.mkdir()
        config = write_config(folder, "smoke", lambda c, n=shards: small(c, shards=n))
        out = snakemake(["--cores", "2", "--configfile", str(config), "--forcerun", target,
                         "--rerun-triggers", "mtime", "--", target], work, env_extra=env)
        assert ("merge_samples" in out.stdout + out.stderr) == (shards == 2)
        with np.load(work / target) as z:
            arrays.append(z["arr_0"])
    assert arrays[0].shape == (16, 16, 16, 3)
    assert arrays[0].tobytes() == arrays[1].tobytes()
