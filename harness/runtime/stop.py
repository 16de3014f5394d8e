"""Stopping a long job early when its scheduler asks, without losing its work.

SLURM sends SIGTERM before it kills a job (preemption, the time limit, `scancel`, `scontrol
requeue`) and, when a job asks for it (`sbatch --signal=USR1@300`), SIGUSR1 ahead of the
time limit. Inside `StopSignals()`, either signal only records that a stop was asked for; the
training and sampling loops look at `requested` between steps, keep what they have (a
training state, the finished chunks) and raise harness.errors.Interrupted, which the command
line turns into exit status 75. A rerun of the same command resumes from there.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGUSR1)


class StopSignals:
    """`with StopSignals() as stop:` ... `if stop.requested:` (the signal's name, or None).

    The handlers are installed only in the main thread (Python allows no other) and the
    previous ones are restored on exit. A second signal changes nothing: the first is kept.
    """

    def __init__(self) -> None:
        self.requested: str | None = None
        self._previous: dict[int, object] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested is None:
            self.requested = signal.Signals(signum).name

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
