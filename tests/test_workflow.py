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

from harness import workflow_plan as wp

ROOT = Path(__file__).resolve().parent.parent
PRESETS = ROOT / "workflow" / "config"
PAPER_DATASETS = ["ffhq", "celebahq", "afhqdog", "metfaces", "cifar10", "imagenet"]


def snakemake(args: list[str], cwd: Path, path: Path | None = None, check: bool = True,
              **kw) -> subprocess.CompletedProcess:
    """Run snakemake on the repo's Snakefile in `cwd` (with `path` first on PATH)."""
    env = dict(os.environ)
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
@pytest.mark.parametrize("preset", ["smoke", "quick", "paper"])
def test_presets_validate_and_plan(preset):
    config = wp.load_config([PRESETS / f"{preset}.yaml"])
    plan = wp.build_plan(config, check_paths=False)
    uses = {u for c in plan.cells for u in c["uses"]}
    assert uses == set(wp.USES), f"{preset} misses {set(wp.USES) - uses}"
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
    assert config["resources"]["train"]["retries"] == 0


def test_quick_preset_shape():
    """The default preset has the structure of all four tables (see the issue)."""
    config = wp.load_config([PRESETS / "quick.yaml"])
    plan = wp.build_plan(config)
    t1 = [c for c in plan.cells if "table1" in c["uses"]]
    assert len({c["dataset"] for c in t1}) == 2  # two sizes of unconditional data
    assert {c["weighting"] for c in t1} == {"constant", "p2", "min_snr", "debias"}
    assert len({c["steps"] for c in t1}) >= 2
    t2 = {c["dataset"] for c in plan.cells if "table2" in c["uses"]}
    assert all(config["datasets"][d]["class_cond"] for d in t2)
    assert {c["target"] for c in plan.cells if "table4" in c["uses"]} == {"eps", "x0", "v"}
    snr = {c["steps"] for c in plan.cells if c["weighting"] == "snr"}
    assert snr and all(  # 1/SNR FID sits beside the other weightings at each of its steps
        {c["weighting"] for c in plan.cells if c["steps"] == s and c["dataset"] == "shapes_large"
         and c["iteration"] == 150} >= {"constant", "debias", "snr"} for s in snr)


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
    (lambda c: c["datasets"]["tiny"].update(source="folder", path="/does/not/exist"),
     "datasets.tiny: data folder '/does/not/exist' does not exist (set by datasets.tiny.path"),
    (lambda c: c["datasets"]["tiny"].update(source="folder"),
     "datasets.tiny: source 'folder' needs datasets.tiny.path or data_root"),
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
    root = paper_data_root(tmp_path)
    (root / "metfaces" / "0.png").unlink()
    (root / "metfaces").rmdir()
    out = snakemake(["-n", "--configfile", str(PRESETS / "paper.yaml"),
                     "--config", f"data_root={root}"], tmp_path, check=False)
    assert out.returncode != 0
    assert f"datasets.metfaces: data folder '{root}/metfaces' does not exist" in (
        out.stdout + out.stderr)


# --------------------------------------------------------------------------- DAG shape
def test_paper_dag(tmp_path):
    """The paper preset's full DAG: every cell of Tables 1-4 and Figs. 4/7/10."""
    root = paper_data_root(tmp_path)
    out = snakemake(["-n", "--configfile", str(PRESETS / "paper.yaml"),
                     "--config", f"data_root={root}"], tmp_path)
    counts = job_counts(out.stdout)
    assert counts["train"] >= 26 and counts["metrics"] >= 82
    assert counts["sample"] == counts["metrics"]
    assert counts["refstats"] == counts["prepare"] == 6  # once per dataset
    assert counts["analyze"] == 5 and counts["report"] == 1


def test_default_config_is_quick_and_not_merged(tmp_path):
    out = snakemake(["-n", "--forceall"], ROOT)  # whatever results/ already holds
    assert job_counts(out.stdout)["prepare"] == 3
    cfg = write_config(tmp_path, "smoke", lambda c: c["experiments"].pop("table2"))
    out = snakemake(["-n", "--configfile", str(cfg)], tmp_path)
    assert "results/data/shapes_large" not in out.stdout  # quick.yaml not merged underneath
    assert job_counts(out.stdout)["prepare"] == 1


def test_lint_clean_but_for_conda(tmp_path):
    """`snakemake --lint`: the only lints left ask for per-rule conda envs (we use one env)."""
    out = snakemake(["--lint", "--configfile", str(PRESETS / "smoke.yaml")], tmp_path,
                    check=False)
    lints = set(re.findall(r"^    \* (.+?):?$", out.stdout + out.stderr, re.M))
    assert lints <= {"Specify a conda environment or container for each rule."}, lints


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
    assert job_counts(dry.stdout) == {"sample": 1, "metrics": 1, "report": 1, "total": 3}

    # Data newer than the checkpoints and a changed training parameter: still no retraining.
    os.utime(work / "results/data/tiny.json")
    before = mtimes(work)
    lr_changed = write_config(work.parent, "smoke", lambda c: c["training"].update(lr=0.5))
    run = subprocess.run(cell + ["--configfile", str(lr_changed)], cwd=work, env=env,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    calls = (work / "stub_calls.log").read_text().splitlines()
    assert [c.split()[0] for c in calls] == ["sample", "metrics", "report"], calls
    after = mtimes(work)
    stem = "tiny/eps-debias/6/ddpm4"
    changed = {k for k in before if after[k] != before[k]}
    assert changed == {f"results/samples/{stem}.npz", f"results/samples/{stem}.png",
                       f"results/metrics/{stem}.json"}


@pytest.mark.slow
def recorded_trains(work: Path) -> list[str]:
    """Run dirs of train calls that Snakemake has moved past (another call followed), so their
    completion is recorded in .snakemake/ even if Snakemake is killed right now."""
    log = work / "stub_calls.log"
    calls = log.read_text().splitlines() if log.exists() else []
    return [c.split("--run-dir ")[1].split()[0] for c in calls[:-1] if c.startswith("train ")]


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
    finished = [f"{d}/status.json" for d in recorded_trains(work)]
    done = mtimes(work)
    (work / "stub_calls.log").unlink()
    snakemake(["--unlock", *args], work, bindir)
    out = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    assert (work / "reports/report.html").exists()
    after = mtimes(work)
    assert all(after[k] == done[k] for k in finished)
    calls = (work / "stub_calls.log").read_text()
    for k in finished:
        assert f"--run-dir {os.path.dirname(k)} " not in calls


def test_select_cells_by_paper_or_config_names():
    config = wp.load_config([PRESETS / "quick.yaml"])
    plan = wp.build_plan(config)
    one = wp.select_cells(plan, "table1", "ffhq", weighting="p2", steps=100)
    assert [c.stem for c in one] == ["shapes_large/eps-p2/150/ddpm100"]
    assert wp.select_cells(plan, "table1", "shapes_large", weighting="p2", steps=100) == one
    row = wp.select_cells(plan, "table1", "metfaces", steps=10)
    assert {c.weighting for c in row} == {"constant", "p2", "min_snr", "debias"}
    t3 = wp.select_cells(plan, "table3", "ffhq", weighting="debias", iteration=1000000)
    assert [c.iteration for c in t3] == [300]
    with pytest.raises(ValueError, match="no table1 cell matches"):
        wp.select_cells(plan, "table1", "ffhq", steps=7)


def test_every_rule_has_log_and_resources():
    seen = []
    for path in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        for name, body in re.findall(r"^rule (\w+):\n((?:    .*\n|\n)+)", path.read_text(), re.M):
            assert "    log:" in body and "    resources:" in body, f"{path.name}: rule {name}"
            seen.append(name)
    assert sorted(seen) == ["analyze", "metrics", "plan", "prepare", "refstats", "report",
                            "sample", "train"]
