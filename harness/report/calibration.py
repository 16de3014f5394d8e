"""The report's calibration section: the A/A control judged through every decision path the
claims use, and the false-decision rate of each path on simulated A/A runs of the plan's own
size, with training-seed noise at the level the run's data show and at three times it (never
zero: without a pooled estimate, the literature's ratio stands in)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from harness.report.evidence import Evidence, Obs
from harness.report.judgement import Judgement, diff, equivalent, judge
from harness.report.tables import Table
from harness.report.views import AAPair, reproduced_view
from harness.stats import CONTRADICTED, INCONCLUSIVE, NOT_RUN, SeedNoise, decide
from harness.stats import calibration as sim

SIMULATED_TRIALS = 500
DEFAULT_RESAMPLES = 200
# Dufour et al. 2026: retraining moves FID 3.2x more than resampling; the seed noise assumed
# when a run has no replicated cells to pool from.
SEED_TO_SAMPLING = 3.2
NOISE_MULTIPLES = (1.0, 3.0)


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
class Calibration:
    judgement: Judgement  # the A/A control as the claims see it (paired where it can be)
    verdict_text: str
    comparisons: int
    seeds: int  # training seeds per arm (the fewest over the comparisons)
    samples: int | None  # generated samples per cell
    paths: list[AAPath]  # the A/A control through every path
    simulations: list[sim.Simulation]
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
    decision = decide(tests, confidence)
    return Judgement(decision.outcome, tests, decision, [], confidence)


def _settings(ev: Evidence, seeds: int, samples: int | None,
              arms: list[Obs]) -> tuple[list[sim.Setting], str]:
    """Simulated runs like this one: its seeds and samples, its per-sample spread, and its
    seed noise (pooled, else the literature's ratio to the sampling noise) times 1 and 3."""
    n = samples or 40
    ses = [r.boot_se() / r.point for o in arms for r in o.replicates.values()
           if r.boot_se() and r.point > 0]
    sampling_cv = sum(ses) / len(ses) if ses else 0.01
    noise: SeedNoise | None = ev.seed_noise(ev.metric)
    if noise is not None and noise.cv > 0:
        seed_cv, text = noise.cv, noise.text()
        pool = (max(1, noise.cells), max(2, round(noise.df / max(1, noise.cells)) + 1))
    else:
        seed_cv = SEED_TO_SAMPLING * sampling_cv
        text = (f"no pooled estimate: seed sd {SEED_TO_SAMPLING}x the sampling se (Dufour et al. "
                f"2026), CV {seed_cv:.2%}")
        pool = (6, 3)
    base = sim.Setting(seeds=max(seeds, 1), n_samples=n, resamples=int(
        ev.statistics.get("bootstrap") or DEFAULT_RESAMPLES), seed_cv=seed_cv,
        sample_sd=sampling_cv * math.sqrt(n), pool_cells=pool[0], pool_seeds=pool[1])
    return [sim.Setting(**{**base.__dict__, "seed_cv": base.seed_cv * k})
            for k in NOISE_MULTIPLES], text


def simulate_paths(settings: list[sim.Setting], seeds: int) -> list[sim.Simulation]:
    out = []
    for i, s in enumerate(settings):
        for path in sim.PATHS:
            if path in (sim.PAIRED, sim.WELCH) and seeds < 2:
                continue
            setting = sim.Setting(**{**s.__dict__, "cells": 4 if path == sim.MULTI_CELL else 1})
            out.append(sim.simulate(path, setting, SIMULATED_TRIALS, seed=i))
    return out


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
    simulations, text = [], ""
    if judgement.outcome != NOT_RUN and seeds:
        settings, text = _settings(ev, seeds, n_samples, arms)
        simulations = simulate_paths(settings, seeds)
    return Calibration(judgement, f"{judgement.outcome} at {ev.scale} scale", len(pairs), seeds,
                       n_samples, aa_paths(view, ev.confidence), simulations, text)
