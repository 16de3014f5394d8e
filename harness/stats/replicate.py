"""One training seed's number for a table cell, and a cell as the replicates of its seeds."""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from harness.stats import estimate as est


@dataclass(frozen=True)
class Replicate:
    """One training seed's number for a cell, with what it carries about its sampling noise and
    the trained network it comes from (one network sampled at several step counts, or one run
    at several checkpoints, carries one training-seed shift into all of them)."""

    point: float
    boot: np.ndarray | None = None  # bootstrap replicates of the metric (only their spread counts)
    se: float | None = None  # a standard error carried by the file, when there is no bootstrap
    n_samples: int | None = None  # generated samples behind the point value
    exact: bool = False  # a published number
    network: Hashable | None = None  # the trained network (run and seed); None: unknown

    def boot_se(self) -> float | None:
        """The standard error of the point value (bootstrap, else the file's)."""
        if self.boot is not None and self.n_samples:
            return est.bootstrap(self.point, self.boot, self.n_samples).se
        return self.se

    def log(self) -> Replicate | None:
        """The same number on the log scale (None unless positive): bootstrap replicates
        logged where all are positive, else the delta method's se / point."""
        if not self.point > 0:
            return None
        boot = None
        if self.boot is not None and np.all(np.asarray(self.boot) > 0):
            boot = np.log(np.asarray(self.boot, np.float64))
        se = self.boot_se() if boot is None else None
        return Replicate(math.log(self.point), boot, None if se is None else se / self.point,
                         self.n_samples if boot is not None else None, self.exact, self.network)


Cell = Mapping[int, Replicate]
Terms = Sequence[tuple[float, Cell]]


def log_cell(cell: Cell) -> dict[int, Replicate] | None:
    """Every replicate of ``cell`` on the log scale; None when one is not positive."""
    logged = {r: rep.log() for r, rep in cell.items()}
    return None if any(v is None for v in logged.values()) else logged
