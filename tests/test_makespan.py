"""Time to the report: critical-path-first list scheduling (harness.scheduling) and
`harness estimate --gpus` on the presets (harness.makespan)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness import workflow as wp
from harness.cli import main
from harness.estimate import estimate
from harness.makespan import makespan, over_limit
from harness.scheduling import Task, best_schedules, critical_path, list_schedule

ROOT = Path(__file__).resolve().parent.parent
PRESETS = ROOT / "workflow" / "config"
# Forward sums of start times against one sum of all durations: both exact to ~n ulps (n jobs
# <= 1000: 1e-13 relative); 1e-9 is far above that and far below any scheduling difference.
REL = 1e-9


def check_valid(tasks: list[Task], schedule) -> None:
    """Every task starts after the tasks it needs end; at no time more GPUs than allowed."""
    by_name = {t.name: t for t in tasks}
    end = {t.name: schedule.start[t.name] + t.hours for t in tasks}
    for t in tasks:
        assert all(schedule.start[t.name] >= end[n] - REL for n in t.needs), t.name
    for t in tasks:  # usage is highest just after some task starts
        now = schedule.start[t.name]
        held = sum(u.gpus for u in tasks if schedule.start[u.name] <= now < end[u.name])
        assert held <= schedule.gpus
    assert schedule.makespan == pytest.approx(max(end.values(), default=0.0), rel=REL)
    assert set(schedule.start) == set(by_name)


def random_dag(seed: int) -> list[Task]:
    rng = random.Random(seed)
    tasks = []
    for i in range(rng.randint(3, 40)):
        needs = tuple(f"t{j}" for j in range(i) if rng.random() < 0.15)
        tasks.append(Task(f"t{i}", rng.choice([0.0, 0.5, 1.0, 2.0, 3.5, 8.0]),
                          rng.choice([0, 1, 1, 1, 1, 2]), needs))
    return tasks


def test_a_small_graph_by_hand():
    tasks = [Task("a", 3), Task("b", 2), Task("c", 2, needs=("a",)), Task("d", 1, needs=("b",))]
    assert critical_path(tasks) == 5  # a -> c
    one, two = list_schedule(tasks, 1), list_schedule(tasks, 2)
    assert one.makespan == 8 and one.start["a"] == 0  # critical path first: a, then b
    assert two.makespan == 5 and two.start == {"a": 0, "b": 0, "d": 2, "c": 3}


def test_makespan_falls_with_gpus_never_beats_the_critical_path_nor_the_work():
    for seed in range(60):
        tasks = random_dag(seed)
        cp = critical_path(tasks)
        work = sum(t.hours * t.gpus for t in tasks)
        best = best_schedules(tasks, range(2, 13))
        assert min(best) == 2  # tasks may need 2 GPUs: 1 is not a count here
        previous = float("inf")
        for g, schedule in sorted(best.items()):
            check_valid(tasks, schedule)
            assert schedule.makespan <= previous * (1 + REL)
            assert schedule.makespan >= max(cp, work / g) * (1 - REL)
            assert schedule.gpus <= g
            previous = schedule.makespan
        ones = [Task(t.name, t.hours, 1, t.needs) for t in tasks]  # no idle time on 1 GPU
        assert list_schedule(ones, 1).makespan == pytest.approx(
            sum(t.hours for t in ones), rel=REL)


def test_more_gpus_can_end_a_list_schedule_later_but_not_the_reported_one():
    """A graph (found by a random search) where critical-path-first list scheduling on 3
    GPUs ends after the one on 2 (Graham's anomaly); the estimate then uses 2 of the 3."""
    needs = {"t4": ("t1",), "t5": ("t2",), "t6": ("t1", "t2"), "t7": ("t3", "t5", "t6"),
             "t9": ("t1", "t6"), "t10": ("t4", "t7")}
    hours = [1, 3, 3, 1, 5, 3, 3, 7, 9, 2, 7]
    tasks = [Task(f"t{i}", float(h), 1, needs.get(f"t{i}", ())) for i, h in enumerate(hours)]
    assert list_schedule(tasks, 3).makespan > list_schedule(tasks, 2).makespan
    best = best_schedules(tasks, [2, 3, 4])
    assert best[3].makespan == best[2].makespan and best[3].gpus == 2
    assert best[4].makespan <= best[3].makespan


def test_bad_graphs_are_refused():
    with pytest.raises(ValueError, match="'b' needs 'x', which is not a task"):
        critical_path([Task("a", 1), Task("b", 1, needs=("x",))])
    with pytest.raises(ValueError, match="cycle"):
        critical_path([Task("a", 1, needs=("b",)), Task("b", 1, needs=("a",))])
    with pytest.raises(ValueError, match="task 'big' needs 4 GPUs, more than the 2 available"):
        best_schedules([Task("big", 1, gpus=4)], [2, 8])
    # Jobs without GPUs never wait for one.
    assert list_schedule([Task("gpu", 5), Task("cpu", 5, gpus=0)], 1).makespan == 5


def gpu_config(preset: str) -> dict:
    """A preset with one GPU per job of every stage that the estimate prices."""
    config = wp.load_config([PRESETS / f"{preset}.yaml"])
    for stage in ("refstats", "train", "sample", "metrics", "analysis"):
        config["resources"][stage]["gpus"] = 1
    return config


def test_the_smoke_dag_on_gpus(tmp_path):
    config = gpu_config("smoke")
    result = estimate(config, tmp_path, tflops=1e-3)  # slow GPUs: hours, not microseconds
    m = makespan(result, config["resources"], [1, 2, 3, 8, 64])
    rows = [r["hours"] for r in m["makespan"]]
    assert rows[0] == pytest.approx(m["gpu_hours"], rel=REL)  # 1 GPU: no idle time
    assert m["gpu_hours"] == pytest.approx(result["total_gpu_hours"], rel=REL)
    assert all(b <= a * (1 + REL) for a, b in zip(rows, rows[1:], strict=False))
    assert min(rows) >= m["critical_path_hours"] * (1 - REL)
    assert rows[-1] == pytest.approx(m["critical_path_hours"], rel=REL)  # 64 GPUs: all at once
    # The critical path is at least the longest run's training chain plus a sample job.
    jobs = {j["output"]: j for j in result["jobs"]}
    assert jobs["reports/report.html"]["needs"]
    longest_train = max(sum(j["gpu_hours"] for j in result["jobs"] if j["stage"] == "train"
                            and j["output"].startswith(wp.run_dir(run)))
                        for run in wp.build_plan(config).runs)
    assert m["critical_path_hours"] > longest_train


def test_jobs_over_runtime_times_attempts_are_flagged(tmp_path):
    config = gpu_config("smoke")
    result = estimate(config, tmp_path, tflops=1e-6)  # training segments of 1-3 hours
    train = sorted(j["gpu_hours"] for j in result["jobs"] if j["stage"] == "train")
    res = config["resources"]
    for stage in res:  # every other stage has all the time it needs
        res[stage]["runtime"] = 10**9
    res["train"].update(runtime=max(1, int(train[len(train) // 2] * 60 / 2)), retries=1)
    flagged = over_limit(result["jobs"], res)
    assert flagged and all(f["stage"] == "train" for f in flagged)
    assert len(flagged) < len(train)
    limit = res["train"]["runtime"] / 60 * 2
    assert {f["output"] for f in flagged} == {
        j["output"] for j in result["jobs"] if j["stage"] == "train" and j["gpu_hours"] > limit}
    res["train"]["retries"] = 1000  # enough attempts: nothing is flagged
    assert not over_limit(result["jobs"], res)


def test_the_paper_preset_makespan_and_shards():
    """Sharding the paper's sampling shortens its makespan on many GPUs: on 64 the report is
    bound by its longest chain (training a 1M-iteration run, then one shard)."""
    config = wp.load_config([PRESETS / "paper.yaml"])
    assert config["sampling"]["shards"] > 1
    result = estimate(config, ROOT / "results" / "bench")
    m = makespan(result, config["resources"], [1, 8, 64, 256])
    hours = {r["gpus"]: r["hours"] for r in m["makespan"]}
    assert hours[1] == pytest.approx(m["gpu_hours"], rel=REL)
    assert hours[8] >= m["gpu_hours"] / 8 and hours[64] == hours[256]
    assert hours[64] == pytest.approx(m["critical_path_hours"], rel=REL)
    assert not m["over_limit"]
    unsharded = wp.load_config([PRESETS / "paper.yaml"])
    unsharded["sampling"]["shards"] = 1
    single = makespan(estimate(unsharded, ROOT / "results" / "bench"),
                      unsharded["resources"], [64])
    assert single["makespan"][0]["hours"] > hours[64] + 10  # a 1000-step cell: ~21 h -> ~3 h
    assert single["over_limit"]  # and those cells do not fit their sample jobs' time limit


def test_estimate_gpus_cli(tmp_path):
    result = CliRunner().invoke(main, ["estimate", "--configfile", str(PRESETS / "smoke.yaml"),
                                       "--bench-dir", str(tmp_path), "--gpus", "4",
                                       "--gpus", "1"])
    assert result.exit_code == 0, result.output
    assert "critical path" in result.output and "jobs over runtime x (retries + 1)" in (
        result.output)
    bad = CliRunner().invoke(main, ["estimate", "--configfile", str(PRESETS / "smoke.yaml"),
                                    "--gpus", "0"])
    assert bad.exit_code == 2 and "--gpus" in bad.output
