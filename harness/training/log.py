"""RUN/log.csv: losses averaged over a window of steps, overall and per quartile of t (ADM).

ADM logs each loss term overall and as `{term}_q{k}` for the quartile k = int(4 t / T) of
the timestep; we do the same for the total loss. On resume, rows written after the state
that is resumed from are dropped and the window's sums saved in that state are restored, so
the log of a resumed run equals the uninterrupted one (apart from samples/s) even when the
state was written mid-window (a job stopped by a signal).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from harness.runtime import atomic_target

COLUMNS = ["step", "loss", "mse", "vb", "loss_q0", "loss_q1", "loss_q2", "loss_q3",
           "lr", "samples_per_s"]


class LossLog:
    """Accumulates per-sample losses and appends one CSV row per window."""

    def __init__(self, path: str | Path, resume_step: int, num_timesteps: int) -> None:
        self.path = Path(path)
        self.num_timesteps = num_timesteps
        self._truncate(resume_step)
        self._reset()

    def _truncate(self, resume_step: int) -> None:
        rows = []
        if self.path.exists() and resume_step > 0:
            with self.path.open(newline="") as f:
                # A row cut short by a kill has missing fields (None): drop it.
                rows = [r for r in csv.DictReader(f)
                        if None not in r.values() and int(r["step"]) <= resume_step]
        with atomic_target(self.path) as tmp, tmp.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)

    def _reset(self) -> None:
        self.sums = {"loss": 0.0, "mse": 0.0, "vb": 0.0}
        self.count = 0
        self.has_vb = False
        self.q_sums = np.zeros(4)
        self.q_counts = np.zeros(4)

    def window(self) -> dict:
        """The sums of the window not yet written (JSON values, for a training state)."""
        return {"sums": dict(self.sums), "count": self.count, "has_vb": self.has_vb,
                "q_sums": self.q_sums.tolist(), "q_counts": self.q_counts.tolist()}

    def restore_window(self, window: dict) -> None:
        """Continue the window that `window()` returned (e.g. in the state resumed from)."""
        self.sums = {k: float(window["sums"][k]) for k in self.sums}
        self.count, self.has_vb = int(window["count"]), bool(window["has_vb"])
        self.q_sums = np.array(window["q_sums"], dtype=np.float64)
        self.q_counts = np.array(window["q_counts"], dtype=np.float64)

    def add(self, t: np.ndarray, terms: dict[str, np.ndarray]) -> None:
        """Per-sample timesteps and loss terms ("loss", "mse", optional "vb") of one step."""
        self.count += len(t)
        for key in self.sums:
            if key in terms:
                self.sums[key] += float(np.sum(terms[key]))
        self.has_vb = self.has_vb or "vb" in terms
        quartile = np.clip((4 * t) // self.num_timesteps, 0, 3)
        np.add.at(self.q_sums, quartile, terms["loss"])
        np.add.at(self.q_counts, quartile, 1)

    def write(self, step: int, lr: float, samples_per_s: float) -> dict:
        """Append the window's averages as the row of `step`; returns the row."""
        n = max(self.count, 1)
        row = {"step": step, "loss": self.sums["loss"] / n, "mse": self.sums["mse"] / n,
               "vb": self.sums["vb"] / n if self.has_vb else "", "lr": lr,
               "samples_per_s": round(samples_per_s, 3)}
        for k in range(4):
            row[f"loss_q{k}"] = self.q_sums[k] / self.q_counts[k] if self.q_counts[k] else ""
        with self.path.open("a", newline="") as f:
            csv.DictWriter(f, fieldnames=COLUMNS).writerow(row)
        self._reset()
        return row
