"""Diverged training seeds as an outcome of their own.

A seed whose training diverged has no value; counting it as an exact +inf would turn one bad
seed into a certain verdict. Instead a comparison sum_k a_k * cell_k is decided on the seeds
finite in every cell (harness.stats.contrast), and the divergence counts are a second piece of
evidence: in a two-cell comparison, Fisher's exact test of "the a > 0 cell diverges more often"
(a divergence counts as the worst value, so it pushes the difference up). Divergences that point
against a verdict block it (a claimed-better arm that diverges more is never 'supported'); where
both pieces of evidence are used, each is tested at half the level (Bonferroni).
"""

from __future__ import annotations

from dataclasses import dataclass

from scipy import stats as sps


@dataclass(frozen=True)
class Divergence:
    """Per term of a comparison: (coefficient, label, diverged seeds, seeds in all)."""

    terms: tuple[tuple[float, str, int, int], ...]

    @property
    def any(self) -> bool:
        return any(k for _, _, k, _ in self.terms)

    def _rates(self) -> tuple[float, float]:
        """Divergence rates pushing the combination up (a > 0) and down (a < 0)."""
        up = max((k / n for a, _, k, n in self.terms if a > 0 and n), default=0.0)
        down = max((k / n for a, _, k, n in self.terms if a < 0 and n), default=0.0)
        return up, down

    @property
    def blocks_support(self) -> bool:
        up, down = self._rates()
        return down > up

    @property
    def blocks_contradiction(self) -> bool:
        up, down = self._rates()
        return up > down

    def p_values(self) -> tuple[float, float]:
        """One-sided (p_support, p_contradict) from Fisher's exact test; (1, 1) unless the
        comparison is a difference of two cells."""
        if len(self.terms) != 2 or self.terms[0][0] * self.terms[1][0] >= 0:
            return 1.0, 1.0
        (a, _, ka, na), (_, _, kb, nb) = self.terms
        table = [[ka, na - ka], [kb, nb - kb]]
        greater = float(sps.fisher_exact(table, alternative="greater").pvalue)
        less = float(sps.fisher_exact(table, alternative="less").pvalue)
        return (greater, less) if a > 0 else (less, greater)

    def text(self) -> str:
        parts = [f"{label}: {k} of {n} seeds diverged" for _, label, k, n in self.terms if k]
        p_sup, p_con = self.p_values()
        if (p_sup, p_con) != (1.0, 1.0):
            parts.append(f"Fisher's exact test p = {min(p_sup, p_con):.3g}")
        return "; ".join(parts)


def divergence_rate_interval(diverged: int, seeds: int,
                             confidence: float) -> tuple[float, float]:
    """Clopper-Pearson interval of a divergence probability from ``diverged`` of ``seeds``."""
    ci = sps.binomtest(diverged, seeds).proportion_ci(confidence, method="exact")
    return float(ci.low), float(ci.high)
