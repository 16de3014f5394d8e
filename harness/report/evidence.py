"""Read plan.json and the files it names into observations the tables, figures and claims use.

Plan entries equal in everything but their seeds are replicates of one table slot (grouped by
`cell_key`, which includes the A/A control's `arm`). A slot reads every replicate of its cell
(`sample_key`: the samples behind it, whatever table or paper iteration lists them, so Table 4's
ε cells read Table 1's seeds too); each replicate's number is read from its metrics JSON with
what the file carries about its sampling noise (bootstrap replicates, else a spread such as
`kid_std`), as a `harness.stats.Replicate` keyed by the plan's `replicate` and naming its
trained network (dataset, target, weighting, seed: one network's step counts and checkpoints
share its training-seed shift). A seed
whose training diverged is kept apart (`Obs.diverged`): the cell's value is the mean of its
finite seeds, and the verdicts count divergences as an outcome of their own.

The run's training-seed noise per metric (`Evidence.seed_noise`) is pooled from its replicated
cells of trained networks (iteration 0, the untrained network, samples the same images for
every seed), else the literature's prior for FID above toy scale (its upper end), else there is
none.

Relative paths in plan.json are resolved against the plan folder's parent (the workflow writes
``results/plan.json`` with paths starting ``results/``), then the plan's own folder; never the
current directory, so a report of one results tree never picks up files of another. A file that
exists in neither is "not run".
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness import inputs
from harness.metrics.cell import point_value as metrics_point_value
from harness.stats import Replicate, SeedNoise, cell_estimate, pool_seed_noise, prior_for

NOT_RUN = "not run"
METRICS = ("fid", "kid", "is", "color_shift")
METRIC_LABELS = {"fid": "FID", "kid": "KID", "is": "IS", "color_shift": "colour shift"}
# What a difference of the metric is in, said once beside the verdicts.
METRIC_UNITS = {
    "fid": "FID (Fréchet distance of Inception features)",
    "kid": "KID (unbiased squared MMD of Inception features, cubic kernel, raw: not ×10³ as "
           "some papers print it)",
}
DEFAULT_CONFIDENCE = 0.95


@dataclass
class Obs:
    """One reproduced table cell: mean over the finite seeds found, or why there is no number."""

    status: str = NOT_RUN  # "ok", "not run", "diverged at step N" (every seed), "no metric"
    value: float | None = None
    std: float | None = None
    n: int = 0  # number of result files (finite seeds) behind the value
    files: list[str] = field(default_factory=list)
    records: list[dict] = field(default_factory=list)
    replicates: dict[int, Replicate] = field(default_factory=dict)  # replicate index -> number
    ci: tuple[float, float] | None = None  # interval of `value` (see `interval_note`)
    interval_note: str = ""
    diverged: dict[int, str] = field(default_factory=dict)  # replicate -> "diverged at step N"
    noise: SeedNoise | None = None  # the training-seed noise of its metric at this scale
    label: str = ""  # the run it comes from, in words ("eps-debias")
    key: tuple = ()  # (*`sample_key`, metric): what it measures, told apart from other cells

    @property
    def sampler(self) -> str | None:
        return self.key[4] if len(self.key) > 4 else None

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.value is not None

    @property
    def all_diverged(self) -> bool:
        return self.status.startswith("diverged")

    @property
    def seeds(self) -> int:
        """Training seeds with a result: finite or diverged."""
        return len(self.replicates) + len(self.diverged)

    def divergence_text(self) -> str:
        return f"{len(self.diverged)} of {self.seeds} seeds diverged" if self.diverged else ""

    def cell(self) -> dict[int, Replicate]:
        """The finite seeds for harness.stats (diverged ones are counted apart)."""
        return self.replicates if self.ok else {}


def paper_obs(value: float | None, noise: SeedNoise | None = None,
              network: tuple | None = None) -> Obs:
    """An observation holding a published number (or none where the paper prints '-'), judged
    with the seed noise ``noise`` (a prior, `AS_PRINTED`, or None: no estimate); ``network``:
    the trained network it was sampled from (one network's numbers share its seed shift)."""
    if value is None:
        return Obs("not in paper")
    return Obs("ok", value, None, 1, replicates={0: Replicate(value, exact=True,
                                                              network=network)}, noise=noise)


def resolve(path: str | None, plan_path: Path) -> Path | None:
    """The existing file ``path`` names (see module doc), or None."""
    if not path:
        return None
    p = Path(path)
    if p.is_absolute():
        return p if p.exists() else None
    plan_dir = plan_path.resolve().parent
    for base in (plan_dir.parent, plan_dir):
        if (base / p).exists():
            return base / p
    return None


def load_plan(plan_path: str | Path) -> dict:
    """Parse plan.json; FileNotFoundError / ValueError naming the file and the missing key."""
    plan_path = Path(plan_path)
    if not plan_path.exists():
        raise FileNotFoundError(f"plan file not found: {plan_path}")
    plan = inputs.read_json(plan_path, "plan file")
    for key in ("cells",):
        if key not in plan:
            raise ValueError(f"{plan_path}: missing key {key!r} (see CONTRACTS plan.json)")
    plan.setdefault("scale", "toy")
    plan.setdefault("analysis", [])
    plan.setdefault("training", [])
    plan.setdefault("datasets", {})
    return plan


def read_json(path: Path | None) -> dict | None:
    """The JSON object at ``path``; None when absent (not run, silently) or unreadable (not
    run, with a warning naming the file)."""
    if path is None or not path.exists():
        return None
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        print(f"warning: '{path}' is not readable JSON ({err}); reported as not run",
              file=sys.stderr)
        return None
    if not isinstance(value, dict):
        print(f"warning: '{path}' holds no JSON object; reported as not run", file=sys.stderr)
        return None
    return value


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def point_value(record: dict, metric: str) -> float | None:
    """The finite point value of ``metric`` in a metrics JSON (what a verdict is centred on)."""
    return _number(metrics_point_value(record, metric))


def replicate(record: dict, metric: str) -> Replicate | None:
    """One seed's number with its sampling noise: bootstrap replicates, else the spread the
    file carries (an interval's half-width / 1.96, `kid_std`, `inception_score_std`)."""
    point = point_value(record, metric)
    if point is None:
        return None
    boot_block = record.get("bootstrap") if isinstance(record.get("bootstrap"), dict) else {}
    reps = boot_block.get(metric) if metric != "is" else None
    n_samples = boot_block.get("samples") or (record.get("protocol") or {}).get("num_generated")
    boot = None
    if isinstance(reps, list) and len(reps) >= 2 and n_samples:
        values = [_number(v) for v in reps]
        boot = np.asarray([v for v in values if v is not None], np.float64)
    se = None
    interval = (record.get("intervals") or {}).get(metric)
    if isinstance(interval, list) and len(interval) == 2 and None not in interval:
        se = (float(interval[1]) - float(interval[0])) / (2 * 1.959964)
    else:
        se = _number(record.get({"kid": "kid_std", "is": "inception_score_std"}.get(metric, "")))
    return Replicate(point, boot, se, int(n_samples) if n_samples else None)


def aggregate(records: list[dict], files: list[str], metric: str, fallback: str,
              replicate_ids: list[int] | None = None, confidence: float = DEFAULT_CONFIDENCE,
              noise: SeedNoise | None = None, diverged: dict[int, str] | None = None) -> Obs:
    """Mean ± sample std of ``metric`` over the finite seeds' records with its interval (t over
    seeds, or one seed's sampling noise plus ``noise``); seeds whose record says the run
    diverged, and the ``diverged`` seeds that have no record, are kept apart."""
    ids = replicate_ids or list(range(len(records)))
    diverged = dict(diverged or {})
    finite, kept_files = [], []
    for r, rec, path in zip(ids, records, files, strict=True):
        status = str(rec.get("status", "ok"))
        if status.startswith("diverged"):
            diverged[r] = status
        else:
            finite.append((r, rec))
            kept_files.append(path)
    if not finite:
        status = next(iter(diverged.values()), fallback)
        return Obs(status, n=0, files=files, records=records, diverged=diverged, noise=noise)
    reps = {r: rep for r, rep in ((r, replicate(rec, metric)) for r, rec in finite)
            if rep is not None}
    values = [rep.point for rep in reps.values()]
    if not values:
        return Obs("no metric", n=len(finite), files=files, records=records, diverged=diverged,
                   noise=noise)
    mean = sum(values) / len(values)
    std = None
    if len(values) > 1:
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    estimate = cell_estimate(reps, noise)
    ci = estimate.interval(confidence) if estimate is not None else None
    note = estimate.note if estimate is not None else ""
    return Obs("ok", mean, std, len(values), kept_files, [rec for _, rec in finite], reps, ci,
               note, diverged, noise)


def cell_key(cell: dict) -> tuple:
    """Identity of a plan cell apart from its seed: several entries with one key are seeds
    (replicates); the A/A control's two arms are two keys."""
    return tuple(cell.get(k) for k in ("paper_dataset", "dataset", "target", "weighting",
                                       "iteration", "sampler", "steps", "paper_iteration",
                                       "arm", "released"))


def sample_key(cell: dict) -> tuple:
    """The samples behind a plan cell apart from its seed, whatever table slot lists them:
    (dataset, target, weighting, iteration, sampler, steps, arm, released arm)."""
    return (*(cell.get(k) for k in ("dataset", "target", "weighting", "iteration", "sampler",
                                    "steps")), cell.get("arm", "main"), cell.get("released"))


def network_of(cell: dict) -> tuple:
    """The trained network a plan cell was sampled from (shared by its step counts and
    checkpoints)."""
    return tuple(cell.get(k) for k in ("dataset", "target", "weighting", "seed"))


class Evidence:
    """Everything the report reads, loaded once from a plan."""

    def __init__(self, plan_path: str | Path):
        self.plan_path = Path(plan_path)
        self.plan = load_plan(self.plan_path)
        self.scale: str = self.plan.get("scale", "toy")
        self.statistics = statistics_settings(self.plan)
        self.confidence: float = self.statistics["confidence"]
        self.metric: str = self.statistics["metric"]
        self.training_status = self._training_status()
        self._noise: dict[str, SeedNoise | None] = {}
        self.groups: dict[tuple, list[dict]] = {}
        self.samples: dict[tuple, list[dict]] = {}  # sample_key -> plan entries
        for cell in self.plan["cells"]:
            self.groups.setdefault(cell_key(cell), []).append(cell)
            self.samples.setdefault(sample_key(cell), []).append(cell)
        self._records: dict[tuple, tuple[list[dict], list[str], list[int]]] = {}
        parsed: dict[Path | None, dict | None] = {}  # a cell listed under several uses: one read
        for key, cells in self.samples.items():
            records, files, ids = [], [], []
            for position, cell in enumerate(cells):
                if int(cell.get("replicate", position)) in ids:
                    continue  # a seed is read once, whichever table slot lists it
                paths = cell.get("metrics")
                for path in paths if isinstance(paths, list) else [paths]:
                    found = resolve(path, self.plan_path)
                    if found is not None and str(found) in files:
                        continue  # one cell listed for several uses is still one seed
                    if found not in parsed:
                        parsed[found] = read_json(found)
                    record = parsed[found]
                    if record is not None:
                        records.append(record)
                        files.append(str(found))
                        ids.append(int(cell.get("replicate", position)))
            self._records[key] = (records, files, ids)

    def _training_status(self) -> dict[tuple, str]:
        """(dataset, target, weighting, seed) -> how the run ended."""
        out = {}
        for run in self.plan.get("training", []):
            status = read_json(resolve(run.get("status"), self.plan_path))
            if status is None:
                continue
            text = status.get("message") or status.get("status", "")
            if status.get("status") == "diverged" and "diverged" not in text:
                text = f"diverged at step {status.get('step')}"
            out[(run.get("dataset"), run.get("target"), run.get("weighting"),
                 run.get("seed"))] = text
        return out

    def diverged_runs(self, weighting: str) -> tuple[list[str], int]:
        """How the diverged training runs of ``weighting`` ended, and how many runs it has."""
        runs = [s for (_d, _t, w, _s), s in self.training_status.items() if w == weighting]
        return [s for s in runs if s.startswith("diverged")], len(runs)

    def cells(self, use: str) -> list[dict]:
        """One representative plan cell per seed group whose ``uses`` include ``use``."""
        return [next(c for c in cells if use in c.get("uses", []))
                for cells in self.groups.values() if any(use in c.get("uses", []) for c in cells)]

    def obs(self, cell: dict, metric: str = "fid") -> Obs:
        """The observation for a plan cell (all its seeds, with the run's seed noise)."""
        return self._obs(cell, metric, self.seed_noise(metric))

    def _obs(self, cell: dict, metric: str, noise: SeedNoise | None) -> Obs:
        key = sample_key(cell)
        records, files, ids = self._records[key]
        diverged, networks = {}, {}
        for position, c in enumerate(self.samples[key]):
            r = int(c.get("replicate", position))
            networks.setdefault(r, network_of(c))
            trained = self.training_status.get(network_of(c), "")
            if trained.startswith("diverged") and r not in ids:
                diverged[r] = trained
        obs = aggregate(records, files, metric, NOT_RUN, ids, self.confidence, noise, diverged)
        obs.replicates = {r: dataclasses.replace(rep, network=networks.get(r))
                          for r, rep in obs.replicates.items()}
        obs.label = f"{cell.get('target', 'eps')}-{cell.get('weighting')}"
        obs.key = (*key, metric)
        return obs

    def seed_noise(self, metric: str) -> SeedNoise | None:
        """The run's training-seed noise for ``metric`` (module docstring), computed once."""
        if metric not in self._noise:
            cells = [self._obs(cells[0], metric, None).replicates
                     for cells in self.samples.values() if cells[0].get("iteration") != 0]
            pooled = pool_seed_noise(cells)
            if pooled is None and self.scale != "toy":
                pooled = prior_for(metric)
            self._noise[metric] = pooled
        return self._noise[metric]

    def seed_records(self) -> dict[tuple, tuple[list[dict], list[str], list[int]]]:
        """Per cell key: the metrics records found, their files and replicate indices."""
        return self._records

    def records(self) -> list[dict]:
        """Every cell JSON that was found, once each (tables may share a cell's file)."""
        unique = {}
        for records, files, _ in self._records.values():
            for record, path in zip(records, files, strict=True):
                unique.setdefault(path, record)
        return list(unique.values())

    def analysis(self) -> list[dict[str, Any]]:
        """Analysis entries plus parsed mse.json ('mse_data') and resolved x0 ('x0_path'); for a
        run that diverged before the checkpoint, 'diverged' (its message) and neither."""
        out = []
        for entry in self.plan.get("analysis", []):
            item = dict(entry)
            item["mse_data"] = read_json(resolve(entry.get("mse"), self.plan_path))
            item["x0_path"] = resolve(entry.get("x0"), self.plan_path)
            if item["mse_data"] and item["mse_data"].get("status"):  # the run diverged first
                item["diverged"] = item["mse_data"]["status"]
                item["mse_data"] = item["x0_path"] = None
            out.append(item)
        return out

    def dataset_size(self, dataset: str) -> int | None:
        """Image count of a reproduced dataset from plan.datasets."""
        info = self.plan.get("datasets", {}).get(dataset) or {}
        return info.get("count")


def statistics_settings(plan: dict) -> dict:
    """plan.json's `statistics` block with its defaults: the deciding metric (KID at toy scale,
    FID at paper scale), the confidence (0.95) and the bootstrap resamples per cell."""
    given = plan.get("statistics") or {}
    metric = given.get("metric") or ("kid" if plan.get("scale", "toy") == "toy" else "fid")
    if metric not in ("kid", "fid"):
        raise ValueError(f"plan statistics.metric: unsupported {metric!r}; choose kid or fid")
    confidence = float(given.get("confidence") or DEFAULT_CONFIDENCE)
    if not 0.5 < confidence < 1:
        raise ValueError(f"plan statistics.confidence must lie in (0.5, 1), got {confidence}")
    return {"metric": metric, "confidence": confidence, "bootstrap": given.get("bootstrap")}
