"""`harness cell`'s library: which plan cells a table/figure selection names, and the Snakemake
command that recomputes them (sampling and metrics only) and the report."""

from __future__ import annotations

import sys
from typing import Any

from harness.workflow.config import ROOT
from harness.workflow.plan import Cell, Plan


def select_cells(plan: Plan, use: str, dataset: str | None = None, **match: Any) -> list[Cell]:
    """The cells of table/figure `use` matching `dataset` (config or paper name) and `match`.

    `match` keys: target, weighting, seed (training seed: one replicate), iteration (the run's
    or the paper's), sampler, steps; None matches anything. Raises ValueError listing what
    the table holds when nothing matches.
    """
    entries = [c for c in plan.cells if use in c["uses"]]
    if not entries:
        raise ValueError(f"the config computes no cells for {use}")
    found = []
    for e in entries:
        if dataset not in (None, e["dataset"], e["paper_dataset"]):
            continue
        if match.get("iteration") not in (None, e["iteration"], e.get("paper_iteration")):
            continue
        if any(v is not None and e[k] != v for k, v in match.items() if k != "iteration"):
            continue
        found.append(e["_cell"])
    if not found:
        have = sorted({(e["dataset"], e["paper_dataset"], e["target"], e["weighting"],
                        e["seed"], e["iteration"], e["sampler"], e["steps"]) for e in entries})
        rows = "\n  ".join(", ".join(str(x) for x in h) for h in have)
        raise ValueError(f"no {use} cell matches dataset={dataset} {match}; {use} holds "
                         f"(dataset, paper dataset, target, weighting, seed, iteration, sampler, "
                         f"steps):\n  {rows}")
    return sorted(set(found), key=lambda c: c.stem)


def cell_command(cells: list[Cell], configfiles: list[str], cores: str = "all",
                 report: bool = True, dry_run: bool = False,
                 extra: list[str] | None = None,
                 shards: dict[Cell, int] | None = None) -> list[str]:
    """The snakemake command that recomputes `cells` (sample + metrics) and the report.

    Only file modification times trigger reruns (`--rerun-triggers mtime`) and the inputs of
    `train`/`refstats` are considered ancient, so an existing checkpoint is never retrained
    even if config parameters or the data's timestamps changed; `--forcerun` on the samples
    (and on the shard files of a cell that `shards`, the plan's, splits over several jobs)
    makes the cell's sampling jobs (and so its metrics and the report) run again.
    """
    shards = shards or {}
    samples = [p for c in cells for p in [c.samples_path(), *c.shard_paths(shards.get(c, 1))]]
    targets = [c.metrics_path() for c in cells] + (["reports/report.html"] if report else [])
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
           "--cores", str(cores), "--configfile", *configfiles,
           "--rerun-triggers", "mtime", "--rerun-incomplete",
           "--consider-ancient", "train=images,manifest,previous", "refstats=images,manifest",
           "analyze=checkpoint,images,manifest",
           "--forcerun", *samples]
    if dry_run:
        cmd.append("--dry-run")
    return cmd + list(extra or []) + ["--", *targets]
