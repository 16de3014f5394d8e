"""Every decision path the report uses, run on simulated data: A/A (both arms from one
distribution, so every decided verdict is a false one), the equivalence path at its margin (a
"similar" there is false), and arms apart by an effect (power). Used by the tests (calibration
of the machinery) and by the report (the rates for the plan's own seeds, samples and seed noise,
as the tests assume it and under misspecification).

A simulated cell value, per arm and training seed, is a level (1: every quantity is relative to
the cell's value) plus a training-seed shift (sd `seed_cv`, independent between arms, as the
A/A control's arms are trained from different seeds) plus the mean of N per-sample
contributions (skewed: a centred gamma) of sd `sample_sd`, correlated between arms by
`pairing` (common x_T). Bootstrap replicates are means over the shared resample indices
(`resample_indices`). One-seed paths pool the seed noise from `pool_cells` replicated cells of
`pool_seeds` seeds drawn from the same model, as the report pools a run's replicated cells.
Every verdict comes from the report's own `combine_bounded`, `pool_seed_noise`,
`decide_bounded`.

Misspecification (what the tests do not assume): `arm_cv_ratio` gives arm 0 a seed CV that the
pooled one does not describe; `seed_df` draws the shifts from Student's t; `pool_networks` lets
the pooled cells come from fewer sets of networks (one set sampled at several step counts: one
shift each), so the pool holds fewer independent degrees of freedom than cells; `shared_levels`
lets a claim's cells (levels) of one arm come from one network, as its step counts do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from harness.stats.contrast import Replicate, combine_bounded
from harness.stats.decision import (
    CONTRADICTED,
    INCONCLUSIVE,
    SUPPORTED,
    VERDICTS,
    decide_bounded,
    direction,
    equivalence,
)
from harness.stats.resample import resample_counts, resample_indices
from harness.stats.seednoise import pool_seed_noise

PAIRED, WELCH, ONE_SEED, EQUIVALENCE, DIFF_OF_DIFFS, MULTI_CELL = (
    "paired t over seeds", "Welch over unpaired seeds", "one seed + pooled seed noise",
    "equivalence (two one-sided tests)", "difference of differences", "Holm / all cells")
PATHS = (PAIRED, WELCH, ONE_SEED, EQUIVALENCE, DIFF_OF_DIFFS, MULTI_CELL)
EQUIVALENCE_MARGIN = 0.10  # relative to the level, as the report's "similar" claims


@dataclass(frozen=True)
class Setting:
    """What a simulated run looks like (see the module docstring)."""

    seeds: int = 3  # training seeds per arm (1: the one-seed path with pooled seed noise)
    n_samples: int = 40
    resamples: int = 200
    seed_cv: float = 0.03  # training-seed sd / value
    sample_sd: float = 0.05  # per-sample sd / value (the sampling se is sample_sd / sqrt(N))
    pairing: float = 0.5  # correlation of the two arms' per-sample contributions
    pool_cells: int = 6  # replicated cells the one-seed path pools its seed noise from
    pool_seeds: int = 3
    cells: int = 1  # cells of the claim
    effect: float = 0.0  # arm 0 minus arm 1, relative to the level (difference of differences:
    # at the first level only)
    arm_cv_ratio: float = 1.0  # arm 0's seed CV / seed_cv
    seed_df: float = math.inf  # Student-t shifts with this many df (inf: normal)
    pool_networks: int | None = None  # sets of networks behind the pooled cells (None: one each)
    shared_levels: bool = False  # a claim's cells of one arm share that arm's network


@dataclass(frozen=True)
class Simulation:
    path: str
    setting: Setting
    trials: int
    rates: dict[str, float]  # verdict -> fraction of trials

    @property
    def false_decisions(self) -> float:
        """Wrong verdicts: with no effect, any decided one (equivalence: contradicted); for
        equivalence at its margin, supported; with an effect, the opposite direction."""
        effect = self.setting.effect
        if self.path == EQUIVALENCE:
            return self.rates[SUPPORTED if effect else CONTRADICTED]
        if not effect:
            return 1.0 - self.rates[INCONCLUSIVE]
        return self.rates[CONTRADICTED if effect > 0 else SUPPORTED]

    @property
    def power(self) -> float:
        """The share of trials that found the effect in its direction."""
        return self.rates[SUPPORTED if self.setting.effect > 0 else CONTRADICTED]

    def monte_carlo_error(self, rate: float = 0.05) -> float:
        """Half-width of the 95% band of an observed rate around ``rate`` from this many trials."""
        return 1.96 * float(np.sqrt(rate * (1 - rate) / self.trials))


def _noise(rng: np.random.Generator, shape: tuple[int, ...], skew_shape: float = 2.0):
    return (rng.gamma(skew_shape, size=shape) - skew_shape) / np.sqrt(skew_shape)


def _shifts(rng: np.random.Generator, s: Setting, shape: tuple[int, ...]) -> np.ndarray:
    """Unit-variance training-seed shifts (normal, or Student-t with ``s.seed_df`` df)."""
    if math.isinf(s.seed_df):
        return rng.standard_normal(shape)
    return rng.standard_t(s.seed_df, shape) / math.sqrt(s.seed_df / (s.seed_df - 2))


def _cells(rng: np.random.Generator, s: Setting, trials: int, cells: int, arms: int,
           seeds: int, counts: np.ndarray, effect_cells: int | None = None,
           networks: int | None = None,
           arm_cv_ratio: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(points, bootstrap replicates, network of each cell) of shape (trials, cells, arms,
    seeds[, resamples]) and (cells,); arm 0 of the first ``effect_cells`` cells (all by default)
    is shifted by the effect, and its seed shifts scaled by ``arm_cv_ratio``. Cell c comes from
    network set c % ``networks`` (one shift per set, arm and seed; default: one set per
    cell)."""
    networks = networks or cells
    shape = (trials, cells, arms, seeds, s.n_samples)
    common = _noise(rng, (trials, cells, 1, seeds, s.n_samples))
    samples = s.sample_sd * (np.sqrt(s.pairing) * common
                             + np.sqrt(1 - s.pairing) * _noise(rng, shape))
    net_of = np.arange(cells) % networks
    shift = s.seed_cv * _shifts(rng, s, (trials, networks, arms, seeds, 1))[:, net_of]
    shift[:, :, 0] *= arm_cv_ratio
    shift += 1.0
    shift[:, :effect_cells, 0] += s.effect
    points = shift[..., 0] + samples.mean(-1)
    boots = shift + samples @ counts.T / s.n_samples
    return points, boots, net_of


def _cell(points: np.ndarray, boots: np.ndarray, n_samples: int, first: int = 0,
          network: tuple = ()) -> dict[int, Replicate]:
    return {first + r: Replicate(float(points[r]), boots[r], None, n_samples,
                                 network=(*network, first + r))
            for r in range(len(points))}


def _tests(path: str, arm: list, noise) -> list:
    def est(terms):
        return combine_bounded(terms, noise)

    if path == DIFF_OF_DIFFS:
        e, ind = est([(1.0, arm[0][0]), (-1.0, arm[0][1]), (-1.0, arm[1][0]),
                      (1.0, arm[1][1])])
        return [direction("dd", e, independent=ind)]
    if path == EQUIVALENCE:
        e, ind = est([(1.0, arm[0][0]), (-1.0, arm[0][1])])
        return [equivalence("eq", e, EQUIVALENCE_MARGIN, independent=ind)]
    out = []
    for c, (a0, a1) in enumerate(arm):
        e, ind = est([(1.0, a0), (-1.0, a1)])
        out.append(direction(f"cell {c}", e, independent=ind))
    return out


@lru_cache(maxsize=512)  # a pure function of its arguments; reports rebuilt in one process
def simulate(path: str, s: Setting = Setting(), trials: int = 2000, confidence: float = 0.95,
             seed: int = 0) -> Simulation:
    """Verdict rates of ``path`` on ``trials`` simulated runs (A/A unless ``s.effect``)."""
    if path not in PATHS:
        raise ValueError(f"unknown decision path {path!r}; choose from {list(PATHS)}")
    if path == ONE_SEED:
        s = replace(s, seeds=1)
    elif path in (PAIRED, WELCH) and s.seeds < 2:
        raise ValueError(f"{path} needs at least 2 seeds per arm, got {s.seeds}")
    if path == MULTI_CELL and s.cells < 2:
        raise ValueError(f"{path} needs at least 2 cells, got {s.cells}")
    rng = np.random.default_rng(seed)
    counts = resample_counts(resample_indices(seed, s.n_samples, s.resamples))
    levels = 2 if path == DIFF_OF_DIFFS else s.cells
    # A difference of differences has an effect when it differs between its two levels.
    points, boots, net_of = _cells(rng, s, trials, levels, 2, s.seeds, counts,
                                   1 if path == DIFF_OF_DIFFS else None,
                                   1 if s.shared_levels else None, s.arm_cv_ratio)
    noise = [None] * trials
    if s.seeds == 1:
        pool_p, pool_b, pool_net = _cells(rng, s, trials, s.pool_cells, 1, s.pool_seeds,
                                          counts, networks=s.pool_networks)
        noise = [pool_seed_noise(_cell(pool_p[t, c, 0], pool_b[t, c, 0], s.n_samples,
                                       network=("pool", int(pool_net[c])))
                                 for c in range(s.pool_cells)) for t in range(trials)]
    tally = dict.fromkeys(VERDICTS, 0)
    for t in range(trials):
        arm = [[_cell(points[t, c, a], boots[t, c, a], s.n_samples,
                      1000 * a if path == WELCH else 0, (a, int(net_of[c])))
                for a in (0, 1)] for c in range(levels)]
        tally[decide_bounded(_tests(path, arm, noise[t]), confidence).outcome] += 1
    return Simulation(path, s, trials, {v: tally[v] / trials for v in VERDICTS})
