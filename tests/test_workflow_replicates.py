"""Replicates in the plan: seeds per cell, common random numbers, the A/A control's two arms,
per-experiment overrides, plan.json fields, and `harness estimate` counting replicate jobs."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from harness import workflow as wp
from harness.estimate import estimate

PRESETS = Path(__file__).resolve().parent.parent / "workflow" / "config"


def smoke(edit=None) -> dict:
    config = yaml.safe_load((PRESETS / "smoke.yaml").read_text())
    if edit:
        edit(config)
    return wp.validate_config(config)


def slots(plan: wp.Plan, use: str) -> dict[tuple, list[dict]]:
    """Plan entries of `use` grouped by everything but the replicate."""
    out = defaultdict(list)
    for c in plan.cells:
        if use in c["uses"]:
            out[(c["dataset"], c["target"], c["weighting"], c["iteration"], c["sampler"],
                 c["steps"], c.get("paper_iteration"), c["arm"])].append(c)
    return out


def test_each_slot_has_one_entry_per_replicate_with_paired_seeds():
    config = smoke(lambda c: (c["training"].update(seed=5), c["sampling"].update(seed=40)))
    plan = wp.build_plan(config)
    for use in wp.USES:
        want = [0, 1, 2] if use == "seed_noise" else [0, 1]  # smoke's subset has 3 seeds
        for key, entries in slots(plan, use).items():
            assert sorted(e["replicate"] for e in entries) == want, (use, key)
            for e in entries:  # replicate r: training seed 5 + r, sampling seed 40 + r
                assert (e["seed"], e["sample_seed"]) == (5 + e["replicate"], 40 + e["replicate"])
                assert f"/seed{e['seed']}/" in e["metrics"] and f"/seed{e['seed']}/" in e["grid"]
    # Two weightings at the same replicate share every seed (common random numbers).
    t1 = [c for c in plan.cells if "table1" in c["uses"] and c["steps"] == 4]
    by_r = defaultdict(set)
    for c in t1:
        by_r[c["replicate"]].add((c["seed"], c["sample_seed"]))
    assert all(len(seeds) == 1 for seeds in by_r.values()) and len(by_r) == 2
    assert {run[3] for run in plan.runs} == {5, 6, 7, 1005, 1006}  # 7: the seed-noise subset


def test_calibration_arms_share_the_main_runs_and_pair_the_control():
    plan = wp.build_plan(smoke())
    cal = [c for c in plan.cells if "calibration" in c["uses"]]
    main = {(c["replicate"], c["steps"]): c for c in cal if c["arm"] == "main"}
    control = {(c["replicate"], c["steps"]): c for c in cal if c["arm"] == "control"}
    assert sorted(main) == sorted(control) == [(r, t) for r in (0, 1) for t in (2, 4)]
    for (r, t) in main:
        m, c = main[r, t], control[r, t]
        assert (m["seed"], c["seed"]) == (r, 1000 + r)
        assert m["sample_seed"] == c["sample_seed"] == r  # paired by r
        assert {k: v for k, v in m.items() if k not in ("seed", "metrics", "grid", "arm",
                                                        "_cell", "uses")} == \
            {k: v for k, v in c.items() if k not in ("seed", "metrics", "grid", "arm",
                                                     "_cell", "uses")}
        # The main arm is Table 1's cell (one entry, one job); the control arm is new.
        assert "table1" in m["uses"] and c["uses"] == ["calibration"]
    without = wp.build_plan(smoke(lambda c: c["experiments"].pop("calibration")))
    extra = set(plan.runs) - set(without.runs)
    assert extra == {("tiny", "eps", "constant", 1000), ("tiny", "eps", "constant", 1001)}
    assert len(plan.unique_cells()) - len(without.unique_cells()) == 4  # at T = 4 and 2


def test_experiment_replicates_override_the_global_count():
    config = smoke(lambda c: (c.update(replicates=1), c["experiments"].pop("seed_noise"),
                              c["experiments"]["fig7b"].update(replicates=3)))
    plan = wp.build_plan(config)
    assert {len(v) for v in slots(plan, "table1").values()} == {1}
    assert {len(v) for v in slots(plan, "fig7b").values()} == {3}
    # Replicate 0 of a cell in both is one entry; its other replicates serve Fig. 7b only.
    shared = [c for c in plan.cells if c["weighting"] == "debias" and c["steps"] == 4
              and c["iteration"] == 6 and c["target"] == "eps" and c["paper_dataset"] == "ffhq"
              and "paper_iteration" not in c]
    assert sorted((c["seed"], sorted(c["uses"])) for c in shared) == [
        (0, ["fig7a", "fig7b", "table1"]), (1, ["fig7b"]), (2, ["fig7b"])]


def test_plan_json_carries_replicates_seeds_and_runs_per_seed():
    config = smoke()
    plan = wp.build_plan(config)
    doc = wp.plan_json(config, plan, "abc")
    assert doc["replicates"] == 2
    for c in doc["cells"]:
        assert {"seed", "sample_seed", "replicate", "arm"} <= set(c) and "_cell" not in c
    runs = {(t["dataset"], t["target"], t["weighting"], t["seed"]) for t in doc["training"]}
    # A run's key names its weighting folder (a user weighting's carries its definition digest)
    assert runs == {(d, tg, wp.weighting_name(w), s) for d, tg, w, s in plan.runs}
    assert len(runs) == len(doc["training"]) == len(plan.runs)
    folders = {e["name"]: e["folder"] for e in doc["weightings"]["entries"]}
    assert folders["capped"].startswith("capped-") and folders["debias"] == "debias"
    for t in doc["training"]:
        assert t["run_dir"] == f"results/train/{t['dataset']}/{t['target']}-" \
                               f"{folders[t['weighting']]}/seed{t['seed']}"
    # Analyses run on replicate 0 only.
    assert {a["seed"] for a in doc["analysis"]} == {0}
    assert all("/seed0/" in a["mse"] for a in doc["analysis"])


@pytest.mark.parametrize("bad, message", [
    (lambda c: c.update(replicates=0), "config key replicates: 0 is less than the minimum"),
    (lambda c: c["experiments"]["table1"].update(replicates=1001),
     "config key experiments.table1.replicates: 1001 is greater than the maximum"),
    (lambda c: c["experiments"]["calibration"].update(dataset="nope"),
     "experiments.calibration.dataset: unknown dataset 'nope'"),
])
def test_bad_replicate_settings_name_the_key(bad, message):
    with pytest.raises(ValueError, match=message):
        wp.build_plan(smoke(bad))


def test_estimate_counts_replicate_runs_and_cells(tmp_path):
    def config(n):
        return smoke(lambda c: (c.update(replicates=n), c["experiments"].pop("calibration"),
                                c["experiments"].pop("seed_noise"),
                                c["experiments"].pop("released")))  # one network, no seeds

    one, three = estimate(config(1), tmp_path, 10), estimate(config(3), tmp_path, 10)
    # Every training job (one per checkpoint segment) is repeated per seed, except those of
    # Fig. 10's 1/SNR run, which has analyses only (replicate 0).
    def train_jobs(result: dict, snr: bool) -> int:
        return sum(1 for j in result["jobs"] if j["stage"] == "train"
                   and ("/eps-snr/" in j["output"]) == snr)

    assert train_jobs(three, False) == 3 * train_jobs(one, False)
    assert train_jobs(three, True) == train_jobs(one, True) > 0
    for stage in ("sample", "metrics"):
        assert three["stages"][stage]["jobs"] == 3 * one["stages"][stage]["jobs"]
        assert three["stages"][stage]["gpu_hours"] == pytest.approx(
            3 * one["stages"][stage]["gpu_hours"], rel=1e-12)
    for stage in ("refstats", "analysis"):  # once per dataset / on replicate 0
        assert three["stages"][stage] == one["stages"][stage]


def test_dag_has_one_job_per_replicate(tmp_path):
    """The smoke preset's DAG: a train job per checkpoint of each (run, seed), a sample and
    metrics job per replicate cell, and every path carries its seed."""
    from test_workflow import job_counts, snakemake

    plan = wp.build_plan(smoke())
    out = snakemake(["-n", "-p", "--forceall", "--configfile", str(PRESETS / "smoke.yaml")],
                    tmp_path)
    counts = job_counts(out.stdout)
    config = smoke()
    assert counts["train"] == sum(len(wp.eval_iterations(config, plan, r)) for r in plan.runs)
    released = sum(1 for c in plan.unique_cells() if c.released)  # their own rules, no seed
    assert counts["sample_released"] == counts["metrics_released"] == released == 2
    assert counts["sample"] == counts["metrics"] == len(plan.unique_cells()) - released
    assert counts["analyze"] == len(plan.analysis)
    for cell in plan.unique_cells():
        assert cell.metrics_path() in out.stdout
    # The control arm's replicate 1 trains with seed 1001 and samples with sampling.seed + 1.
    commands = [c.removeprefix("Shell command: ").removeprefix("exec ")
                for c in out.stdout.splitlines() if "seed1001" in c]
    train = [c for c in commands if c.startswith("harness train")]
    sample = [c for c in commands if c.startswith("harness sample")]
    assert train and all(" --seed 1001 " in c for c in train)
    assert sample and all(" --seed 1 " in c for c in sample)
