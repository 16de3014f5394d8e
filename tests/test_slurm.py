"""The SLURM route: the profile, and the smoke preset run end to end through a real cluster.

The end-to-end test needs a SLURM cluster with accounting that answers on this machine
(scripts/slurm/setup-localhost-cluster.sh brings one up on localhost; CI does it through
scripts/ci-slurm.sh) and skips, saying why, where there is none. It runs in a copy of the
repository under tmp_path, so its results never mix with the default local run's.
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


def slurm_overlay(repo: Path, cpus: int, mem_mb: int) -> dict:
    """Config overlay for the smoke preset on this cluster: no GPU requests, every job fits
    the node, and the cluster's account and partition (scripts/slurm: harness, debug)."""
    schema = yaml.safe_load((repo / "workflow/schemas/config.schema.yaml").read_text())
    defaults = {k: v.get("default") for k, v in schema["$defs"]["resources"]["properties"].items()}
    preset = yaml.safe_load((repo / SMOKE).read_text()).get("resources") or {}
    resources = {}
    for stage in schema["properties"]["resources"]["properties"]:
        asked = {**defaults, **(preset.get(stage) or {})}
        resources[stage] = {
            "gpus": 0,
            "cpus": min(asked["cpus"], cpus),
            "mem_mb": min(asked["mem_mb"], mem_mb),
        }
    return {"resources": resources, "slurm_account": "harness", "slurm_partition": "debug"}


def snakemake_env(xdg: Path) -> dict[str, str]:
    """Environment in which `--profile slurm` resolves to the installed link under xdg and
    the `harness` CLI of this interpreter is on PATH (jobs inherit it: sbatch --export=ALL)."""
    bindir = str(Path(sys.executable).parent)
    return {**os.environ, "XDG_CONFIG_HOME": str(xdg), "PATH": f"{bindir}:{os.environ['PATH']}"}


def install_profile(repo: Path, xdg: Path) -> None:
    env = {**os.environ, "XDG_CONFIG_HOME": str(xdg)}
    _run(["bash", str(repo / "scripts/slurm/install-profile.sh")], env=env, check=True)


def test_profile_is_generic_and_valid():
    """The profile selects the executor, keeps cluster values out, and uses real options."""
    profile = yaml.safe_load((PROFILE / "config.yaml").read_text())
    assert profile["executor"] == "slurm"
    assert not {"slurm_account", "slurm_partition"} & set(profile["default-resources"])
    assert profile["retries"] >= 1 and profile["latency-wait"] >= 5
    from snakemake.cli import get_argument_parser  # slow import: only this test needs it

    options = {o for a in get_argument_parser()._actions for o in a.option_strings}
    unknown = [k for k in profile if f"--{k}" not in options]
    assert not unknown, f"not snakemake options: {unknown}"


def test_install_profile_makes_the_name_resolve(tmp_path):
    """`--profile slurm` looks in $XDG_CONFIG_HOME/snakemake/slurm: the link lands there."""
    install_profile(REPO, tmp_path)
    link = tmp_path / "snakemake" / "slurm"
    assert link.is_symlink() and link.resolve() == PROFILE.resolve()
    install_profile(REPO, tmp_path)  # rerunning replaces the link
    assert link.resolve() == PROFILE.resolve()
    link.unlink()
    link.mkdir()
    with pytest.raises(subprocess.CalledProcessError):
        install_profile(REPO, tmp_path)  # a user's own profile is never replaced


@pytest.mark.slow
def test_smoke_preset_runs_through_slurm(tmp_path):
    """`snakemake --cores all --profile slurm` on the smoke preset, every job a SLURM job."""
    why = cluster_unavailable()
    if why:
        pytest.skip(why)
    if not (REPO / SMOKE).is_file():
        pytest.skip(f"{SMOKE} (the smoke preset) is not in this checkout yet")
    repo = copy_repo(tmp_path / "repo")
    xdg = tmp_path / "xdg"
    install_profile(repo, xdg)
    overlay = tmp_path / "slurm-overlay.yaml"
    overlay.write_text(yaml.safe_dump(slurm_overlay(repo, *node_capacity())))
    cmd = [
        sys.executable, "-m", "snakemake", "--cores", "all", "--profile", "slurm",
        "--configfile", str(SMOKE), str(overlay),
        # A local cluster answers at once: poll soon after submitting (default 40 s).
        "--slurm-init-seconds-before-status-checks", "2",
        "--slurm-keep-successful-logs",
    ]
    proc = _run(cmd, cwd=repo, env=snakemake_env(xdg), timeout=1500)
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
    assert not any("gpu" in line for line in acct), acct
