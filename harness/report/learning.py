"""Trained, not random: each run's deciding metric at its last checkpoint against iteration 0.

Iteration 0 is the untrained network of the same seed (harness train writes it from the seed
alone), so final / initial says how far training moved the samples: a toy preset whose models
did not learn would judge the paper's claims on noise.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.report.evidence import Evidence, point_value


@dataclass(frozen=True)
class LearningRatio:
    run: str  # "dataset target-weighting seed sampler+steps"
    initial: float
    final: float
    iteration: int

    @property
    def ratio(self) -> float:
        return self.final / self.initial


def learning_ratios(ev: Evidence) -> list[LearningRatio]:
    """One ratio per (run and seed, sampler, steps) with a cell at iteration 0 and a later one."""
    series: dict[tuple, dict[int, float]] = {}
    for key, (records, _files, replicates) in ev.seed_records().items():
        cell = ev.samples[key][0]
        if cell.get("released"):  # a released network: no untrained twin to compare with
            continue
        for record, r in zip(records, replicates, strict=True):
            value = point_value(record, ev.metric)
            if value is None:
                continue
            run = (cell["dataset"], f"{cell['target']}-{cell['weighting']}", cell.get("arm"),
                   f"replicate {r}", f"{cell['sampler']}{cell['steps']}")
            series.setdefault(run, {})[int(cell["iteration"])] = value
    out = []
    for run, by_iteration in sorted(series.items()):
        last = max(by_iteration)
        if 0 in by_iteration and last > 0 and by_iteration[0] > 0:
            label = " ".join(str(x) for x in run if x not in (None, "main"))
            out.append(LearningRatio(label, by_iteration[0], by_iteration[last], last))
    return out
