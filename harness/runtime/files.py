"""Atomic writes through per-process temporary files beside the target.

A temporary is named `.{target}.{pid}-{token}.harness-tmp` in the target's folder, so two
processes never share one, a rename onto the target is atomic (same file system), and a name
of that shape is never a result: readers look for the target's exact name only. A temporary
left by a killed process is removed by the next writer of the same target once its process is
gone (`remove_stale_temporaries`); nothing else is ever deleted.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

SUFFIX = ".harness-tmp"


def temporary_path(target: str | os.PathLike) -> Path:
    """A fresh temporary name beside `target`, unique to this process and call."""
    target = Path(target)
    return target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}{SUFFIX}")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def remove_stale_temporaries(target: str | os.PathLike) -> list[Path]:
    """Delete temporaries of `target` whose writing process is no longer alive; returns them."""
    target = Path(target)
    folder = target.parent
    if not folder.is_dir():
        return []
    pattern = re.compile(re.escape(f".{target.name}.") + r"(\d+)-[0-9a-f]{8}" + re.escape(SUFFIX))
    removed = []
    for name in os.listdir(folder):
        match = pattern.fullmatch(name)
        if match and int(match.group(1)) != os.getpid() and not _pid_alive(int(match.group(1))):
            path = folder / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed


@contextlib.contextmanager
def atomic_target(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write (a file or a folder); on success rename it to `target`.

    On an exception the temporary is removed and `target` is untouched. A folder target must
    not exist yet (os.replace cannot replace a non-empty folder).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target)
    tmp = temporary_path(target)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        if tmp.is_dir() and not tmp.is_symlink():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` atomically (flushed to disk before the rename)."""
    with atomic_target(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    write_bytes_atomic(path, text.encode())


def write_json_atomic(path: str | os.PathLike, obj: Any, sort_keys: bool = True) -> None:
    """JSON (indented, newline-terminated) written atomically."""
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=sort_keys) + "\n")


def write_npz_atomic(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    """np.savez into memory, then an atomic write (np.savez alone may leave half a file)."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    write_bytes_atomic(path, buffer.getvalue())


def save_torch_atomic(path: str | os.PathLike, payload: Any) -> None:
    """torch.save to a temporary beside `path`, then rename."""
    import torch

    with atomic_target(path) as tmp, open(tmp, "wb") as f:
        torch.save(payload, f)
        f.flush()
        os.fsync(f.fileno())
