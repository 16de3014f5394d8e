"""The report's calibration section: the A/A control's comparison and verdict, and the rate of
false verdicts the same machinery shows on simulated A/A trials of the plan's own size."""

from __future__ import annotations

from dataclasses import dataclass

from harness.report.claims import judge_calibration
from harness.report.evidence import Evidence
from harness.report.judgement import Judgement
from harness.report.tables import Table
from harness.report.views import reproduced_view
from harness.stats import NOT_RUN
from harness.stats.calibration import Simulation, simulate_aa

SIMULATED_TRIALS = 2000
DEFAULT_RESAMPLES = 200


@dataclass
class Calibration:
    judgement: Judgement
    verdict_text: str
    comparisons: int
    seeds: int  # training seeds per arm (the fewest over the comparisons)
    samples: int | None  # generated samples per cell
    simulation: Simulation | None

    @property
    def planned(self) -> bool:
        return self.comparisons > 0

    @property
    def verdict(self) -> str:
        return self.judgement.outcome


def calibration_section(ev: Evidence, tables: dict[str, Table]) -> Calibration:
    """Judge the A/A control and simulate A/A trials with its seeds and sample counts."""
    view = reproduced_view(ev, tables)
    judgement = judge_calibration(view)
    pairs = view.calibration or []
    arms = [o for _, main, control in pairs for o in (main, control) if o.ok]
    seeds = min((o.n for o in arms), default=0)
    samples = [r.n_samples for o in arms for r in o.replicates.values() if r.n_samples]
    n_samples = min(samples) if samples else None
    simulation = None
    if judgement.outcome != NOT_RUN and seeds and n_samples:
        resamples = int(ev.statistics.get("bootstrap") or DEFAULT_RESAMPLES)
        # With one seed the bootstrap sees sampling noise only: simulate exactly that.
        simulation = simulate_aa(trials=SIMULATED_TRIALS, cells=len(pairs), replicates=seeds,
                                 n_samples=n_samples, resamples=resamples,
                                 seed_sd=0.5 if seeds > 1 else 0.0, confidence=ev.confidence)
    return Calibration(judgement, f"{judgement.outcome} at {ev.scale} scale", len(pairs), seeds,
                       n_samples, simulation)
