"""Benchmark helpers shared by `harness bench ...`: timing, environment record, JSON output."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import torch

from harness.runtime import code_commit, device_name, write_text_atomic


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so wall-clock times cover it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_calls(fn: Callable[[], Any], device: torch.device, warmup: int, iters: int) -> dict:
    """Call ``fn`` ``warmup`` times untimed, then ``iters`` times; per-call seconds + summary."""
    if iters < 1:
        raise ValueError(f"iters must be >= 1, got {iters}")
    for _ in range(warmup):
        fn()
    synchronize(device)
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return {"times_s": times, "min_s": min(times), "median_s": statistics.median(times)}


def environment(device: torch.device) -> dict[str, Any]:
    """Where a benchmark ran: device name, torch/CUDA versions, CPU threads, host, time."""
    return {
        "device": str(device),
        "device_name": device_name(device),
        "torch": torch.__version__,
        "cuda": torch.version.cuda if device.type == "cuda" else None,
        "cpu_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "code_commit": code_commit(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_json(result: dict[str, Any], out: str | os.PathLike | None) -> str:
    """Serialise ``result``; write it to ``out`` (folders created) when given. Returns the text."""
    text = json.dumps(result, indent=2)
    if out is not None:
        write_text_atomic(out, text + "\n")
    return text
