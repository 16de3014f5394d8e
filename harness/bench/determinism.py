"""Is `harness train` reproducible bitwise on this device: run to run, and across a kill?

Each run is a separate `python -m harness.cli train` process (the cuBLAS workspace setting
must precede CUDA's start, and a kill must hit a real process): two uninterrupted runs, one
stopped halfway and trained on, and one killed with SIGKILL once its first training state
exists and then rerun. The EMA checkpoint and the final training state (model, EMAs,
optimizer) of each are compared by SHA-256 of their tensors.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

from harness.runtime import Execution

STATE_FILES = ("ema_", "train_state_")


def tensor_digest(value: Any, h: Any = None) -> str:
    """SHA-256 of every tensor in a nested dict/list, in sorted-key order (dtype and shape too)."""
    h = h or hashlib.sha256()
    if torch.is_tensor(value):
        t = value.detach().cpu().contiguous()
        h.update(f"{t.dtype}{tuple(t.shape)}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(value, dict):
        for key in sorted(value, key=str):
            h.update(str(key).encode())
            tensor_digest(value[key], h)
    elif isinstance(value, list | tuple):
        for item in value:
            tensor_digest(item, h)
    return h.hexdigest()


def run_digests(run_dir: str | Path) -> dict[str, str]:
    """{file name: digest} of the EMA checkpoints and training states (RNG states excluded:
    they are equal by construction and hold generator bookkeeping)."""
    out = {}
    for path in sorted(Path(run_dir).glob("*.pt")):
        if path.name.startswith(STATE_FILES):
            state = torch.load(path, map_location="cpu", weights_only=True)
            keep = {k: v for k, v in state.items() if k in ("state_dict", "model", "ema",
                                                            "optimizer")}
            out[path.name] = tensor_digest(keep)[:16]
    return out


def execution_args(execution: Execution, fused: bool = False) -> list[str]:
    """`harness train|bench train` flags for `execution` (and fused AdamW)."""
    args = ["--precision", execution.precision, "--compile-mode", execution.compile_mode]
    for flag in ("tf32", "compile", "channels_last", "deterministic"):
        name = flag.replace("_", "-")
        args.append(f"--{name}" if getattr(execution, flag) else f"--no-{name}")
    return args + (["--fused-optimizer"] if fused else [])


def train_command(data: Path, run_dir: Path, steps: int, args: list[str]) -> list[str]:
    return [sys.executable, "-m", "harness.cli", "train", "--data", str(data), "--run-dir",
            str(run_dir), "--max-steps", str(steps), "--no-progress", *args]


def run_command(cmd: list[str], timeout: float) -> dict[str, Any]:
    began = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env=child_environment())
    return {"rc": proc.returncode, "s": round(time.perf_counter() - began, 1),
            "tail": (proc.stdout + proc.stderr)[-600:]}


def child_environment() -> dict[str, str]:
    """This process's environment with this checkout first on PYTHONPATH."""
    root = str(Path(__file__).resolve().parents[2])
    path = os.environ.get("PYTHONPATH", "")
    return dict(os.environ, PYTHONPATH=root + (os.pathsep + path if path else ""))


def killed_run(cmd: list[str], run_dir: Path, first_state: str,
                timeout: float) -> dict[str, Any]:
    """Start `cmd`, SIGKILL it as soon as `first_state` exists in `run_dir`."""
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=child_environment())
    while proc.poll() is None and time.perf_counter() - began < timeout:
        if (run_dir / first_state).exists():
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    rc = proc.wait()
    return {"killed": rc == -signal.SIGKILL,
            "states_at_kill": sorted(p.name for p in run_dir.glob("train_state_*.pt")),
            "s": round(time.perf_counter() - began, 1)}


def reproducibility(data: Path, work: Path, args: list[str], steps: int, save_every: int,
                    timeout: float = 300) -> dict[str, Any]:
    """Train `steps` steps four ways (see the module docstring); digests and verdicts."""
    common = [*args, "--save-every", str(save_every), "--eval-iterations", str(steps)]
    out: dict[str, Any] = {"args": common, "steps": steps}
    for name in ("straight", "again"):
        out[name] = run_command(train_command(data, work / name, steps, common), timeout)
    half = steps // 2
    out["stopped"] = run_command(train_command(data, work / "stopped", half,
                                        [*args, "--save-every", str(save_every)]), timeout)
    out["stopped_resumed"] = run_command(train_command(data, work / "stopped", steps, common),
                                         timeout)
    killed_cmd = train_command(data, work / "killed", steps, common)
    out["killed"] = killed_run(killed_cmd, work / "killed", f"train_state_{save_every:07d}.pt",
                                timeout)
    out["killed_resumed"] = run_command(killed_cmd, timeout)
    digests = {name: run_digests(work / name) for name in ("straight", "again", "stopped",
                                                           "killed")}
    final = [n for n in digests["straight"]
             if n.endswith((f"_{steps:06d}.pt", f"_{steps:07d}.pt"))]
    pick = {name: {f: d.get(f) for f in final} for name, d in digests.items()}
    out["digests"] = pick
    reference = pick["straight"]
    complete = len(reference) >= 2 and all(reference.values())
    out["run_to_run_equal"] = complete and pick["again"] == reference
    out["stopped_and_resumed_equal"] = complete and pick["stopped"] == reference
    out["killed_and_resumed_equal"] = complete and pick["killed"] == reference
    return out
