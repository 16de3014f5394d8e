"""RUN/status.json: how a training run ended ("completed" or "diverged at step N")."""

from __future__ import annotations

from pathlib import Path

from harness.checkpoint import divergence_of
from harness.inputs import read_json
from harness.runtime import write_json_atomic


def write_status(run_dir: str | Path, status: str, step: int, message: str = "") -> None:
    """Write RUN/status.json (atomically; the last file a run writes)."""
    obj = {"status": status, "step": int(step)}
    if message:
        obj["message"] = message
    write_json_atomic(Path(run_dir) / "status.json", obj)


def read_status(run_dir: str | Path) -> dict | None:
    """RUN/status.json as a dict, or None when the run has not ended."""
    path = Path(run_dir) / "status.json"
    if not path.exists():
        return None
    return read_json(path, "run status")


def diverged_message(run_dir: str | Path) -> str | None:
    """'diverged at step N' if the run in `run_dir` diverged, else None."""
    status = read_status(run_dir)
    if status and status.get("status") == "diverged":
        return status.get("message") or f"diverged at step {status.get('step')}"
    return None


def clear_status(run_dir: str | Path) -> None:
    """Remove a status file before training on (e.g. with a larger max_steps)."""
    (Path(run_dir) / "status.json").unlink(missing_ok=True)


def no_weights_reason(checkpoint: str | Path) -> str | None:
    """Why an EMA checkpoint path holds no network ('diverged at step N'), or None.

    A divergence record stands in place of a checkpoint the run never reached; where no file
    exists, a run that ended before records existed is read from its status.json."""
    checkpoint = Path(checkpoint)
    if checkpoint.is_file():
        return divergence_of(checkpoint)
    return diverged_message(checkpoint.parent)
