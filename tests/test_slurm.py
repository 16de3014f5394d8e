"""The SLURM route: the card's command (`snakemake --cores all --profile slurm` from the
repository root), the profile, the resources every job asks for, and through a real cluster
the smoke preset end to end, one stage of it on (fake) GPUs, then a training job preempted
mid-run twice while a GPU stage finds no CUDA on its node.

The cluster tests need a SLURM cluster with accounting that answers on this machine
(scripts/slurm/setup-localhost-cluster.sh brings one up on localhost, with fake GPUs as
generic resources; CI does it through scripts/ci-slurm.sh) and skip, saying why, where there
is none. Every run is in a copy of the repository under tmp_path (as a fresh clone would be),
so its results never mix with the default local run's.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from test_train import tensors_equal

from harness.checkpoint import load_checkpoint

REPO = Path(__file__).resolve().parents[1]
PROFILE = REPO / "workflow" / "profiles" / "slurm"
SMOKE = Path("workflow/config/smoke.yaml")
# The design card's command, run from the repository root: the profile by its name.
CARD = ["--cores", "all", "--profile", "slurm"]
# A localhost cluster answers at once: poll soon after submitting (the plugin's default, 40 s,
# suits a real cluster's accounting database).
FAST_POLL = ["--slurm-init-seconds-before-status-checks", "2"]
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
    """Copy the working tree (tracked and untracked, not git-ignored files; links as links)
    to dest: what a fresh clone of this checkout holds."""
    files = _run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, check=True,
    ).stdout.split("\0")
    for rel in filter(None, files):
        src = REPO / rel
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), dest / rel)
        elif src.is_file():
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
    when the cluster has any. The cluster's GPUs are fake (no CUDA), so require_cuda is off:
    the GPU stage runs with --device auto, on the CPU (the next test keeps it on)."""
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
    return {"resources": resources, "slurm_account": "harness", "slurm_partition": "debug",
            "require_cuda": False}


def snakemake_env(home: Path | None = None) -> dict[str, str]:
    """Environment in which the `harness` CLI of this interpreter is on PATH (jobs inherit
    it: sbatch --export=ALL); with `home`, a user whose home and config folder are there."""
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"}
    if home is not None:
        env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"))
    return env


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
    assert profile["slurm-requeue"] is True  # preempted jobs requeued, not lost
    assert (REPO / "slurm").resolve() == PROFILE  # what `--profile slurm` finds in the root
    from snakemake.cli import get_argument_parser  # slow import: only this test needs it

    options = {o for a in get_argument_parser()._actions for o in a.option_strings}
    unknown = [k for k in profile if f"--{k}" not in options]
    assert not unknown, f"not snakemake options: {unknown}"


def paper_data(tmp_path: Path) -> Path:
    for name in ("ffhq", "celebahq", "afhqdog", "metfaces", "cifar10", "imagenet"):
        (tmp_path / "data" / name).mkdir(parents=True)
    return tmp_path / "data"


def card_dry_run(repo: Path, home: Path, *args: str,
                 card: tuple[str, ...] = tuple(CARD)) -> subprocess.CompletedProcess:
    """The card's command with -n, from the root of `repo`, as a user whose home is `home`."""
    out = _run([sys.executable, "-m", "snakemake", *card, "-n", *args], cwd=repo,
               env=snakemake_env(home), timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out


def test_the_card_command_runs_from_a_fresh_clone_with_no_profile_of_the_users(tmp_path):
    """`snakemake --cores all --profile slurm --configfile workflow/config/paper.yaml` in the
    root of a fresh clone, for a user with an empty home: the harness's profile is found, the
    log names its file, and the preset is the paper's (its GPU stages on CUDA only)."""
    repo, home = copy_repo(tmp_path / "repo"), tmp_path / "home"
    home.mkdir()
    out = card_dry_run(repo, home, "--configfile", "workflow/config/paper.yaml",
                       "--config", f"data_root={paper_data(tmp_path)}")
    ours = repo / "workflow" / "profiles" / "slurm" / "config.yaml"
    assert f"profile 'slurm': {ours} (the harness's slurm profile)" in out.stderr
    assert "Using profiles slurm and workflow specific profile profiles/default" in out.stderr
    assert "results/train/ffhq/eps-debias/seed0/ema_0.9999_500000.pt" in out.stdout
    train = re.search(r"^Shell command: (.*harness train .*)$", out.stdout, re.M)
    assert train and train.group(1).startswith(
        "exec harness on-gpus --gpus 1 --require-cuda --unusable-hosts "
        "results/logs/unusable-gpu-hosts -- harness train --device cuda ")


def test_a_profile_of_the_users_named_slurm_is_told_apart(tmp_path):
    """A user who keeps ~/.config/snakemake/slurm: from the root `--profile slurm` is the
    harness's (the working directory comes first) and the log says so; theirs, given by its
    path, is named as not the harness's."""
    repo, home = copy_repo(tmp_path / "repo"), tmp_path / "home"
    theirs = home / ".config" / "snakemake" / "slurm"
    theirs.mkdir(parents=True)
    (theirs / "config.yaml").write_text("jobs: 3\n")
    out = card_dry_run(repo, home, "--configfile", str(SMOKE))
    assert "(the harness's slurm profile)" in out.stderr and str(theirs) not in out.stderr
    out = card_dry_run(repo, home, "--configfile", str(SMOKE),
                       card=("--cores", "all", "--profile", str(theirs)))
    assert (f"profile '{theirs}': {theirs / 'config.yaml'} (not one of the harness's profiles"
            in out.stderr)


def test_gpu_jobs_avoid_recorded_nodes_and_training_is_warned_before_its_limit(tmp_path):
    """slurm_extra: every GPU stage excludes the nodes recorded as having no usable CUDA;
    training and sampling (sample shards too) get SLURM's early SIGTERM (--signal=TERM@300);
    CPU stages (merge-samples among them) neither."""
    (tmp_path / "results/logs/unusable-gpu-hosts").mkdir(parents=True)
    (tmp_path / "results/logs/unusable-gpu-hosts/node7").write_text("no usable CUDA device\n")
    for rule, lines in paper_dry_run(tmp_path).items():
        for line in lines:
            extra = resource_keys(line).get("slurm_extra", "").split()
            assert ("--exclude=node7" in extra) == (rule not in CPU_RULES), (rule, line)
            resumable = rule in ("train", "sample", "sample_shard")  # harness train/sample
            assert ("--signal=TERM@300" in extra) == resumable, (rule, line)


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
    cmd = [sys.executable, "-m", "snakemake", *CARD, "--configfile", str(SMOKE), str(overlay),
           *FAST_POLL]
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


PREEMPTED_STEPS = 300  # long enough to be stopped twice, seconds on the CPU
RUN = "results/train/tiny/eps-constant/seed0"
HOSTS = "results/logs/unusable-gpu-hosts"
CHECKPOINT = f"{RUN}/ema_0.9_{PREEMPTED_STEPS:06d}.pt"


def cluster_life_config(repo: Path, cpus: int, mem_mb: int) -> dict:
    """The smoke preset cut to one training run of PREEMPTED_STEPS steps, whose only periodic
    training state is the last (every other one is a signal's), and reference statistics on a
    (fake) GPU with require_cuda on (the default)."""
    config = yaml.safe_load((repo / SMOKE).read_text())
    config.update(replicates=1, slurm_account="harness", slurm_partition="debug",
                  experiments={"table1": {"weightings": ["constant"],
                                          "rows": [{"dataset": "tiny", "steps": [2]}]}})
    config["training"].update(iterations=PREEMPTED_STEPS, save_every=10 * PREEMPTED_STEPS)
    for stage, asked in config["resources"].items():
        asked.update(cpus=min(asked["cpus"], cpus), mem_mb=min(asked["mem_mb"], mem_mb),
                     gpus=int(stage == "refstats"))
    return config


def wait_for(what: str, ready, proc: subprocess.Popen, output: Path, limit_s: float = 900):
    """Poll `ready()` until it returns a true value (returned); fail, saying what, if the
    workflow ends first or nothing happens within limit_s (generous: not a speed test)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        found = ready()
        if found:
            return found
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError(f"never saw {what}:\n{output.read_text()[-4000:]}")


@pytest.mark.slow
def test_a_preempted_training_job_resumes_and_a_gpu_job_avoids_a_node_without_cuda(tmp_path):
    """Through the card's command on a real cluster: a training job is preempted mid-run
    (`scontrol requeue`: SIGTERM to every process of the job, then the kill, and the same job
    runs again), then given SLURM's early notice (`scancel --signal=TERM`, what --signal=TERM@300
    sends before a time limit: the job ends and Snakemake resubmits it). Each time the harness
    saves the step it was in, and the final weights equal an uninterrupted run's, bitwise.
    Meanwhile the reference statistics, on a fake GPU, stop at once naming the node, and their
    resubmission excludes that node (refused by this one-node cluster) instead of retrying it."""
    why = cluster_unavailable()
    if why:
        pytest.skip(why)
    if not gpu_count():
        pytest.skip("the cluster has no (fake) GPUs for the GPU stage")
    repo = copy_repo(tmp_path / "repo")
    config = tmp_path / "cluster-life.yaml"
    config.write_text(yaml.safe_dump(cluster_life_config(repo, *node_capacity())))
    output = tmp_path / "snakemake.out"
    cmd = [sys.executable, "-m", "snakemake", *CARD, "--configfile", str(config), *FAST_POLL,
           CHECKPOINT, "results/refstats/tiny.npz"]
    with output.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=repo, env=snakemake_env(), stdout=out,
                                stderr=subprocess.STDOUT, text=True)

    def train_job() -> str | None:
        jobs = re.findall(r"submitted with SLURM jobid (\d+) \(log: \S*/slurm_logs/rule_train/",
                          output.read_text())
        return jobs[-1] if jobs else None

    def logged_step() -> int:
        path = repo / RUN / "log.csv"
        rows = path.read_text().split()[1:] if path.exists() else []
        return max((int(r.split(",")[0]) for r in rows if r[:1].isdigit()), default=0)

    def stops() -> list[int]:
        """Steps of the training states that signals asked for (the periodic one is the last;
        the newest two states are kept)."""
        steps = [int(p.stem.rsplit("_", 1)[1]) for p in (repo / RUN).glob("train_state_*.pt")]
        return sorted(s for s in steps if s != PREEMPTED_STEPS)

    reference, whole = tmp_path / "whole", None
    try:
        wait_for("training under way", lambda: train_job() and logged_step() >= 20, proc, output)
        job = train_job()
        # The uninterrupted run, meanwhile: the job's own command (and threads), into another
        # run directory.
        command = re.search(rf"Shell command: exec (harness train .*--run-dir {RUN} .*) >> ",
                            output.read_text()).group(1)
        whole = subprocess.Popen(
            shlex.split(command.replace(f"--run-dir {RUN}", f"--run-dir {reference}")),
            cwd=repo, env={**snakemake_env(), "OMP_NUM_THREADS": "1"},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        _run(["scontrol", "requeue", job], check=True, timeout=60)
        first = wait_for("the preempted job's stop", lambda: stops()[:1], proc, output)[0]
        wait_for("the job back in the queue", lambda: _run(
            ["squeue", "-h", "-j", job, "-o", "%T"], timeout=60).stdout.strip() == "PENDING",
            proc, output)
        # A requeued job waits before it may start again (SLURM's requeue delay): now, please.
        _run(["scontrol", "update", f"JobId={job}", "StartTime=now"], check=True, timeout=60)
        wait_for("training resumed", lambda: logged_step() >= first + 20, proc, output)
        _run(["scancel", "--signal=TERM", job], check=True, timeout=60)
        second = wait_for("the second stop", lambda: [s for s in stops() if s > first], proc,
                          output)[0]
        proc.wait(timeout=900)
        assert whole.wait(timeout=900) == 0, whole.stderr.read()[-3000:]
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=120)
        if whole is not None and whole.poll() is None:
            whole.kill()
    log = output.read_text()
    assert 0 < first < second < PREEMPTED_STEPS, (first, second)
    assert stops() == [second]  # and the final state: the run ended from where it stopped
    assert (repo / CHECKPOINT).exists(), log[-4000:]
    acct = _run(["sacct", "-n", "-P", "-D", "-j", job, "-o", "State"], timeout=60).stdout.split()
    assert "REQUEUED" in acct, acct

    name = Path(CHECKPOINT).name
    assert tensors_equal(load_checkpoint(repo / CHECKPOINT).state_dict,
                         load_checkpoint(reference / name).state_dict)
    state = f"train_state_{PREEMPTED_STEPS:07d}.pt"
    a = torch.load(repo / RUN / state, weights_only=True)
    b = torch.load(reference / state, weights_only=True)
    for key in ("model", "ema", "optimizer", "log_window"):
        assert tensors_equal(a[key], b[key]), key

    # The GPU stage: one attempt on the node, stopped at once, naming it; no second one there.
    assert proc.returncode != 0  # the reference statistics could not be made anywhere
    node = _run(["sinfo", "-h", "-o", "%N"], timeout=30).stdout.strip()
    said = (repo / "results/logs/refstats/tiny.log").read_text().strip().splitlines()
    assert len(said) == 1 and said[0].startswith("Error: no usable CUDA device on host ")
    assert "(CUDA_VISIBLE_DEVICES=" in said[0] and f"recorded in {HOSTS}/{node}" in said[0]
    assert (repo / HOSTS / node).exists()
    assert f"--exclude={node}" in log and "Requested node configuration is not available" in log
    assert len(re.findall(r"submitted with SLURM jobid \d+ \(log: \S*/rule_refstats/", log)) == 1
