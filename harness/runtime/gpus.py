"""GPUs shared by the jobs of one machine: which devices exist, and one lock per device, so that
concurrent jobs (e.g. Snakemake's local executor on a workstation) each run on devices of
their own. Snakemake counts a `gpu` resource but does not say which device a job gets.

The locks are RunLocks (flock): the OS releases a device when its job ends or is killed.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from harness.runtime.lock import LockedError, RunLock


def visible_devices(environ: Mapping[str, str], nvidia_smi: str = "nvidia-smi") -> list[str]:
    """The device ids a job may use: CUDA_VISIBLE_DEVICES when set (empty: none), else one id
    per GPU that `nvidia-smi --list-gpus` lists (none without the tool)."""
    if "CUDA_VISIBLE_DEVICES" in environ:
        ids = [d.strip() for d in environ["CUDA_VISIBLE_DEVICES"].split(",")]
        return [] if ids[:1] == ["-1"] else [d for d in ids if d]
    try:
        listed = subprocess.run([nvidia_smi, "--list-gpus"], capture_output=True, text=True,
                                timeout=60, check=True).stdout
    except (OSError, subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return []
    return [str(i) for i, _ in enumerate(x for x in listed.splitlines() if x.startswith("GPU "))]


@contextlib.contextmanager
def claim_devices(devices: list[str], count: int, lock_dir: str | Path, poll_s: float = 2.0,
                  on_wait: Callable[[str], None] | None = None) -> Iterator[list[str]]:
    """Hold `count` of `devices` (waiting until that many are free) and yield their ids.

    A device is free when no live process holds `lock_dir/gpu{id}.lock`. Devices are taken
    all at once or not at all, so two waiting multi-GPU jobs cannot block each other.
    """
    if count > len(devices):
        raise ValueError(f"{count} GPUs asked for, but only {len(devices)} visible "
                         f"({', '.join(devices) or 'none'})")
    waited = False
    while True:
        held: list[tuple[str, RunLock]] = []
        for device in devices:
            lock = RunLock(Path(lock_dir) / f"gpu{device}.lock", f"GPU {device}")
            try:
                lock.acquire()
            except LockedError:
                continue
            held.append((device, lock))
            if len(held) == count:
                break
        if len(held) == count:
            try:
                yield [device for device, _ in held]
            finally:
                for _, lock in held:
                    lock.release()
            return
        for _, lock in held:
            lock.release()
        if on_wait and not waited:
            on_wait(f"all {len(devices)} GPUs are busy; waiting for {count} to come free")
        waited = True
        time.sleep(poll_s)
