"""The SLURM route: the profile, the resources every job asks for, and the smoke preset run
end to end through a real cluster, one stage of it on (fake) GPUs.

The end-to-end test needs a SLURM cluster with accounting that answers on this machine
(scripts/slurm/setup-localhost-cluster.sh brings one up on localhost, with fake GPUs as
generic resources; CI does it through scripts/ci-slurm.sh) and skips, saying why, where there
is none. It runs in a copy of the repository under tmp_path, so its results never mix with the
default local run's.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
PROFILE = REPO / "workflow" / "profiles" / "slurm"
SMOKE = Path("workflow/config/smoke.yaml")
GPU_STAGE = "analysis"  # the stage that asks for a GPU in the end-to-end run
CPU_RULES = {"prepare", "report", "plan", "all", "merge_samples"}  # no GPUs in the paper preset
USABLE_NODE_STATES = {"idle", "mixed", "allocated", "completing"}


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kwargs)


def cluster_unavailable() -> str | None:
    """Why no SLURM cluster with accounting answers here, or None when one does."""
    if shutil.which("sinfo") is None:
        return "no SLURM here (no `sinfo`); scripts/slurm/setup-localhost-cluster.sh makes one"
    try:
        nodes = _run(["sinfo", "-h", "-o", "%T"], timeout=30)
        if nodes.returncode != 0:
            return f"SLURM does not answer: sinfo: {nodes.stderr.strip()}"
        states = {s.rstrip("*~#!%$@^-") for s in nodes.stdout.split()}
        if not states & USABLE_NODE_STATES:
            return f"no SLURM node can run jobs (node states: {sorted(states)})"
        acct = _run(["sacct", "-n", "-X", "--starttime", "now-1hours"], timeout=30)
    except subprocess.TimeoutExpired as err:
        return f"SLURM does not answer within 30 s: {err.cmd[0]}"
    if acct.returncode != 0:
        return f"sacct fails (the executor needs slurmdbd accounting): {acct.stderr.strip()}"
    return None


def node_capacity() -> tuple[int, int]:
    """(CPUs, memory in MB) of the smallest node, which every job must fit."""
    out = _run(["sinfo", "-h", "-o", "%c %m"], timeout=30, check=True).stdout.split("\n")
    sizes = [tuple(int(v.rstrip("+")) for v in line.split()) for line in out if line.strip()]
    return min(c for c, _ in sizes), min(m for _, m in sizes)


def copy_repo(dest: Path) -> Path:
    """Copy the working tree (tracked and untracked, not git-ignored files) to dest."""
    files = _run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, check=True,
    ).stdout.split("\0")
    for rel in filter(None, files):
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


def gpu_count() -> int:
    """GPUs (GRES gpu) of the smallest node."""
    out = _run(["sinfo", "-h", "-o", "%G"], timeout=30, check=True).stdout.split()
    counts = [int(m.group(1)) for g in out if (m := re.search(r"gpu(?::[^:,]+)?:(\d+)", g))]
    return min(counts) if len(counts) == len(out) and counts else 0


def slurm_overlay(repo: Path, cpus: int, mem_mb: int, gpus: int) -> dict:
    """Config overlay for the smoke preset on this cluster: every job fits the node, the
    cluster's account and partition (scripts/slurm: harness, debug), and one stage on a GPU
    when the cluster has any."""
    schema = yaml.safe_load((repo / "workflow/schemas/config.schema.yaml").read_text())
    defaults = {k: v.get("default") for k, v in schema["$defs"]["resources"]["properties"].items()}
    preset = yaml.safe_load((repo / SMOKE).read_text()).get("resources") or {}
    resources = {}
    for stage in schema["properties"]["resources"]["properties"]:
        asked = {**defaults, **(preset.get(stage) or {})}
        resources[stage] = {
            "gpus": 1 if stage == GPU_STAGE and gpus else 0,
            "cpus": min(asked["cpus"], cpus),
            "mem_mb": min(asked["mem_mb"], mem_mb),
        }
    return {"resources": resources, "slurm_account": "harness", "slurm_partition": "debug"}


def snakemake_env() -> dict[str, str]:
    """Environment in which the `harness` CLI of this interpreter is on PATH (jobs inherit
    it: sbatch --export=ALL)."""
    bindir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"}


def paper_dry_run(tmp_path: Path, *args: str) -> dict[str, list[str]]:
    """Rule name -> the `resources:` line of each job of a paper-preset dry run through the
    SLURM profile (no cluster needed: nothing is submitted)."""
    data = tmp_path / "data"
    for name in ("ffhq", "celebahq", "afhqdog", "metfaces", "cifar10", "imagenet"):
        (data / name).mkdir(parents=True)
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "-n",
           "--profile", str(PROFILE), "--configfile", str(REPO / "workflow/config/paper.yaml"),
           "--config", f"data_root={data}", *args]
    out = _run(cmd, cwd=tmp_path, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    jobs: dict[str, list[str]] = {}
    for rule, line in re.findall(r"^(?:local)?rule (\w+):\n(?:    .*\n)*?    resources: (.*)$",
                                 out.stdout, re.M):
        jobs.setdefault(rule, []).append(line)
    return jobs


def resource_keys(line: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in line.split(", "))


def test_profile_is_generic_and_valid():
    """The profile selects the executor, keeps cluster values out, and uses real options."""
    profile = yaml.safe_load((PROFILE / "config.yaml").read_text())
    assert profile["executor"] == "slurm"
    # No default-resources: they would replace those of a user's own profile (the account).
    assert "default-resources" not in profile
    assert profile["retries"] >= 1 and profile["latency-wait"] >= 5
    from snakemake.cli import get_argument_parser  # slow import: only this test needs it

    options = {o for a in get_argument_parser()._actions for o in a.option_strings}
    unknown = [k for k in profile if f"--{k}" not in options]
    assert not unknown, f"not snakemake options: {unknown}"


def test_account_and_partition_the_plugins_way_reach_every_job(tmp_path):
    """--default-resources slurm_account=A slurm_partition=P: no rule overrides them; every
    job has disk_mb; only GPU stages carry a gpu key."""
    jobs = paper_dry_run(tmp_path, "--default-resources", "slurm_account=A",
                         "slurm_partition=P")
    assert sum(map(len, jobs.values())) > 200
    for rule, lines in jobs.items():
        for line in lines:
            keys = resource_keys(line)
            assert (keys["slurm_account"], keys["slurm_partition"]) == ("A", "P"), (rule, line)
            if rule != "all":
                assert keys["disk_mb"] == "10000", (rule, line)
            assert ("gpu" in keys) == (rule not in CPU_RULES), (rule, line)
            assert "gpu_model" not in keys and "constraint" not in keys


def test_cluster_settings_from_the_config_only_when_given(tmp_path):
    jobs = paper_dry_run(tmp_path, "slurm_account=acct", "slurm_gpu_model=a100",
                         "slurm_constraint=ib")
    for rule, lines in jobs.items():
        if rule == "all":
            continue
        for line in lines:
            keys = resource_keys(line)
            assert keys["slurm_account"] == "acct" and "slurm_partition" not in keys, line
            assert keys["constraint"] == "ib"
            assert keys.get("gpu_model") == (None if rule in CPU_RULES else "a100"), line


@pytest.mark.slow
def test_smoke_preset_runs_through_slurm(tmp_path):
    """The smoke preset through the SLURM profile, every job a SLURM job, analyses on GPUs."""
    why = cluster_unavailable()
    if why:
        pytest.skip(why)
    if not (REPO / SMOKE).is_file():
        pytest.skip(f"{SMOKE} (the smoke preset) is not in this checkout yet")
    repo = copy_repo(tmp_path / "repo")
    gpus = gpu_count()
    overlay = tmp_path / "slurm-overlay.yaml"
    overlay.write_text(yaml.safe_dump(slurm_overlay(repo, *node_capacity(), gpus)))
    cmd = [
        sys.executable, "-m", "snakemake", "--cores", "all",
        "--profile", "workflow/profiles/slurm",  # a path: nothing installed, ~ not read
        "--configfile", str(SMOKE), str(overlay),
        # A local cluster answers at once: poll soon after submitting (default 40 s).
        "--slurm-init-seconds-before-status-checks", "2",
        "--slurm-keep-successful-logs",
    ]
    proc = _run(cmd, cwd=repo, env=snakemake_env(), timeout=1500)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-6000:]
    assert (repo / "reports" / "report.html").is_file()

    run_id = re.search(r"SLURM run ID: (\S+)", log)
    assert run_id, "the SLURM executor did not run"
    acct = _run(
        ["sacct", "-X", "-n", "-P", "--clusters", "all", "--starttime", "now-1days",
         "--name", run_id.group(1), "--format", "JobIDRaw,State,AllocTRES"],
        timeout=60, check=True,
    ).stdout.splitlines()
    submitted = len(re.findall(r"has been submitted with SLURM jobid", log))
    assert submitted >= 1 and len(acct) == submitted, (submitted, acct)
    assert all(line.split("|")[1] == "COMPLETED" for line in acct), acct
    # The GPU stage's jobs asked for a GPU through the plugin (--gpus) and got one; the
    # others none. (The executor logs each job's SLURM log as .../slurm_logs/rule_<name>/.)
    on_gpu = {line.split("|")[0] for line in acct if "gres/gpu" in line.split("|")[2]}
    rules = dict(re.findall(r"submitted with SLURM jobid (\d+) \(log: \S*/slurm_logs/rule_(\w+)/",
                            log))
    analyses = {job for job, rule in rules.items() if rule == "analyze"}
    assert len(rules) == submitted
    if gpus:
        assert analyses and on_gpu == analyses, acct
    else:
        assert not on_gpu, acct
