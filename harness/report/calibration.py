"""The report's calibration section: the A/A control judged through every decision path the
claims use (a sanity check: its comparisons come from a few pairs of training seeds), and each
path's false-decision rate on simulated runs of the plan's own size: with the training-seed
noise the run's data show and three times it (never zero: without a pooled estimate, the
literature's ratio stands in), under the misspecifications the tests do not assume, the
equivalence path at its margin, and the power of each path at the effect sizes the paper
reports."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, replace

from harness import paper
from harness.report.evidence import Evidence, Obs
from harness.report.judgement import Judgement, diff, equivalent, judge
from harness.report.tables import Table
from harness.report.views import AAPair, reproduced_view
from harness.stats import CONTRADICTED, INCONCLUSIVE, NOT_RUN, SeedNoise, decide_bounded
from harness.stats import calibration as sim
from harness.stats.seednoise import SEED_TO_SAMPLING

SIMULATED_TRIALS = 500
DEFAULT_RESAMPLES = 200
# Scenarios: the model the tests assume (at the run's seed noise and three times it), then what
# they do not assume. Each maps to the changes of the run's simulated setting.
AS_ASSUMED, NOISE_3X, CV_2X, HEAVY_TAILS, POOL_PAIRS, SHARED_CELLS = (
    "as the tests assume", "seed noise 3x", "seed CV 2x the pooled, one weighting",
    "seed shifts t, 3 df", "pooled cells correlated (networks at 2 step counts)",
    "cells of a claim from one network per arm")
SCENARIOS = (AS_ASSUMED, NOISE_3X, CV_2X, HEAVY_TAILS, POOL_PAIRS, SHARED_CELLS)


@dataclass
class AAPath:
    """The A/A control through one decision path."""

    path: str
    judgement: Judgement

    @property
    def decisions(self) -> int:
        """Comparisons decided either way (false by construction; equivalence: contradicted).
        All cells at once is one comparison: the claim-level verdict after Holm."""
        if self.path == sim.MULTI_CELL:
            return int(self.judgement.outcome not in (INCONCLUSIVE, NOT_RUN))
        counts = self.judgement.decision.counts if self.judgement.decision else {}
        if self.path == sim.EQUIVALENCE:
            return counts.get(CONTRADICTED, 0)
        return sum(v for k, v in counts.items() if k not in (INCONCLUSIVE, NOT_RUN))

    @property
    def comparisons(self) -> int:
        return 1 if self.path == sim.MULTI_CELL else len(self.judgement.tests)


@dataclass
class PathRates:
    """One decision path's wrong verdicts over the scenarios."""

    path: str
    wrong: str  # what counts as wrong, in words
    rates: dict[str, sim.Simulation]  # scenario -> simulation


@dataclass
class Power:
    """A path's power at one effect size the paper reports (relative to the better arm)."""

    path: str
    effect: str  # where the paper reports it, in words
    size: float
    simulation: sim.Simulation


@dataclass
class Calibration:
    judgement: Judgement  # the A/A control as the claims see it (paired where it can be)
    verdict_text: str
    comparisons: int
    seeds: int  # training seeds per arm (the fewest over the comparisons)
    samples: int | None  # generated samples per cell
    paths: list[AAPath]  # the A/A control through every path
    rows: list[PathRates]  # simulated wrong verdicts per path and scenario
    power: list[Power]
    noise_text: str  # the seed noise the simulations use, in words

    @property
    def planned(self) -> bool:
        return self.comparisons > 0

    @property
    def verdict(self) -> str:
        return self.judgement.outcome

    @property
    def aa_decisions(self) -> tuple[int, int]:
        """(decided, judged) A/A comparisons over every path."""
        return (sum(p.decisions for p in self.paths), sum(p.comparisons for p in self.paths))

    @property
    def scenarios(self) -> list[str]:
        return [name for name in SCENARIOS if any(name in r.rates for r in self.rows)]

    @property
    def trials(self) -> int:
        return SIMULATED_TRIALS

    def monte_carlo_error(self, rate: float) -> float:
        """Half-width of the 95% band of a simulated rate near ``rate``."""
        return 1.96 * math.sqrt(rate * (1 - rate) / SIMULATED_TRIALS)


def _unpaired(o: Obs, offset: int) -> Obs:
    """The same observation with its seeds renamed, so that nothing pairs them (Welch)."""
    return Obs(o.status, o.value, o.std, o.n, o.files, o.records,
               {offset + r: rep for r, rep in o.replicates.items()}, o.ci, o.interval_note,
               {}, o.noise, o.label)


def _one_seed(o: Obs, r: int) -> Obs:
    return Obs(o.status, o.replicates[r].point, None, 1, replicates={r: o.replicates[r]},
               noise=o.noise, label=o.label)


def aa_paths(view, confidence: float) -> list[AAPath]:
    """Judge 'main beats control' (false by construction) through each path: paired over seeds,
    Welch, one seed per replicate with the pooled seed noise, equivalence and, where the control
    stands at several step counts, the difference of differences (the step-profile claims'
    test) and all cells at once (Holm and intersection-union, as the every-cell claims)."""
    pairs = [p for p in view.calibration or [] if p.main.ok and p.control.ok]
    out = {path: [] for path in (sim.PAIRED, sim.WELCH, sim.ONE_SEED, sim.EQUIVALENCE,
                                 sim.DIFF_OF_DIFFS)}
    by_run: dict[str, list[AAPair]] = {}
    for p in pairs:
        by_run.setdefault(p.run, []).append(p)
        common = sorted(set(p.main.replicates) & set(p.control.replicates))
        if len(common) >= 2:
            out[sim.PAIRED].append(diff(f"{p.where}: control − main", p.control, p.main))
        if p.main.n >= 2 and p.control.n >= 2:
            out[sim.WELCH].append(diff(f"{p.where}: control − main, unpaired",
                                       _unpaired(p.control, 10_000), p.main))
        for r in common:
            out[sim.ONE_SEED].append(diff(f"{p.where} replicate {r}: control − main",
                                          _one_seed(p.control, r), _one_seed(p.main, r)))
        out[sim.EQUIVALENCE].append(equivalent(f"{p.where}: control − main within "
                                               f"±{sim.EQUIVALENCE_MARGIN:.0%}",
                                               p.control, p.main, p.main))
    for run, cells in by_run.items():
        few, *others = sorted(cells, key=lambda p: p.steps)
        out[sim.DIFF_OF_DIFFS] += [
            diff(f"{run}: (control − main)(T={few.steps}) − (control − main)(T={o.steps})",
                 few.control, few.main, (-1.0, o.control), (1.0, o.main)) for o in others]
    paths = [AAPath(path, _judged(tests, confidence)) for path, tests in out.items() if tests]
    if len(out[sim.PAIRED]) >= 2:
        paths.append(AAPath(sim.MULTI_CELL, _judged(out[sim.PAIRED], confidence)))
    return paths


def _judged(tests: list, confidence: float) -> Judgement:
    bounded = decide_bounded(tests, confidence)
    return Judgement(bounded.outcome, tests, bounded.decision, [], confidence, bounded)


def _pool(ev: Evidence) -> tuple[int, int, int] | None:
    """(cells, seeds per cell, sets of networks) of the replicated cells the run pools its seed
    noise from; None without any."""
    reps = [ev.obs(cells[0], ev.metric).replicates for cells in ev.samples.values()
            if cells[0].get("iteration") != 0]
    reps = [r for r in reps if len(r) >= 2]
    if not reps:
        return None
    networks = {frozenset(x.network for x in r.values()) for r in reps}
    return len(reps), round(statistics.mean(len(r) for r in reps)), len(networks)


def _base(ev: Evidence, seeds: int, samples: int | None,
          arms: list[Obs]) -> tuple[sim.Setting, str, int]:
    """A simulated run like this one: its seeds and samples, its per-sample spread, its seed
    noise (pooled, else the literature's ratio to the sampling noise) and its pool; and the
    pool's sets of networks."""
    n = samples or 40
    ses = [r.boot_se() / r.point for o in arms for r in o.replicates.values()
           if r.boot_se() and r.point > 0]
    sampling_cv = sum(ses) / len(ses) if ses else 0.01
    noise: SeedNoise | None = ev.seed_noise(ev.metric)
    pool = _pool(ev)
    if noise is not None and noise.cv > 0 and pool is not None:
        seed_cv, text = noise.cv, noise.text()
    else:
        seed_cv = SEED_TO_SAMPLING * sampling_cv
        text = (f"no pooled estimate: seed sd {SEED_TO_SAMPLING}x the sampling se (Dufour et al. "
                f"2026), CV {seed_cv:.2%}")
        pool = (6, 3, 6)
    base = sim.Setting(seeds=max(seeds, 1), n_samples=n, resamples=int(
        ev.statistics.get("bootstrap") or DEFAULT_RESAMPLES), seed_cv=seed_cv,
        sample_sd=sampling_cv * math.sqrt(n), pool_cells=pool[0], pool_seeds=pool[1])
    return base, text, pool[2]


def _scenario(base: sim.Setting, name: str, networks: int) -> sim.Setting:
    pairs = networks if networks < base.pool_cells else max(1, base.pool_cells // 2)
    return {AS_ASSUMED: base, NOISE_3X: replace(base, seed_cv=3 * base.seed_cv),
            CV_2X: replace(base, arm_cv_ratio=2.0), HEAVY_TAILS: replace(base, seed_df=3.0),
            POOL_PAIRS: replace(base, pool_networks=pairs),
            SHARED_CELLS: replace(base, shared_levels=True)}[name]


def simulate_paths(base: sim.Setting, seeds: int, networks: int) -> list[PathRates]:
    """Every path's wrong verdicts in every scenario (a claim's cells only matter to the
    paths over several cells), and the equivalence path at its margin."""
    rows = []
    for path in sim.PATHS:
        if path in (sim.PAIRED, sim.WELCH) and seeds < 2:
            continue
        cells = 4 if path == sim.MULTI_CELL else 1
        pools = path == sim.ONE_SEED or seeds < 2  # only one-seed comparisons read the pool
        names = [n for n in SCENARIOS if (n != SHARED_CELLS
                                          or path in (sim.DIFF_OF_DIFFS, sim.MULTI_CELL))
                 and (n != POOL_PAIRS or pools)]
        wrong = "a false “contradicted”" if path == sim.EQUIVALENCE else "any decision"
        rows.append(PathRates(path, f"A/A: {wrong}", {
            n: sim.simulate(path, replace(_scenario(base, n, networks), cells=cells),
                            SIMULATED_TRIALS, seed=i) for i, n in enumerate(names)}))
    margin = [n for n in SCENARIOS if n != SHARED_CELLS and (n != POOL_PAIRS or seeds < 2)]
    rows.append(PathRates(sim.EQUIVALENCE, "at the margin: a false “similar”", {
        n: sim.simulate(sim.EQUIVALENCE, replace(_scenario(base, n, networks),
                                                 effect=sim.EQUIVALENCE_MARGIN),
                        SIMULATED_TRIALS, seed=i) for i, n in enumerate(margin)}))
    return rows


def paper_effects() -> list[tuple[str, float]]:
    """Effect sizes the paper reports, as relative differences (worse / better − 1), medians
    over Table 1's cells: Ours against Constant, Ours against P2 and Min-SNR, and the positive
    control (P2 and Min-SNR against Constant)."""
    cells = [{w: paper.table1_value(d, s, w) for w in ("constant", "p2", "min_snr", "debias")}
             for d, s in paper.table1_keys()]
    return [
        ("Ours vs Constant (Table 1 median)",
         statistics.median(c["constant"] / c["debias"] - 1 for c in cells)),
        ("Ours vs P2 and Min-SNR (Table 1 median)",
         statistics.median(c[w] / c["debias"] - 1 for c in cells for w in ("p2", "min_snr"))),
        ("P2 and Min-SNR vs Constant, the positive control (Table 1 median)",
         statistics.median(c["constant"] / c[w] - 1 for c in cells for w in ("p2", "min_snr"))),
    ]


def path_power(base: sim.Setting, seeds: int) -> list[Power]:
    """The one-seed path's power (and paired t's, with several seeds) at the paper's effects."""
    paths = [sim.ONE_SEED] + ([sim.PAIRED] if seeds >= 2 else [])
    return [Power(path, label, size, sim.simulate(path, replace(base, effect=size),
                                                  SIMULATED_TRIALS, seed=7))
            for path in paths for label, size in paper_effects()]


def one_seed_power(calibration: Calibration) -> str:
    """The one-seed path's power at the paper's effects, in words ('' when not simulated)."""
    found = [p for p in calibration.power if p.path == sim.ONE_SEED]
    if not found:
        return ""
    return ("one-seed comparisons at this scale find the paper's effect sizes in "
            + ", ".join(f"{p.simulation.power:.0%} ({p.effect}: {p.size:.0%})" for p in found)
            + " of simulated runs: where that is low, an inconclusive says little either way")


def calibration_section(ev: Evidence, tables: dict[str, Table]) -> Calibration:
    """Judge the A/A control through every path and simulate each path at this run's size."""
    view = reproduced_view(ev, tables)
    pairs = view.calibration or []
    tests = [diff(f"{p.where}: control − main", p.control, p.main) for p in pairs]
    judgement = judge(view, tests, none_why="no A/A control in the plan (experiments."
                                            "calibration)")
    arms = [o for p in pairs for o in (p.main, p.control) if o.ok]
    seeds = min((o.n for o in arms), default=0)
    samples = [r.n_samples for o in arms for r in o.replicates.values() if r.n_samples]
    n_samples = min(samples) if samples else None
    rows, power, text = [], [], ""
    if judgement.outcome != NOT_RUN and seeds:
        base, text, networks = _base(ev, seeds, n_samples, arms)
        rows, power = simulate_paths(base, seeds, networks), path_power(base, seeds)
    return Calibration(judgement, f"{judgement.outcome} at {ev.scale} scale", len(pairs), seeds,
                       n_samples, aa_paths(view, ev.confidence), rows, power, text)
