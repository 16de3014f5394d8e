"""Training state files RUN/train_state_{step:07d}.pt: write atomically, find, load, prune.

A state holds the model, every EMA, the optimizer, the step, the RNG states of torch (CPU and
CUDA), NumPy and Python, the data position (the step: batches are addressed by step, see
harness.training.batches) and the run options. Files are written to a temporary name and
renamed, so any `train_state_*.pt` on disk is complete; loading uses `weights_only=True`.
"""

from __future__ import annotations

import os
import random
import re
import sys
import time
from pathlib import Path

import numpy as np
import torch

from harness.runtime import save_torch_atomic

STATE_FORMAT = "harness-train-state/1"
_NAME = re.compile(r"^train_state_(\d{7})\.pt$")
_EMA = re.compile(r"^ema_[0-9.]+_\d{6,}\.pt$")


def state_path(run_dir: str | Path, step: int) -> Path:
    return Path(run_dir) / f"train_state_{step:07d}.pt"


def list_states(run_dir: str | Path) -> list[tuple[int, Path]]:
    """(step, path) of every complete training state, oldest first."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return []
    found = [(int(m.group(1)), run_dir / n) for n in os.listdir(run_dir) if (m := _NAME.match(n))]
    return sorted(found)


def capture_rng() -> dict:
    """RNG states of torch, CUDA (if any), NumPy and Python, as tensors and plain values."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": pos,
                  "has_gauss": has_gauss, "cached_gaussian": cached},
        "python": random.getstate(),
    }


def restore_rng(state: dict) -> None:
    """Inverse of capture_rng (CUDA states only if the device count matches)."""
    torch.set_rng_state(state["torch"])
    if torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"],
                         n["has_gauss"], n["cached_gaussian"]))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))


def save_state(run_dir: str | Path, step: int, payload: dict, keep: int = 2) -> Path:
    """Write the state of `step` atomically, then delete all but the newest `keep` states."""
    path = state_path(run_dir, step)
    save_torch_atomic(path, {"format": STATE_FORMAT, "step": int(step), **payload})
    for _, old in list_states(run_dir)[:-keep]:
        old.unlink(missing_ok=True)
    return path


def load_newest_state(run_dir: str | Path, map_location: str | torch.device = "cpu") -> dict | None:
    """The newest training state that loads, or None when the run has none.

    A file that fails to load (e.g. damaged after it was written) is skipped with a warning in
    favour of the previous one. If states exist but none loads, this is a ValueError naming
    them: the run never starts over from step 0 by itself (`harness train --restart` does).
    """
    unreadable = []
    for step, path in reversed(list_states(run_dir)):
        try:
            state = torch.load(path, map_location=map_location, weights_only=True)
        except Exception as err:  # noqa: BLE001 - any unreadable file means: use the older one
            reason = " ".join(str(err).split()).split(". ")[0][:200] or type(err).__name__
            print(f"warning: skipping unreadable training state {path}: {reason}",
                  file=sys.stderr)
            unreadable.append(f"{path.name} ({reason})")
            continue
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT or state.get(
                "step") != step:
            print(f"warning: skipping {path}: not a {STATE_FORMAT} file for step {step}",
                  file=sys.stderr)
            unreadable.append(f"{path.name} (not a {STATE_FORMAT} file for step {step})")
            continue
        return state
    if unreadable:
        raise ValueError(
            f"run directory '{run_dir}' has training states but none is readable: "
            f"{'; '.join(unreadable)}. They are left as they are; restore them, or rerun with "
            "--restart to move the run's files aside and train again from step 0")
    return None


def set_aside_run_files(run_dir: str | Path) -> Path | None:
    """Move the training states, EMA checkpoints, log.csv and status.json of a run into a new
    folder RUN/set-aside-{UTC time}/ (nothing is deleted); returns it, or None if none."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return None
    names = sorted(n for n in os.listdir(run_dir) if _NAME.match(n) or _EMA.match(n)
                   or n in ("log.csv", "status.json"))
    if not names:
        return None
    aside = run_dir / time.strftime("set-aside-%Y%m%dT%H%M%SZ", time.gmtime())
    aside.mkdir()
    for name in names:
        os.replace(run_dir / name, aside / name)
    return aside
