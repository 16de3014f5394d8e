"""GPUs without SLURM: `harness on-gpus` gives each job devices of its own (lock files), with a
fake `nvidia-smi` standing for machines with N GPUs; then the same through the workstation
profile and the real Snakefile (stand-in `harness` verbs). And a stage that asks for GPUs never
runs on the CPU: on a machine without CUDA it fails at once, saying why."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
import torch
import yaml
from click.testing import CliRunner
from test_faults_runs import make_checkpoint
from test_train import TINY, make_images
from test_workflow import PRESETS, ROOT, snakemake, stub  # noqa: F401 (stub is a fixture)

from harness.cli import main
from harness.errors import EXIT_NO_CUDA
from harness.runtime.gpus import claim_devices, visible_devices
from harness.workflow.unusable_hosts import exclude_option

needs_no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is usable")
HARNESS = [sys.executable, "-c", "from harness.cli import main; main()"]


def fake_nvidia_smi(bindir: Path, gpus: int) -> None:
    """An `nvidia-smi` that lists `gpus` devices (as `nvidia-smi --list-gpus` does)."""
    lines = "".join(f"echo 'GPU {i}: Fake GPU (UUID: GPU-{i:08d})'\n" for i in range(gpus))
    (bindir / "nvidia-smi").write_text(f"#!/bin/sh\n{lines}")
    (bindir / "nvidia-smi").chmod(0o755)


def held_intervals(log: Path) -> dict[str, list[str]]:
    """Per device, the sequence of 'start'/'end' events written while a job held it."""
    events = defaultdict(list)
    for line in log.read_text().splitlines():
        kind, device, _pid = line.split()
        events[device].append(kind)
    return events


def test_visible_devices(tmp_path):
    fake_nvidia_smi(tmp_path, 3)
    smi = str(tmp_path / "nvidia-smi")
    assert visible_devices({}, smi) == ["0", "1", "2"]
    assert visible_devices({"CUDA_VISIBLE_DEVICES": "2,5"}, smi) == ["2", "5"]
    assert visible_devices({"CUDA_VISIBLE_DEVICES": ""}, smi) == []
    assert visible_devices({"CUDA_VISIBLE_DEVICES": "-1"}, smi) == []
    assert visible_devices({}, str(tmp_path / "absent")) == []


def test_claims_are_exclusive_and_all_or_nothing(tmp_path):
    with claim_devices(["0", "1", "2"], 2, tmp_path) as first:
        assert len(first) == 2
        with claim_devices(["0", "1", "2"], 1, tmp_path) as second:
            assert set(second).isdisjoint(first)
            waits = []

            def give_up(message):  # a third claim finds nothing free and says so
                waits.append(message)
                raise TimeoutError

            with pytest.raises(TimeoutError), claim_devices(["0", "1", "2"], 1, tmp_path,
                                                            on_wait=give_up):
                pass
            assert waits == ["all 3 GPUs are busy; waiting for 1 to come free"]
    with claim_devices(["0", "1", "2"], 3, tmp_path) as everything:  # all released
        assert sorted(everything) == ["0", "1", "2"]
    with (pytest.raises(ValueError, match="4 GPUs asked for, but only 3 visible"),
          claim_devices(["0", "1", "2"], 4, tmp_path)):
        pass


def test_concurrent_jobs_never_share_a_device(tmp_path):
    """Five one-GPU commands at once on a fake 2-GPU machine: each runs, on one device, and a
    device is held by one command at a time (the others wait)."""
    fake_nvidia_smi(tmp_path, 2)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    env.pop("CUDA_VISIBLE_DEVICES", None)
    env.pop("SLURM_JOB_ID", None)
    log = tmp_path / "held.log"
    job = (f'echo "start $CUDA_VISIBLE_DEVICES $$" >> {log}; sleep 0.3; '
           f'echo "end $CUDA_VISIBLE_DEVICES $$" >> {log}')
    cmd = [sys.executable, "-c", "from harness.cli import main; main()", "on-gpus", "--gpus",
           "1", "--lock-dir", str(tmp_path / "locks"), "--", "sh", "-c", job]
    procs = [subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)
             for _ in range(5)]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), errors
    events = held_intervals(log)
    assert set(events) <= {"0", "1"} and sum(len(v) for v in events.values()) == 10
    for device, seq in events.items():
        assert seq == ["start", "end"] * (len(seq) // 2), (device, seq)
    # Without a GPU the command runs as it is; inside a SLURM job SLURM's devices are used.
    out = subprocess.run(cmd[:-4] + ["--", "sh", "-c", "echo ${CUDA_VISIBLE_DEVICES-unset}"],
                         env={**env, "PATH": os.environ["PATH"]}, capture_output=True,
                         text=True)
    assert out.stdout.strip() == "unset" and "no GPU visible" in out.stderr
    out = subprocess.run(cmd[:-4] + ["--", "sh", "-c", "echo $CUDA_VISIBLE_DEVICES"],
                         env={**env, "SLURM_JOB_ID": "7", "CUDA_VISIBLE_DEVICES": "0"},
                         capture_output=True, text=True)
    assert out.stdout.strip() == "0"


@pytest.mark.slow
def test_workstation_profile_gives_each_gpu_job_its_own_device(stub, tmp_path):  # noqa: F811
    """The real DAG on a fake 2-GPU machine, sampling on GPUs, four jobs at once: every sample
    job runs under CUDA_VISIBLE_DEVICES of one device, never one that another job holds."""
    bindir, work = stub
    fake_nvidia_smi(bindir, 2)
    config = yaml.safe_load((PRESETS / "smoke.yaml").read_text())
    config["experiments"] = {"table1": {"weightings": ["constant", "debias"],
                                        "rows": [{"dataset": "tiny", "steps": [4, 2]}]}}
    config["resources"]["sample"]["gpus"] = 1
    (tmp_path / "gpu.yaml").write_text(yaml.safe_dump(config))
    out = snakemake(["--profile", str(ROOT / "workflow/profiles/workstation"), "--cores", "4",
                     "--configfile", str(tmp_path / "gpu.yaml")], work, bindir,
                    env_extra={"STUB_SAMPLE_SECONDS": "0.5"})
    assert ("harness on-gpus --gpus 1 --require-cuda --unusable-hosts "
            "results/logs/unusable-gpu-hosts -- harness sample --device cuda") in out.stderr
    events = held_intervals(work / "stub_gpus.log")
    assert set(events) <= {"0", "1"}
    assert sum(len(v) for v in events.values()) == 2 * 8  # 2 weightings x 2 steps x 2 seeds
    for device, seq in events.items():
        assert seq == ["start", "end"] * (len(seq) // 2), (device, seq)
    # Only the GPU stage is launched on GPUs (CPU-only stages carry no gpu resource).
    launched = [c for c in (work / "stub_calls.log").read_text().splitlines()
                if c.startswith("on-gpus")]
    assert len(launched) == 8 and all(" -- harness sample " in c for c in launched)


@needs_no_cuda
def test_verbs_asked_for_cuda_without_it_fail_at_once_naming_host_and_devices(tmp_path):
    data = make_images(tmp_path / "data")
    run = tmp_path / "run"
    train = ["train", "--data", str(data), "--run-dir", str(run), "--max-steps", "2",
             *TINY[:-3], "--device", "cuda"]
    ckpt = make_checkpoint(tmp_path / "ema.pt")
    sample = ["sample", "--checkpoint", str(ckpt), "--sampler", "ddim", "--steps", "2",
              "--num-samples", "2", "--out", str(tmp_path / "s.npz"),
              "--grid", str(tmp_path / "s.png"), "--device", "cuda:0"]
    for argv in (train, sample):
        result = CliRunner().invoke(main, argv, env={"CUDA_VISIBLE_DEVICES": "3"})
        assert result.exit_code == EXIT_NO_CUDA, result.output
        [line] = result.output.strip().splitlines()  # one line, nothing else
        assert line.startswith("Error: no usable CUDA device on host ") and \
            "(CUDA_VISIBLE_DEVICES='3')" in line and "does not fall back to the CPU" in line
    assert not run.exists()


@needs_no_cuda
def test_on_gpus_require_cuda_in_a_slurm_job_records_the_node_and_runs_nothing(tmp_path):
    hosts = tmp_path / "unusable"
    env = {**os.environ, "SLURM_JOB_ID": "7", "SLURMD_NODENAME": "gpu-node-3",
           "CUDA_VISIBLE_DEVICES": "0"}
    out = subprocess.run([*HARNESS, "on-gpus", "--gpus", "1", "--require-cuda",
                          "--unusable-hosts", str(hosts), "--", "touch", str(tmp_path / "ran")],
                         env=env, capture_output=True, text=True)
    assert out.returncode == EXIT_NO_CUDA and not (tmp_path / "ran").exists()
    [line] = out.stderr.strip().splitlines()
    assert "no usable CUDA device on host" in line and "CUDA_VISIBLE_DEVICES='0'" in line
    assert f"recorded in {hosts / 'gpu-node-3'}" in line
    assert "no usable CUDA device" in (hosts / "gpu-node-3").read_text()
    assert exclude_option(hosts) == "--exclude=gpu-node-3"
    # Without --require-cuda the command runs, in place of on-gpus (the same process).
    out = subprocess.run([*HARNESS, "on-gpus", "--gpus", "1", "--", "sh", "-c", "echo $PPID"],
                         env=env, capture_output=True, text=True)
    assert out.returncode == 0 and int(out.stdout) == os.getpid()


@needs_no_cuda
def test_a_gpu_stage_without_cuda_fails_at_once_in_the_workflow(stub):  # noqa: F811
    """The smoke preset with its reference statistics on a GPU, on this CPU-only machine: the
    refstats job stops before its verb runs, its log says why in one line, and the node is
    recorded for later SLURM submissions to exclude."""
    bindir, work = stub
    config = yaml.safe_load((PRESETS / "smoke.yaml").read_text())
    config["resources"]["refstats"]["gpus"] = 1
    (work / "gpu.yaml").write_text(yaml.safe_dump(config))
    out = snakemake(["--cores", "1", "--configfile", str(work / "gpu.yaml"), "-p",
                     "results/refstats/tiny.npz"], work, bindir, check=False)
    assert out.returncode != 0
    assert ("harness on-gpus --gpus 1 --require-cuda --unusable-hosts "
            "results/logs/unusable-gpu-hosts -- harness refstats --device cuda") in out.stderr
    [line] = (work / "results/logs/refstats/tiny.log").read_text().strip().splitlines()
    assert line.startswith("Error: no usable CUDA device on host ")
    assert "CUDA_VISIBLE_DEVICES" in line
    calls = (work / "stub_calls.log").read_text().splitlines()
    assert [c.split()[0] for c in calls] == ["prepare", "on-gpus"]  # refstats itself never ran
    assert len(list((work / "results/logs/unusable-gpu-hosts").iterdir())) == 1
