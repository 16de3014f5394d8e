"""An advisory lock per run directory or output file, so that two processes never share one.

`fcntl.flock` on a small lock file: the OS releases it when the holder exits or is killed, so
a killed job never blocks its rerun. The holder writes who it is (host, pid, command, time)
into the file; a second process is refused with that text.
"""

from __future__ import annotations

import fcntl
import os
import socket
import sys
import time
from pathlib import Path

from harness.errors import UserError


class LockedError(UserError, RuntimeError):
    """Another live process holds the lock (a user error: the message names the holder)."""


class RunLock:
    """`with RunLock(path):` holds an exclusive lock on `path` (created if absent)."""

    def __init__(self, path: str | os.PathLike, what: str) -> None:
        self.path = Path(path)
        self.what = what  # e.g. "run directory results/train/x" (for the message)
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode(errors="replace").strip() or "unknown process"
            os.close(fd)
            raise LockedError(f"{self.what} is in use by another process ({holder}; lock "
                              f"file {self.path}); wait for it to finish or stop it") from None
        command = " ".join(os.path.basename(a) if i == 0 else a
                           for i, a in enumerate(sys.argv))[:300]
        info = (f"pid {os.getpid()} on {socket.gethostname()} since "
                f"{time.strftime('%Y-%m-%d %H:%M:%S')}: {command}")
        os.ftruncate(fd, 0)
        os.pwrite(fd, info.encode() + b"\n", 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def output_lock(out: str | os.PathLike, what: str) -> RunLock:
    """The lock of one output file or folder: `.NAME.lock` beside it (`what`: e.g. "sampling
    output", named with the path in the refusal)."""
    out = Path(out)
    return RunLock(out.with_name(f".{out.name}.lock"), f"{what} '{out}'")
