"""The A/A check by simulation: both arms come from one distribution, so every decided verdict
is a false one. Used by the tests (calibration of the machinery) and by the report (the rate
expected for the plan's own replicate and sample counts).

A simulated cell has, per arm and training seed, N per-sample contributions to a mean-like metric
(KID is an average over pairs of samples): a per-seed shift (sd `seed_sd`) plus skewed per-sample
noise (a centred gamma, unit variance), the two arms' samples correlated by `pairing` (common x_T).
Its point value is the mean, its bootstrap replicates are means over the shared resample indices
(`resample_indices`); the verdict comes from the report's own `combine` and `decide`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.stats.contrast import Replicate, combine
from harness.stats.decision import VERDICTS, decide, direction
from harness.stats.resample import resample_counts, resample_indices


@dataclass(frozen=True)
class Simulation:
    trials: int
    rates: dict[str, float]  # verdict -> fraction of trials

    @property
    def false_decisions(self) -> float:
        return 1.0 - self.rates["inconclusive"]

    def monte_carlo_error(self, rate: float = 0.05) -> float:
        """Half-width of the 95% band of an observed rate around ``rate`` from this many trials."""
        return 1.96 * float(np.sqrt(rate * (1 - rate) / self.trials))


def _noise(rng: np.random.Generator, shape: tuple[int, ...], skew_shape: float) -> np.ndarray:
    return (rng.gamma(skew_shape, size=shape) - skew_shape) / np.sqrt(skew_shape)


def simulate_cells(rng: np.random.Generator, trials: int, cells: int, replicates: int,
                   n_samples: int, seed_sd: float, pairing: float, effect: float = 0.0,
                   skew_shape: float = 2.0) -> np.ndarray:
    """Per-sample values (trials, cells, 2 arms, replicates, n_samples); arm 0 is shifted by
    ``effect`` (per-sample noise sd units)."""
    shape = (trials, cells, replicates, n_samples)
    common = _noise(rng, shape, skew_shape)
    own = _noise(rng, (trials, cells, 2, replicates, n_samples), skew_shape)
    samples = np.sqrt(pairing) * common[:, :, None] + np.sqrt(1 - pairing) * own
    seeds = rng.normal(0, seed_sd, (trials, cells, 2, replicates, 1))
    samples += seeds
    samples[:, :, 0] += effect
    return samples


def simulate_aa(trials: int = 2000, cells: int = 1, replicates: int = 3, n_samples: int = 40,
                resamples: int = 200, seed_sd: float = 0.5, pairing: float = 0.5,
                effect: float = 0.0, confidence: float = 0.95, seed: int = 0) -> Simulation:
    """Verdict rates of the claim 'arm 0 is higher than arm 1 in every cell' (see module doc)."""
    rng = np.random.default_rng(seed)
    values = simulate_cells(rng, trials, cells, replicates, n_samples, seed_sd, pairing, effect)
    points = values.mean(-1)
    boots = None
    if replicates == 1:  # the single-seed path decides on the bootstrap
        counts = resample_counts(resample_indices(seed, n_samples, resamples))
        boots = values @ counts.T / n_samples  # (..., resamples)
    tally = dict.fromkeys(VERDICTS, 0)
    for t in range(trials):
        tests = []
        for c in range(cells):
            arms = [{r: Replicate(float(points[t, c, a, r]),
                                  None if boots is None else boots[t, c, a, r], None, n_samples)
                     for r in range(replicates)} for a in (0, 1)]
            tests.append(direction(f"cell {c}", combine([(1.0, arms[0]), (-1.0, arms[1])])))
        tally[decide(tests, confidence).outcome] += 1
    return Simulation(trials, {v: tally[v] / trials for v in VERDICTS})
