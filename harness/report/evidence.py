"""Read plan.json and the files it names into observations the tables, figures and claims use.

Relative paths in plan.json are resolved against the plan folder's parent (the workflow writes
``results/plan.json`` with paths starting ``results/``), then the plan's own folder; never the
current directory, so a report of one results tree never picks up files of another. A file that
exists in neither is "not run".
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import inputs

NOT_RUN = "not run"


@dataclass
class Obs:
    """One reproduced table cell: mean over the seeds found, or why there is no number."""

    status: str = NOT_RUN  # "ok", "not run", "diverged at step N", "no metric"
    value: float | None = None
    std: float | None = None
    n: int = 0  # number of result files (seeds) behind the value
    files: list[str] = field(default_factory=list)
    records: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.value is not None


def paper_obs(value: float | None) -> Obs:
    """An observation holding a published number (or none where the paper prints '-')."""
    return Obs("ok", value, None, 1) if value is not None else Obs("not in paper")


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
    """The JSON object at ``path``; None when absent or unreadable (reported as not run)."""
    if path is None:
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


def _metric(record: dict, metric: str) -> float | None:
    value = record.get("inception_score" if metric == "is" else metric)
    if value is None or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def aggregate(records: list[dict], files: list[str], metric: str, fallback: str) -> Obs:
    """Mean ± sample std of ``metric`` over records (one per seed); diverged wins over numbers."""
    if not records:
        return Obs(fallback, files=files)
    for rec in records:
        status = str(rec.get("status", "ok"))
        if status != "ok":
            return Obs(status, n=len(records), files=files, records=records)
    values = [v for v in (_metric(r, metric) for r in records) if v is not None]
    if not values:
        return Obs("no metric", n=len(records), files=files, records=records)
    mean = sum(values) / len(values)
    std = None
    if len(values) > 1:
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    return Obs("ok", mean, std, len(values), files, records)


def cell_key(cell: dict) -> tuple:
    """Identity of a plan cell apart from its seed: several entries with one key are seeds."""
    return tuple(cell.get(k) for k in ("paper_dataset", "dataset", "target", "weighting",
                                       "iteration", "sampler", "steps", "paper_iteration"))


class Evidence:
    """Everything the report reads, loaded once from a plan."""

    def __init__(self, plan_path: str | Path):
        self.plan_path = Path(plan_path)
        self.plan = load_plan(self.plan_path)
        self.scale: str = self.plan.get("scale", "toy")
        self.training_status = self._training_status()
        self.groups: dict[tuple, list[dict]] = {}
        for cell in self.plan["cells"]:
            self.groups.setdefault(cell_key(cell), []).append(cell)
        self._records: dict[tuple, tuple[list[dict], list[str]]] = {}
        for key, cells in self.groups.items():
            records, files = [], []
            for cell in cells:
                paths = cell.get("metrics")
                for path in paths if isinstance(paths, list) else [paths]:
                    found = resolve(path, self.plan_path)
                    if found is not None and str(found) in files:
                        continue  # one cell listed for several uses is still one seed
                    record = read_json(found)
                    if record is not None:
                        records.append(record)
                        files.append(str(found))
            self._records[key] = (records, files)

    def _training_status(self) -> dict[tuple, str]:
        out = {}
        for run in self.plan.get("training", []):
            status = read_json(resolve(run.get("status"), self.plan_path))
            if status is None:
                continue
            text = status.get("message") or status.get("status", "")
            if status.get("status") == "diverged" and "diverged" not in text:
                text = f"diverged at step {status.get('step')}"
            out[(run.get("dataset"), run.get("target"), run.get("weighting"))] = text
        return out

    def cells(self, use: str) -> list[dict]:
        """One representative plan cell per seed group whose ``uses`` include ``use``."""
        return [cells[0] for cells in self.groups.values()
                if any(use in c.get("uses", []) for c in cells)]

    def obs(self, cell: dict, metric: str = "fid") -> Obs:
        """The observation for a plan cell (all its seeds)."""
        records, files = self._records[cell_key(cell)]
        fallback = NOT_RUN
        trained = self.training_status.get((cell.get("dataset"), cell.get("target"),
                                            cell.get("weighting")), "")
        if trained.startswith("diverged"):
            fallback = trained
        return aggregate(records, files, metric, fallback)

    def records(self) -> list[dict]:
        """Every cell JSON that was found, once each (tables may share a cell's file)."""
        unique = {}
        for records, files in self._records.values():
            for record, path in zip(records, files, strict=True):
                unique.setdefault(path, record)
        return list(unique.values())

    def analysis(self) -> list[dict[str, Any]]:
        """Analysis entries plus parsed mse.json ('mse_data') and resolved x0 ('x0_path')."""
        out = []
        for entry in self.plan.get("analysis", []):
            item = dict(entry)
            item["mse_data"] = read_json(resolve(entry.get("mse"), self.plan_path))
            item["x0_path"] = resolve(entry.get("x0"), self.plan_path)
            out.append(item)
        return out

    def dataset_size(self, dataset: str) -> int | None:
        """Image count of a reproduced dataset from plan.datasets."""
        info = self.plan.get("datasets", {}).get(dataset) or {}
        return info.get("count")
