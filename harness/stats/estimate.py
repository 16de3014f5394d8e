"""An estimated quantity with its standard error and degrees of freedom, and the ways the
report gets one: paired t over training seeds, Welch over unpaired seeds, the bootstrap of one
seed's samples or the spreads a result file carries (sampling noise), either plus a
training-seed variance component (harness.stats.seednoise), or a published number (exact).

Every interval is value ± q·se with q the Student-t quantile (df = inf: normal), so intervals
and one-sided p-values agree: the 95% interval excludes 0 exactly when one of the two one-sided
p-values is below 2.5%.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

EXACT, PAIRED, WELCH, BOOTSTRAP, SPREAD, NO_INTERVAL, SEED_NOISE = (
    "exact", "paired", "welch", "bootstrap", "spread", "none", "seed noise")
ONE_SEED = "one training seed"
NO_SEED_NOISE = ("one training seed and no estimate of training-seed noise at this scale "
                 "(no replicated cells; no prior for this metric)")


@dataclass(frozen=True)
class Estimate:
    """value ± q(df)·se; se None means no interval (nothing can be decided on it)."""

    value: float
    se: float | None
    df: float = math.inf
    n: int = 1  # training seeds behind the value
    method: str = NO_INTERVAL
    note: str = ""  # the method in words, shown beside the numbers

    def quantile(self, confidence: float) -> float:
        """The two-sided multiplier q of the interval at ``confidence``."""
        return float(special.stdtrit(self.df, 0.5 + confidence / 2))

    def interval(self, confidence: float) -> tuple[float, float] | None:
        if self.se is None or math.isnan(self.value):
            return None
        if self.se == 0 or math.isinf(self.value):
            return (self.value, self.value)
        half = self.quantile(confidence) * self.se
        return (self.value - half, self.value + half)

    def p_above(self, threshold: float = 0.0) -> float:
        """One-sided p-value of 'the true value is at most threshold' (small: it is above)."""
        if self.se is None or math.isnan(self.value):
            return 1.0
        if self.se == 0 or math.isinf(self.value):
            return 0.0 if self.value > threshold else 1.0
        return float(special.stdtr(self.df, -(self.value - threshold) / self.se))

    def p_below(self, threshold: float = 0.0) -> float:
        """One-sided p-value of 'the true value is at least threshold' (small: it is below)."""
        return Estimate(-self.value, self.se, self.df, self.n, self.method).p_above(-threshold)

    def text(self, confidence: float) -> str:
        """'+0.0123 [+0.0045, +0.0201]': decimals enough for two significant digits of the
        interval's half-width, and of any number that would otherwise print as 0 (four
        significant digits without an interval)."""
        ci = self.interval(confidence)
        half = (ci[1] - ci[0]) / 2 if ci else 0.0
        if ci and half <= 1e-9 * max(1.0, abs(self.value)):  # spread at round-off level
            ci, half = (self.value, self.value), 0.0
        decimals = None
        if half > 0 and math.isfinite(half):
            decimals = min(12, max(0, 1 - math.floor(math.log10(half))))
            # A bound that is not 0 never prints as ±0: it gets two significant digits.
            for v in (self.value, *ci):
                if v != 0 and math.isfinite(v) and round(abs(v), decimals) == 0:
                    decimals = min(12, max(decimals, 1 - math.floor(math.log10(abs(v)))))

        def f(v: float) -> str:
            if math.isinf(v):
                return "+∞" if v > 0 else "−∞"
            return f"{v:+.{decimals}f}" if decimals is not None else f"{v:+.4g}"

        if ci is None:
            return f"{f(self.value)} (no interval)"
        if ci[0] == ci[1]:
            return f(self.value)
        return f"{f(self.value)} [{f(ci[0])}, {f(ci[1])}]"


def exact(value: float, note: str = "published numbers (no interval)") -> Estimate:
    """A number taken as exact (the paper's tables compared as printed)."""
    return Estimate(float(value), 0.0, math.inf, 1, EXACT, note)


def paired(values: Sequence[float]) -> Estimate:
    """Mean of per-seed values (e.g. per-seed differences) with the t interval, df = n - 1."""
    v = np.asarray(values, np.float64)
    if len(v) < 2:
        raise ValueError(f"a paired t interval needs at least 2 seeds, got {len(v)}")
    se = float(v.std(ddof=1) / math.sqrt(len(v)))
    return Estimate(float(v.mean()), se, len(v) - 1, len(v), PAIRED,
                    f"paired t over {len(v)} training seeds")


def welch(groups: Sequence[tuple[float, Sequence[float]]]) -> Estimate:
    """sum_k a_k·mean(x_k) over independent groups of seeds, Welch-Satterthwaite df."""
    if any(len(x) < 2 for _, x in groups):
        raise ValueError("Welch needs at least 2 seeds in every group")
    value, var, dof_den = 0.0, 0.0, 0.0
    for coef, x in groups:
        x = np.asarray(x, np.float64)
        v = coef * coef * x.var(ddof=1) / len(x)
        value += coef * float(x.mean())
        var += v
        dof_den += v * v / (len(x) - 1)
    df = var * var / dof_den if dof_den > 0 else math.inf
    sizes = "/".join(str(len(x)) for _, x in groups)
    return Estimate(value, math.sqrt(var), df, min(len(x) for _, x in groups), WELCH,
                    f"Welch t over {sizes} unpaired training seeds")


def bootstrap(point: float, replicates: np.ndarray, n_samples: int) -> Estimate:
    """One seed: the spread of bootstrap replicates around a point value (not their centre).

    se = sd(replicates)·sqrt(N/(N-1)) and df = N - 1 for N samples: the bootstrap variance of a
    mean is (N-1)/N times the unbiased one, and the t quantile is the small-sample correction
    that makes the interval of a mean of N values exact for normal data.
    """
    reps = np.asarray(replicates, np.float64)
    reps = reps[np.isfinite(reps)]
    if len(reps) < 2 or n_samples < 2:
        return Estimate(float(point), None, math.inf, 1, NO_INTERVAL, ONE_SEED)
    se = float(reps.std(ddof=1) * math.sqrt(n_samples / (n_samples - 1)))
    return Estimate(float(point), se, n_samples - 1, 1, BOOTSTRAP,
                    f"{ONE_SEED}, sampling noise by a paired bootstrap ({len(reps)} resamples "
                    f"of {n_samples} samples)")


def spread(point: float, se: float) -> Estimate:
    """One seed: a standard error carried by the result files (normal quantile)."""
    return Estimate(float(point), float(se), math.inf, 1, SPREAD,
                    f"{ONE_SEED}, sampling noise from the spreads the result files carry")


def with_seed_noise(sampling: Estimate | None, point: float, seed_var: float, seed_df: float,
                    seed_text: str) -> Estimate:
    """One seed: its sampling variance (``sampling``; None for published numbers, which carry
    none) plus a training-seed variance ``seed_var`` estimated with ``seed_df`` degrees of
    freedom. df is the smaller of the two parts' (Welch-Satterthwaite's df is anti-conservative
    when an estimated variance happens to come out small: 13% false decisions with the seed
    variance pooled over 1 df, tests/test_stats_calibration.py)."""
    sampling_var = 0.0 if sampling is None else float(sampling.se) ** 2
    var = sampling_var + seed_var
    if var == 0.0:
        return Estimate(float(point), 0.0, math.inf, 1, EXACT, seed_text)
    dfs = [d for v, d in ((sampling_var, math.inf if sampling is None else sampling.df),
                          (seed_var, seed_df)) if v > 0]
    what = "published number" if sampling is None else sampling.note
    return Estimate(float(point), math.sqrt(var), min(dfs), 1, SEED_NOISE, f"{what} + {seed_text}")


def no_interval(point: float, n: int = 1, why: str = "") -> Estimate:
    return Estimate(float(point), None, math.inf, n, NO_INTERVAL,
                    why or f"{ONE_SEED}; the result files carry no interval")
