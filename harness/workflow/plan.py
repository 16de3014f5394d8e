"""The workflow's plan: which datasets, training runs, cells and analyses a config asks for.

Shared by the Snakemake rules (workflow/rules/common.smk) and `harness cell` / `harness estimate`,
so the three agree on every path. Pure functions of a validated config dict (defaults filled by
the JSON schema in workflow/schemas/config.schema.yaml); errors name the config key at fault.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.shards import shard_ranges
from harness.workflow.weightings import Weightings, weighting_name

USES = ("table1", "table2", "table3", "table4", "fig7a", "fig7b", "seed_noise")
ANALYSES = ("fig4", "fig10")


CONTROL_SEED_OFFSET = 1000  # the A/A control's arm trains with seeds training.seed + 1000 + r


@dataclass(frozen=True)
class Cell:
    """One evaluated number: (dataset, target, weighting, training seed, iteration, sampler,
    steps); its path is its identity. A user weighting's `tag` (the digest of its definition)
    is part of the path (harness.workflow.weightings). A released checkpoint's cell names its
    arm (`released`) instead of a training run: `{dataset}/released/{arm}/{sampler}{steps}`,
    with neither seed nor iteration."""

    dataset: str
    target: str
    weighting: str
    seed: int | None
    iteration: int | None
    sampler: str
    steps: int
    tag: str = ""
    released: str = ""

    @property
    def run_key(self) -> Run:
        folder = f"{self.weighting}-{self.tag}" if self.tag else self.weighting
        return (self.dataset, self.target, folder, self.seed)

    @property
    def run(self) -> str:
        if self.released:
            return f"{self.dataset}/released/{self.released}"
        return run_path(*self.run_key)

    @property
    def stem(self) -> str:
        if self.released:
            return f"{self.run}/{self.sampler}{self.steps}"
        return f"{self.run}/{self.iteration}/{self.sampler}{self.steps}"

    def metrics_path(self) -> str:
        return f"results/metrics/{self.stem}.json"

    def samples_path(self) -> str:
        return f"results/samples/{self.stem}.npz"

    def grid_path(self) -> str:
        return f"results/samples/{self.stem}.png"

    def shard_paths(self, count: int) -> list[str]:
        """The files of the `count` jobs drawing this cell's samples (none for one job)."""
        if count == 1:
            return []
        return [f"results/samples/{self.stem}.shards/{k}of{count}.npz" for k in range(count)]


Run = tuple[str, str, str, int]  # (dataset, target, weighting folder, training seed)


def run_path(dataset: str, target: str, weighting: str, seed: int) -> str:
    """`{dataset}/{target}-{weighting}/seed{seed}`: the part of every path that names a run
    (`weighting`: the name, or `name-digest` for a user weighting)."""
    return f"{dataset}/{target}-{weighting}/seed{seed}"


def run_dir(run: Run) -> str:
    return f"results/train/{run_path(*run)}"


def replicate_of(config: dict, seed: int) -> int:
    """Replicate r of a training seed (main arm: training.seed + r; control: + 1000 + r)."""
    return (seed - config["training"]["seed"]) % CONTROL_SEED_OFFSET


def sample_seed(config: dict, seed: int) -> int:
    """Sampling seed of the runs trained with `seed`: sampling.seed + r for both arms, so a
    control replicate draws the same x_T and step noise as the main replicate it is paired with."""
    return config["sampling"]["seed"] + replicate_of(config, seed)


@dataclass
class Plan:
    """Everything the DAG computes for one config."""

    cells: list[dict] = field(default_factory=list)  # plan.json cells (+ "_cell")
    runs: dict[Run, set[int]] = field(default_factory=dict)
    analysis: list[dict] = field(default_factory=list)
    shards: dict[Cell, int] = field(default_factory=dict)  # jobs drawing each cell's samples
    weightings: Weightings | None = None  # the user weightings the plan resolved

    def unique_cells(self) -> list[Cell]:
        return sorted({c["_cell"] for c in self.cells}, key=lambda c: c.stem)

    def datasets(self) -> list[str]:
        """The datasets the plan prepares: those of its training runs and of its cells."""
        return sorted({run[0] for run in self.runs} | {c["dataset"] for c in self.cells})


# --------------------------------------------------------------------------- checks
def data_source(config: dict, name: str) -> str:
    """The `--source` of `harness prepare` for dataset `name` (a folder for folder datasets)."""
    ds = config["datasets"][name]
    if ds["source"] != "folder":
        return ds["source"]
    if ds.get("path"):
        return str(ds["path"])
    if not config.get("data_root"):
        raise ValueError(
            f"datasets.{name}: source 'folder' needs datasets.{name}.path or data_root"
        )
    return str(Path(config["data_root"]) / (ds.get("folder") or name))


def _check_dataset(config: dict, name: str, key: str) -> None:
    if name not in config["datasets"]:
        raise ValueError(
            f"{key}: unknown dataset '{name}'; defined datasets: {sorted(config['datasets'])}"
        )


def _check_steps(config: dict, steps: int, key: str) -> None:
    T = config["diffusion"]["steps"]
    if steps > T:
        raise ValueError(f"{key}: {steps} sampling steps exceed diffusion.steps (T={T})")


def _check_shards(config: dict, shards: int, key: str) -> None:
    s = config["sampling"]
    try:
        shard_ranges(s["num_samples"], s["batch_size"], shards)
    except ValueError as err:
        raise ValueError(f"{key}: {err} (sampling.num_samples, sampling.batch_size)") from None


def check_config(config: dict) -> None:
    """Cross-field checks the schema cannot express; raise ValueError naming the key."""
    n, k = config["sampling"]["num_samples"], config["metrics"]["kid_subset_size"]
    if n < k:
        raise ValueError(
            f"sampling.num_samples ({n}) is smaller than metrics.kid_subset_size ({k})"
        )
    _check_shards(config, config["sampling"]["shards"], "sampling.shards")
    for name, ds in config["datasets"].items():
        if ds["source"].startswith("builtin:") and not ds.get("count"):
            raise ValueError(f"datasets.{name}.count: required for source '{ds['source']}'")


def data_problems(config: dict, names: set[str]) -> list[str]:
    """One line per folder dataset in ``names`` whose images are not where the config says."""
    problems = []
    for name in sorted(names):
        ds = config["datasets"][name]
        if ds["source"] != "folder":
            continue
        try:
            src = Path(data_source(config, name))
        except ValueError as err:
            problems.append(str(err))
            continue
        if not src.exists():
            via = (f"datasets.{name}.path" if ds.get("path")
                   else f"data_root={config['data_root']!r}")
            problems.append(f"datasets.{name}: data folder '{src}' does not exist (set by {via})")
    return problems


# --------------------------------------------------------------------------- plan
def build_plan(config: dict) -> Plan:
    """Compute every cell (one entry per replicate), training run and analysis of a config."""
    check_config(config)
    exps = config["experiments"]
    plan = Plan()
    merged: dict[tuple, dict] = {}
    default_it = config["training"]["iterations"]
    default_sampler = config["sampling"]["sampler"]
    base_seed = config["training"]["seed"]
    plan.weightings = weightings = Weightings.of(config)

    def add(use, key, exp, dataset, target, weighting, steps, iteration=None,
            paper_dataset=None, paper_iteration=None, arm="main"):
        _check_dataset(config, dataset, f"{key}.dataset")
        weightings.resolve(weighting, f"{key}.weighting")
        _check_steps(config, steps, f"{key}.steps")
        paper = paper_dataset or config["datasets"][dataset].get("stands_for")
        offset = CONTROL_SEED_OFFSET if arm == "control" else 0
        shards = exp.get("shards") or config["sampling"]["shards"]
        _check_shards(config, shards, f"experiments.{use}.shards")
        for r in range(exp.get("replicates") or config["replicates"]):
            seed = base_seed + offset + r
            it = default_it if iteration is None else iteration
            cell = Cell(dataset, target, weighting, seed, int(it),
                        exp.get("sampler") or default_sampler, int(steps),
                        weightings.digest(weighting))
            ident = (cell, paper, paper_iteration, arm)
            if ident not in merged:
                entry = {"uses": [], "paper_dataset": paper, **_cell_dict(cell),
                         "sample_seed": sample_seed(config, seed), "replicate": r, "arm": arm,
                         "metrics": cell.metrics_path(), "grid": cell.grid_path(), "_cell": cell}
                if paper_iteration is not None:
                    entry["paper_iteration"] = paper_iteration
                merged[ident] = entry
                plan.cells.append(entry)
            if use not in merged[ident]["uses"]:
                merged[ident]["uses"].append(use)
            plan.shards[cell] = max(plan.shards.get(cell, 1), shards)

    for use in ("table1", "table2"):
        exp = exps.get(use)
        if not exp:
            continue
        for i, row in enumerate(exp["rows"]):
            for steps in row["steps"]:
                for w in exp["weightings"]:
                    add(use, f"experiments.{use}.rows[{i}]", exp, row["dataset"], exp["target"],
                        w, steps, exp.get("iteration"), row.get("paper_dataset"))
    if exp := exps.get("table3"):
        for i, it in enumerate(exp["iterations"]):
            for w in exp["weightings"]:
                add("table3", f"experiments.table3.iterations[{i}]", exp, exp["dataset"],
                    exp["target"], w, exp["steps"], it["iteration"], exp.get("paper_dataset"),
                    it["paper_iteration"])
    if exp := exps.get("table4"):
        for i, col in enumerate(exp["columns"]):
            add("table4", f"experiments.table4.columns[{i}]", exp, exp["dataset"], col["target"],
                col["weighting"], exp["steps"], exp.get("iteration"), exp.get("paper_dataset"))
    if exp := exps.get("fig7a"):
        for it in exp["iterations"]:
            for w in exp["weightings"]:
                add("fig7a", "experiments.fig7a", exp, exp["dataset"], exp["target"], w,
                    exp["steps"], it, exp.get("paper_dataset"))
    if exp := exps.get("fig7b"):
        for steps in exp["steps"]:
            for w in exp["weightings"]:
                add("fig7b", "experiments.fig7b", exp, exp["dataset"], exp["target"], w, steps,
                    exp.get("iteration"), exp.get("paper_dataset"))
    # Replicated cells that estimate training-seed noise for the one-seed cells (the report pools
    # them); replicate 0 is the same cell as Table 1's.
    if exp := exps.get("seed_noise"):
        for steps in exp["steps"]:
            for w in exp["weightings"]:
                add("seed_noise", "experiments.seed_noise", exp, exp["dataset"], exp["target"], w,
                    steps, exp.get("iteration"), exp.get("paper_dataset"))
    if exp := exps.get("calibration"):
        steps = exp["steps"] if isinstance(exp["steps"], list) else [exp["steps"]]
        for arm, t in ((arm, t) for arm in ("main", "control") for t in steps):
            add("calibration", "experiments.calibration", exp, exp["dataset"], exp["target"],
                exp["weighting"], t, exp.get("iteration"), exp.get("paper_dataset"), arm=arm)

    if exps.get("released"):
        from harness.workflow.released import add_released  # it builds on this module's Cell

        add_released(config, plan)
    for cell in plan.unique_cells():
        if not cell.released:  # a released arm's network is given, not trained
            plan.runs.setdefault(cell.run_key, set()).add(cell.iteration)
    plan.analysis = _analyses(config, plan, weightings)
    return plan


def _analyses(config: dict, plan: Plan, weightings: Weightings) -> list[dict]:
    """Fig. 3/4/10 entries, one per replicate (`experiments.fig4.replicates`, default 1: the
    curves of replicate 0; more let the MSE claims see training-seed noise)."""
    analyses: dict[tuple, dict] = {}
    base = config["training"]["seed"]
    for fig in ANALYSES:
        exp = config["experiments"].get(fig)
        if not exp:
            continue
        _check_dataset(config, exp["dataset"], f"experiments.{fig}.dataset")
        it = int(exp.get("iteration") or config["training"]["iterations"])
        for w in exp["weightings"]:
            weightings.resolve(w, f"experiments.{fig}.weightings")
            for r in range(exp.get("replicates") or 1):
                run = (exp["dataset"], exp["target"], weightings.folder(w), base + r)
                if run + (it,) not in analyses:
                    stem = f"results/analysis/{run_path(*run)}/{it}"
                    analyses[run + (it,)] = {
                        "figure": [], "dataset": exp["dataset"],
                        "paper_dataset": exp.get("paper_dataset")
                        or config["datasets"][exp["dataset"]].get("stands_for"),
                        "target": exp["target"], "weighting": w, "seed": base + r,
                        "replicate": r, "iteration": it, "mse": f"{stem}/mse.json",
                        "x0": f"{stem}/x0.npz"}
                figs = analyses[run + (it,)]["figure"]
                figs += [f for f in ([fig, "fig3"] if fig == "fig4" and r == 0 else [fig])
                         if f not in figs]
                plan.runs.setdefault(run, set()).add(it)
    return list(analyses.values())


def _cell_dict(cell: Cell) -> dict:
    return {"dataset": cell.dataset, "target": cell.target, "weighting": cell.weighting,
            "seed": cell.seed, "iteration": cell.iteration, "sampler": cell.sampler,
            "steps": cell.steps}


def eval_iterations(config: dict, plan: Plan, run: Run) -> list[int]:
    """EMA checkpoints of `run`: those its cells need + training.eval_iterations below the max."""
    needed = plan.runs[run]
    top = max(needed)
    return sorted(needed | {i for i in config["training"]["eval_iterations"] if i <= top})


def model_config(config: dict, dataset: str) -> dict:
    """create_model kwargs for `dataset` (global model keys + the dataset's overrides)."""
    ds = config["datasets"][dataset]
    model = {**config["model"], **ds.get("model", {})}
    model.update(image_size=ds["resolution"], class_cond=ds["class_cond"])
    if ds["class_cond"] and ds.get("num_classes"):
        model["num_classes"] = ds["num_classes"]
    return model


def digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def _without_shards(config: dict) -> dict:
    """The config less its shard counts, which change how many jobs sample, not the samples."""
    exps = {name: {k: v for k, v in exp.items() if k != "shards"} if isinstance(exp, dict)
            else exp for name, exp in config["experiments"].items()}
    sampling = {k: v for k, v in config["sampling"].items() if k != "shards"}
    return {**config, "sampling": sampling, "experiments": exps}


def run_hash(config: dict, dataset: str) -> str:
    """Hash of everything that determines a training run of `dataset` (not the other datasets)."""
    return digest({"dataset": config["datasets"][dataset], "model": model_config(config, dataset),
                   "diffusion": config["diffusion"], "training": config["training"]})


def cell_hash(config: dict, dataset: str) -> str:
    """Hash of everything that determines a cell's number (run + sampling + metrics protocol)."""
    return digest({"run": run_hash(config, dataset),
                   "sampling": _without_shards(config)["sampling"], "metrics": config["metrics"]})


def plan_json(config: dict, plan: Plan, code_commit: str) -> dict:
    """The results/plan.json document read by `harness report` (format in CONTRACTS.md)."""
    from harness.workflow.released import released_block

    used = plan.datasets()
    return {
        "preset": config["preset"],
        "scale": config["scale"],
        "config_hash": digest(_without_shards(config)),
        "code_commit": code_commit,
        "datasets": {
            name: {k: config["datasets"][name].get(k)
                   for k in ("stands_for", "count", "resolution", "class_cond", "source")}
            for name in used
        },
        "cells": [{k: v for k, v in c.items() if k != "_cell"} for c in plan.cells],
        "analysis": plan.analysis,
        "replicates": config["replicates"],
        "final_iteration": config["training"]["iterations"],
        "training": [
            {"dataset": run[0], "target": run[1], "weighting": weighting_name(run[2]),
             "seed": run[3], "run_dir": run_dir(run), "status": f"{run_dir(run)}/status.json",
             "iterations": eval_iterations(config, plan, run)}
            for run in sorted(plan.runs)
        ],
        "weightings": plan.weightings.plan_block({weighting_name(r[2]) for r in plan.runs}),
        "released": released_block(config, plan.cells),
        "bench_dir": "results/bench",
        "statistics": statistics_settings(config),
    }


def statistics_settings(config: dict) -> dict:
    """plan.json's `statistics`: the deciding metric resolved from the scale (kid at toy)."""
    stats = config["statistics"]
    metric = stats["metric"] or ("kid" if config["scale"] == "toy" else "fid")
    return {"metric": metric, "confidence": stats["confidence"], "bootstrap": stats["bootstrap"]}


def cli_args(options: dict) -> list[str]:
    """`--kebab-case value` for each option, the value quoted for the shell where it needs it
    (a weighting definition's JSON); booleans as --flag/--no-flag; None left out."""
    out = []
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if value is None:
            continue
        if isinstance(value, bool):
            out.append(flag if value else "--no-" + key.replace("_", "-"))
        else:
            out.append(f"{flag} {shlex.quote(str(value))}")
    return out


def write_plan(plan: dict, path: str | Path, log: str | Path) -> None:
    """Write plan.json (the plan rule's whole job) and a one-line summary to its log."""
    from harness.runtime import write_text_atomic  # imports torch: not at DAG-parse time

    write_text_atomic(path, json.dumps(plan, indent=1) + "\n")
    write_text_atomic(log, f"{len(plan['cells'])} cells, {len(plan['training'])} runs\n")
