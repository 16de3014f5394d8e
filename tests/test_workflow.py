"""The Snakemake workflow: presets, schema, DAG shape, config errors, lint, and the rerun /
resume mechanics (with a stand-in `harness` that writes the declared outputs instantly)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from harness import workflow as wp
from harness.workflow import select_cells

ROOT = Path(__file__).resolve().parent.parent
PRESETS = ROOT / "workflow" / "config"
PAPER_DATASETS = ["ffhq", "celebahq", "afhqdog", "metfaces", "cifar10", "imagenet"]


def snakemake(args: list[str], cwd: Path, path: Path | None = None, check: bool = True,
              env_extra: dict[str, str] | None = None, **kw) -> subprocess.CompletedProcess:
    """Run snakemake on the repo's Snakefile in `cwd` (with `path` first on PATH)."""
    env = {**os.environ, **(env_extra or {})}
    bindir = os.path.dirname(sys.executable)
    env["PATH"] = os.pathsep.join(p for p in (str(path or ""), bindir, env["PATH"]) if p)
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), *args]
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, **kw)
    if check and out.returncode != 0:
        raise AssertionError(f"snakemake failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return out


def job_counts(output: str) -> dict[str, int]:
    """Per-rule job counts from snakemake's "Job stats" table."""
    table = output.split("Job stats:")[1].split("\n\n")[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


def paper_data_root(tmp_path: Path) -> Path:
    """A data_root with one folder per paper dataset (a few files each)."""
    for name in PAPER_DATASETS:
        (tmp_path / "data" / name).mkdir(parents=True)
        (tmp_path / "data" / name / "0.png").write_bytes(b"")
    return tmp_path / "data"


def write_config(tmp_path: Path, preset: str, edit) -> Path:
    config = yaml.safe_load((PRESETS / f"{preset}.yaml").read_text())
    edit(config)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


# --------------------------------------------------------------------------- schema & presets
@pytest.mark.parametrize("preset", ["smoke", "paper"])  # quick: test_quick_preset_shape
def test_presets_validate_and_plan(preset):
    config = wp.load_config([PRESETS / f"{preset}.yaml"])
    plan = wp.build_plan(config)
    uses = {u for c in plan.cells for u in c["uses"]}
    assert uses - {"calibration", "released"} == set(wp.USES), \
        f"{preset} misses {set(wp.USES) - uses}"
    assert ("calibration" in uses) == (preset != "paper")  # the A/A control runs at toy scale
    assert ("released" in uses) == (preset == "smoke")  # two random networks' plumbing
    assert {f for a in plan.analysis for f in a["figure"]} == {"fig3", "fig4", "fig10"}
    assert {c["paper_iteration"] for c in plan.cells if "table3" in c["uses"]} == {
        500000, 1000000}


def test_schema_documents_every_key():
    """Every config key carries a description or a default (and so shows up documented)."""
    schema = wp.load_schema()
    missing = []

    def walk(node, where):
        for key, sub in node.get("properties", {}).items():
            if not ({"description", "default", "$ref"} & set(sub)):
                missing.append(f"{where}.{key}")
            walk(sub, f"{where}.{key}")
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], f"{where}.*")
        if isinstance(node.get("items"), dict):
            walk(node["items"], f"{where}[]")

    walk(schema, "config")
    for name, sub in schema["$defs"].items():
        walk(sub, f"$defs.{name}")
    assert not missing


def test_schema_fills_defaults():
    config = wp.validate_config({"datasets": {"d": {"source": "builtin:digits",
                                                    "resolution": 8, "count": 10}}})
    assert config["training"]["lr"] == 2e-5 and config["training"]["ema_rate"] == 0.9999
    assert config["sampling"]["num_samples"] == 50000
    assert config["datasets"]["d"]["class_cond"] is False
    assert config["resources"]["train"]["retries"] is None  # Snakemake's --retries then
    assert config["resources"]["sample"]["disk_mb"] == 10000


def test_quick_preset_shape():
    """The default preset: Table 1's four weightings with three training seeds each, the A/A
    control, the untrained network's cells (iteration 0) beside the final ones, 1/SNR and
    Table 4's targets."""
    config = wp.load_config([PRESETS / "quick.yaml"])
    plan = wp.build_plan(config)
    final = config["training"]["iterations"]
    t1 = [c for c in plan.cells if "table1" in c["uses"]]
    assert {c["weighting"] for c in t1} == {"constant", "p2", "min_snr", "debias"}
    assert {c["steps"] for c in t1} == {100, 10}  # sampling efficiency: T and T / 10
    assert {c["seed"] for c in t1} == {0, 1, 2} and config["replicates"] == 3
    control = {(c["seed"], c["steps"]) for c in plan.cells if c["arm"] == "control"}
    assert control == {(s, t) for s in (1000, 1001, 1002) for t in (100, 10)}  # Table 1's T
    fig7a = {(c["weighting"], c["iteration"]) for c in plan.cells if "fig7a" in c["uses"]}
    assert {("constant", 0), ("debias", 0), ("constant", final), ("debias", final)} <= fig7a
    assert any(w == "debias" and 0 < i <= final / 2.5 for w, i in fig7a)  # Fig. 7a's claim
    stems = {c["_cell"].stem for c in plan.cells if "fig7a" in c["uses"]}
    assert {c["_cell"].stem for c in plan.cells if "table3" in c["uses"]} <= stems  # no cost
    # Fig. 7b's 1/SNR (three seeds), Table 4's x0 and v (one seed), Fig. 10's analyses.
    assert {c["seed"] for c in plan.cells if c["weighting"] == "snr"} == {0, 1, 2}
    t4 = {(c["target"], c["seed"]) for c in plan.cells if "table4" in c["uses"]}
    assert {("x0", 0), ("v", 0)} <= t4 and not {("x0", 1), ("v", 1)} & t4
    assert {a["weighting"] for a in plan.analysis if "fig10" in a["figure"]} == {
        "constant", "p2", "min_snr", "debias", "snr"}
    assert len(plan.unique_cells()) == 42 and len(plan.runs) == 20


# --------------------------------------------------------------------------- config errors
def _bad(key_edit):
    config = yaml.safe_load((PRESETS / "smoke.yaml").read_text())
    key_edit(config)
    return config


@pytest.mark.parametrize("edit, message", [
    (lambda c: c["experiments"]["table1"]["rows"][0].update(dataset="nope"),
     "experiments.table1.rows[0].dataset: unknown dataset 'nope'"),
    (lambda c: c["experiments"]["fig7b"].update(weightings=["constant", "bogus"]),
     "config key experiments.fig7b.weightings.1: 'bogus' is not one of"),
    (lambda c: c["experiments"]["table4"]["columns"].append({"target": "eps", "weighting": "x"}),
     "experiments.table4.columns.4.weighting"),
    (lambda c: c["experiments"]["table1"]["rows"][0].update(steps=[4, 1001]),
     "experiments.table1.rows[0].steps: 1001 sampling steps exceed diffusion.steps (T=1000)"),
    (lambda c: c["sampling"].update(num_samples=4),
     "sampling.num_samples (4) is smaller than metrics.kid_subset_size (8)"),
    (lambda c: c["training"].update(lr=-1), "config key training.lr"),
])
def test_bad_configs_name_the_key(edit, message):
    with pytest.raises(ValueError) as err:
        wp.build_plan(wp.validate_config(_bad(edit)))
    assert message in str(err.value)


def test_bad_config_fails_at_dag_build(tmp_path):
    cfg = write_config(tmp_path, "smoke", lambda c: c["experiments"]["fig7a"].update(steps=5000))
    out = snakemake(["-n", "--configfile", str(cfg)], tmp_path, check=False)
    assert out.returncode != 0
    assert "experiments.fig7a.steps: 5000 sampling steps exceed diffusion.steps" in (
        out.stdout + out.stderr)


@pytest.mark.parametrize("edit, message", [
    (lambda c: c["datasets"]["tiny"].update(source="folder", path="/does/not/exist"),
     "datasets.tiny: data folder '/does/not/exist' does not exist (set by datasets.tiny.path)"),
    (lambda c: c["datasets"]["tiny"].update(source="folder"),
     "datasets.tiny: source 'folder' needs datasets.tiny.path or data_root"),
])
def test_missing_data_is_named(edit, message):
    config = wp.validate_config(_bad(edit))
    assert wp.data_problems(config, {"tiny"}) == [message]
    assert wp.data_problems(config, set()) == []  # a dataset no cell uses needs no images


def test_missing_data_stops_a_run_but_not_lint_or_a_dry_run(tmp_path):
    """Lint and dry runs only plan; a run names the missing folder before its first job."""
    root = paper_data_root(tmp_path)
    (root / "metfaces" / "0.png").unlink()
    (root / "metfaces").rmdir()
    args = ["--configfile", str(PRESETS / "paper.yaml"), "--config", f"data_root={root}"]
    message = f"datasets.metfaces: data folder '{root}/metfaces' does not exist"
    dry = snakemake(["-n", *args], tmp_path)
    assert message in dry.stderr and "a run stops here before its first job" in dry.stderr
    run = snakemake(["--cores", "1", *args], tmp_path, check=False)
    assert run.returncode != 0 and message in run.stderr
    assert not (tmp_path / "results").exists()  # stopped before any job wrote anything
    (tmp_path / "results" / "data").mkdir(parents=True)
    (tmp_path / "results" / "data" / "metfaces.json").write_text("{}")  # already prepared
    assert message not in snakemake(["-n", *args], tmp_path).stderr


# --------------------------------------------------------------------------- DAG shape
def test_paper_dag(tmp_path):
    """The paper preset's full DAG: every cell of Tables 1-4 and Figs. 4/7/10."""
    root = paper_data_root(tmp_path)
    out = snakemake(["-n", "--configfile", str(PRESETS / "paper.yaml"),
                     "--config", f"data_root={root}"], tmp_path)
    counts = job_counts(out.stdout)
    assert counts["train"] >= 26 and counts["metrics"] >= 82
    # Eight shard jobs and a merge per cell (sampling.shards: 8).
    assert counts["sample_shard"] == 8 * counts["metrics"] and "sample" not in counts
    assert counts["merge_samples"] == counts["metrics"]
    assert counts["refstats"] == counts["prepare"] == 6  # once per dataset
    # Fig. 4's Constant and Ours at 3 seeds, Fig. 10's P2, Min-SNR and 1/SNR at one.
    assert counts["analyze"] == 9 and counts["report"] == 1


def test_default_config_is_quick_and_not_merged(tmp_path):
    out = snakemake(["-n", "--forceall"], ROOT)  # whatever results/ already holds
    assert job_counts(out.stdout)["prepare"] == 1  # quick.yaml: one dataset
    cfg = write_config(tmp_path, "smoke", lambda c: c["experiments"].pop("table2"))
    out = snakemake(["-n", "--configfile", str(cfg)], tmp_path)
    assert "results/data/shapes_large" not in out.stdout  # quick.yaml not merged underneath
    assert job_counts(out.stdout)["prepare"] == 1


@pytest.mark.parametrize("preset", ["smoke", "quick", "paper", "released"])
def test_lint_clean(tmp_path, preset):
    """`snakemake --lint` passes: every rule has a log, resources and a software environment.
    The paper and released presets lint before their data and checkpoints exist."""
    args = ["--lint", "--configfile", str(PRESETS / f"{preset}.yaml")]
    out = snakemake(args, tmp_path, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Congratulations, your workflow is in a good condition!" in out.stdout + out.stderr


# --------------------------------------------------------------------------- mechanics (stub)
@pytest.fixture
def stub(tmp_path):
    """A `harness` stand-in on PATH that writes each verb's outputs instantly."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "harness"
    script.write_text(f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(ROOT / 'tests')!r})"
                      "\nfrom workflow_stub import main\nmain(sys.argv[1:])\n")
    script.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    return bindir, work


def mtimes(work: Path) -> dict[str, float]:
    return {str(p.relative_to(work)): p.stat().st_mtime_ns
            for p in (work / "results").rglob("*") if p.is_file() and "logs" not in p.parts}


@pytest.mark.slow
def test_cell_rerun_touches_only_its_samples_metrics_and_report(stub):
    bindir, work = stub
    smoke = str(PRESETS / "smoke.yaml")
    snakemake(["--cores", "2", "--configfile", smoke], work, bindir)
    assert (work / "reports/report.html").exists()
    before = mtimes(work)
    (work / "stub_calls.log").unlink()

    cell = [sys.executable, "-c", "from harness.cli import main; main()", "cell", "--table", "1",
            "--dataset", "ffhq", "--weighting", "debias", "--steps", "4",
            "--configfile", smoke, "--cores", "1"]
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    dry = subprocess.run(cell + ["--dry-run"], cwd=work, env=env, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    # Every replicate of the cell (the smoke preset runs two training seeds).
    assert job_counts(dry.stdout) == {"sample": 2, "metrics": 2, "report": 1, "total": 5}

    # Data newer than the checkpoints and a changed training parameter: still no retraining.
    os.utime(work / "results/data/tiny.json")
    before = mtimes(work)
    lr_changed = write_config(work.parent, "smoke", lambda c: c["training"].update(lr=0.5))
    run = subprocess.run(cell + ["--seed", "1", "--configfile", str(lr_changed)], cwd=work,
                         env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    calls = (work / "stub_calls.log").read_text().splitlines()
    assert [c.split()[0] for c in calls] == ["sample", "metrics", "report"], calls
    after = mtimes(work)
    stem = "tiny/eps-debias/seed1/6/ddpm4"
    changed = {k for k in before if after[k] != before[k]}
    assert changed == {f"results/samples/{stem}.npz", f"results/samples/{stem}.png",
                       f"results/metrics/{stem}.json"}


def checkpoint_of_call(call: str) -> str:
    """The checkpoint a `train` stub call owes: RUN/ema_{rate}_{max_steps:06d}.pt."""
    args = call.split()
    value = {k: args[args.index(k) + 1] for k in ("--run-dir", "--max-steps", "--ema-rate")}
    return (f"{value['--run-dir']}/ema_{float(value['--ema-rate'])}_"
            f"{int(value['--max-steps']):06d}.pt")


def recorded_trains(work: Path) -> list[str]:
    """Checkpoints of train calls that Snakemake has moved past (another call followed), so
    their completion is recorded in .snakemake/ even if Snakemake is killed right now."""
    log = work / "stub_calls.log"
    calls = log.read_text().splitlines() if log.exists() else []
    return [checkpoint_of_call(c) for c in calls[:-1] if c.startswith("train ")]


@pytest.mark.slow
def test_killed_run_resumes_without_redoing_finished_jobs(stub):
    """The third training job hangs, so the workflow is always interrupted mid-run, with two
    training jobs finished, however fast or loaded the machine is."""
    bindir, work = stub
    args = ["--cores", "1", "--rerun-incomplete", "--configfile", str(PRESETS / "smoke.yaml")]
    env = {**os.environ, "PATH": os.pathsep.join([str(bindir), os.path.dirname(sys.executable),
                                                  os.environ["PATH"]])}
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), *args]
    proc = subprocess.Popen(cmd, cwd=work, env={**env, "STUB_HANG_AT_TRAIN": "3"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.time() + 900  # generous: nothing here depends on the machine's speed
        while len(recorded_trains(work)) < 2 and proc.poll() is None and time.time() < deadline:
            time.sleep(0.2)
        assert proc.poll() is None and len(recorded_trains(work)) == 2, "no hanging job seen"
        # Ctrl-C, then what a scheduler does after its grace period: SIGKILL to the whole job.
        # (SIGTERM is avoided: Snakemake 9's handler takes a lock the main loop may hold and
        # can hang.) Either way the rerun must pick up where the killed run stopped.
        proc.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the hanging stub too, if still there
        proc.wait()
    assert not (work / "reports/report.html").exists()
    finished = recorded_trains(work)
    assert len(finished) >= 2
    done = mtimes(work)
    (work / "stub_calls.log").unlink()
    snakemake(["--unlock", *args], work, bindir)
    out = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    assert (work / "reports/report.html").exists()
    after = mtimes(work)
    assert all(after[k] == done[k] for k in finished)
    assert all((work / k).stat().st_mode & 0o222 == 0 for k in finished)  # protected
    redone = {checkpoint_of_call(c) for c in (work / "stub_calls.log").read_text().splitlines()
              if c.startswith("train ")}
    assert not redone & set(finished)


def dry_run_jobs(output: str) -> list[tuple[str, str]]:
    """(rule, first output) of every job a dry run lists."""
    return re.findall(r"^(?:local)?rule (\w+):\n(?:    .*\n)*?    output: ([^,\n]+)", output,
                      re.M)


@pytest.mark.slow
def test_adding_a_fig7a_iteration_reruns_only_what_depends_on_it(stub):
    """Checkpoints are declared outputs: one more Fig. 7a iteration adds its training jobs
    (resuming from each run's last checkpoint), their samples and metrics, and the report;
    no finished training, sample or metrics job runs again."""
    bindir, work = stub
    snakemake(["--cores", "2", "--configfile", str(PRESETS / "smoke.yaml")], work, bindir)
    more = write_config(work.parent, "smoke",
                        lambda c: c["experiments"]["fig7a"]["iterations"].append(10))
    out = snakemake(["-n", "--configfile", str(more)], work, bindir)
    jobs = dry_run_jobs(out.stdout)
    # Fig. 7a: constant and debias on tiny, two replicates each.
    runs = [f"results/train/tiny/eps-{w}/seed{s}" for w in ("constant", "debias") for s in (0, 1)]
    assert sorted(o for r, o in jobs if r == "train") == [f"{r}/ema_0.9_000010.pt" for r in runs]
    assert sorted(o for r, o in jobs if r == "sample") == sorted(
        f"results/samples/tiny/eps-{w}/seed{s}/10/ddpm4.npz"
        for w in ("constant", "debias") for s in (0, 1))
    assert job_counts(out.stdout) == {"train": 4, "sample": 4, "metrics": 4, "plan": 1,
                                      "report": 1, "all": 1, "total": 15}
    # Each new job resumes its run from the run's last checkpoint (Table 3's iteration 8).
    for run in runs:
        assert f"input: results/data/tiny, results/data/tiny.json, {run}/ema_0.9_000008.pt" \
            in out.stdout
    snakemake(["--cores", "2", "--configfile", str(more)], work, bindir)
    # An iteration that training has already passed cannot be made any more: said up front.
    middle = write_config(work.parent, "smoke",
                          lambda c: c["experiments"]["fig7a"]["iterations"].append(5))
    out = snakemake(["-n", "--configfile", str(middle)], work, bindir, check=False)
    assert out.returncode != 0
    assert ("results/train/tiny/eps-constant/seed0: iteration 5 was asked for after training "
            "passed it (its newest state is step 10)") in out.stdout + out.stderr


def test_select_cells_by_paper_or_config_names():
    config = wp.load_config([PRESETS / "quick.yaml"])
    plan = wp.build_plan(config)
    one = select_cells(plan, "table1", "ffhq", weighting="p2", steps=100)
    assert [c.stem for c in one] == [f"shapes_large/eps-p2/seed{s}/400/ddim100"
                                     for s in (0, 1, 2)]  # replicates
    assert select_cells(plan, "table1", "shapes_large", weighting="p2", steps=100) == one
    assert select_cells(plan, "table1", "ffhq", weighting="p2", steps=100, seed=1) == one[1:2]
    row = select_cells(plan, "table1", "ffhq", steps=10)
    assert {c.weighting for c in row} == {"constant", "p2", "min_snr", "debias"}
    t3 = select_cells(plan, "table3", "ffhq", weighting="debias", iteration=1000000)
    assert {c.iteration for c in t3} == {400}
    with pytest.raises(ValueError, match="no table1 cell matches"):
        select_cells(plan, "table1", "ffhq", steps=7)
    with pytest.raises(ValueError, match="no table1 cell matches"):
        select_cells(plan, "table1", "ffhq", seed=3)  # the preset runs seeds 0, 1 and 2


def test_every_rule_has_log_resources_retries_and_environment():
    seen = []
    for path in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        for name, body in re.findall(r"^rule (\w+):\n((?:    .*\n|\n)+)", path.read_text(), re.M):
            assert "    log:" in body and "    resources:" in body, f"{path.name}: rule {name}"
            if "    run:" not in body:  # run: rules execute inside Snakemake itself
                assert "    retries:" in body, f"{path.name}: rule {name}"
                assert "    conda:\n        HARNESS_ENV" in body, f"{path.name}: rule {name}"
            seen.append(name)
    assert sorted(seen) == ["analyze", "check_released", "fetch_released", "merge_samples",
                            "metrics", "metrics_released", "plan", "prepare", "refstats",
                            "refstats_mode", "report", "sample", "sample_released",
                            "sample_released_shard", "sample_shard", "train"]
