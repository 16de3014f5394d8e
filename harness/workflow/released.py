"""Released checkpoints as arms of the plan (config `released` and `experiments.released`).

An arm is a network someone else trained (P2's `ffhq_p2.pt`, ...): the plan samples it at the
listed steps and measures it like a trained cell, under `{dataset}/released/{arm}/`. Before any
of its samples, one job checks the file (`harness released check`: digest, weights_only load,
tensors against the model flags) and writes `results/released/{arm}.json`, the record sampling
reads its flags from and the report its provenance from; a file given by URL (or builtin:random,
a random network of the flags, for plumbing checks) is first fetched to
`results/released/{arm}.pt`. Pure functions of a validated config; no torch.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from harness.workflow.plan import Cell, Plan, _check_shards, digest

RELEASED_DIR = "results/released"
BUILTIN_RANDOM = "builtin:random"
FETCHED = ("http://", "https://", "file://", BUILTIN_RANDOM)


def record_path(arm: str) -> str:
    """The check job's record of an arm (flags, path, size, sha256)."""
    return f"{RELEASED_DIR}/{arm}.json"


def fetched(config: dict, arm: str) -> str | None:
    """The URL (or builtin:random) an arm's file is fetched from; None for a local file."""
    path = config["released"][arm]["path"]
    return path if path.startswith(FETCHED) else None


def arm_file(config: dict, arm: str) -> str:
    """The local file of an arm: its fetched copy, or `path` (relative paths under data_root
    when it is set, else under the working directory)."""
    if fetched(config, arm):
        return f"{RELEASED_DIR}/{arm}.pt"
    path = Path(config["released"][arm]["path"])
    if not path.is_absolute() and config.get("data_root"):
        path = Path(config["data_root"]) / path
    return str(path)


def builtin_seed(arm: str) -> int:
    """The seed of a builtin:random arm: its name's, so that two arms differ."""
    return int(hashlib.sha256(arm.encode()).hexdigest()[:8], 16)


def arm_model(config: dict, arm: str) -> dict:
    """create_model flags of an arm: its `model`, with image_size and class_cond (and
    num_classes) from its dataset; ValueError naming the key that contradicts the dataset."""
    spec = config["released"][arm]
    ds = config["datasets"][spec["dataset"]]
    model = dict(spec["model"])
    given = {"image_size": ds["resolution"], "class_cond": ds["class_cond"]}
    for key, value in given.items():
        if key in model and model[key] != value:
            raise ValueError(f"released.{arm}.model.{key}: {model[key]!r}, but its dataset "
                             f"'{spec['dataset']}' has {value!r} (datasets.{spec['dataset']})")
    model.update(given)
    if ds["class_cond"] and ds.get("num_classes"):
        model.setdefault("num_classes", ds["num_classes"])
    return dict(sorted(model.items()))


def arm_diffusion(config: dict, arm: str) -> dict:
    """create_diffusion flags of an arm: T = 1000, linear schedule and the model's learn_sigma
    unless its `diffusion` says otherwise, and its target."""
    spec = config["released"][arm]
    learn_sigma = bool(spec["model"].get("learn_sigma", False))
    out = {"steps": 1000, "noise_schedule": "linear", "learn_sigma": learn_sigma,
           **spec["diffusion"], "target": spec["target"]}
    if out["learn_sigma"] != learn_sigma:
        raise ValueError(f"released.{arm}.diffusion.learn_sigma: {out['learn_sigma']!r}, but "
                         f"released.{arm}.model.learn_sigma is {learn_sigma!r}")
    return dict(sorted(out.items()))


def arm_steps(exp: dict, dataset: str, arm: str) -> list[int]:
    """The step counts of an arm: experiments.released.steps, or its dataset's list there."""
    steps = exp["steps"]
    if isinstance(steps, dict):
        if dataset not in steps:
            raise ValueError(f"experiments.released.steps: no step counts for dataset "
                             f"'{dataset}' (of arm '{arm}'); it lists {sorted(steps)}")
        return steps[dataset]
    return steps


def add_released(config: dict, plan: Plan) -> None:
    """Append every released arm's cells to `plan` (entries as the trained ones', `uses`
    ['released'], `released` naming the arm, seed and iteration None)."""
    exp = config["experiments"]["released"]
    sampler = exp.get("sampler") or config["sampling"]["sampler"]
    shards = exp.get("shards") or config["sampling"]["shards"]
    _check_shards(config, shards, "experiments.released.shards")
    if isinstance(exp["steps"], dict):
        for name in exp["steps"]:
            if name not in config["datasets"]:
                raise ValueError(f"experiments.released.steps: unknown dataset '{name}'; "
                                 f"defined datasets: {sorted(config['datasets'])}")
    for i, arm in enumerate(exp["arms"]):
        if arm not in config["released"]:
            raise ValueError(f"experiments.released.arms[{i}]: unknown arm '{arm}'; the "
                             f"`released` mapping defines {sorted(config['released'])}")
        spec = config["released"][arm]
        if spec["dataset"] not in config["datasets"]:
            raise ValueError(f"released.{arm}.dataset: unknown dataset '{spec['dataset']}'; "
                             f"defined datasets: {sorted(config['datasets'])}")
        plan.weightings.resolve(spec["weighting"], f"released.{arm}.weighting")
        arm_model(config, arm)
        T = arm_diffusion(config, arm)["steps"]
        for steps in arm_steps(exp, spec["dataset"], arm):
            if steps > T:
                raise ValueError(f"experiments.released.steps: {steps} sampling steps exceed "
                                 f"arm '{arm}''s diffusion steps (T={T}, released.{arm}.diffusion)")
            cell = Cell(spec["dataset"], spec["target"], spec["weighting"], None, None,
                        sampler, int(steps), released=arm)
            plan.cells.append({
                "uses": ["released"], "released": arm,
                "paper_dataset": config["datasets"][spec["dataset"]].get("stands_for"),
                "dataset": cell.dataset, "target": cell.target, "weighting": cell.weighting,
                "seed": None, "iteration": None, "sampler": sampler, "steps": cell.steps,
                "sample_seed": config["sampling"]["seed"], "replicate": 0, "arm": "main",
                "metrics": cell.metrics_path(), "grid": cell.grid_path(), "_cell": cell})
            plan.shards[cell] = shards


def released_block(config: dict, cells: list[dict]) -> dict:
    """plan.json's `released`: per arm of the plan, what the report shows beside its cells."""
    out = {}
    for arm in sorted({c["released"] for c in cells if c.get("released")}):
        spec = config["released"][arm]
        out[arm] = {"dataset": spec["dataset"], "weighting": spec["weighting"],
                    "target": spec["target"], "path": spec["path"], "file": arm_file(config, arm),
                    "sha256": spec["sha256"], "source": spec["source"],
                    "published": spec["published"], "record": record_path(arm)}
    return out


def released_hash(config: dict, arm: str) -> str:
    """Hash of everything that determines a released cell's number (the arm, sampling and the
    metrics protocol); the metrics JSON records it as the cell's config hash."""
    sampling = {k: v for k, v in config["sampling"].items() if k != "shards"}
    return digest({"released": config["released"][arm], "model": arm_model(config, arm),
                   "sampling": sampling, "metrics": config["metrics"]})


def released_problems(config: dict, plan: Plan, root: str | Path = ".") -> list[str]:
    """One line per arm of the plan whose local file is missing, naming the arm and the path;
    not for files fetched from a URL (fetching makes them), nor for arms whose record under
    `root` shows the file was checked already."""
    problems = []
    for arm in sorted({c["released"] for c in plan.cells if c.get("released")}):
        if (fetched(config, arm) or Path(arm_file(config, arm)).is_file()
                or (Path(root) / record_path(arm)).is_file()):
            continue
        spec = config["released"][arm]
        via = (f" (path '{spec['path']}' under data_root '{config['data_root']}')"
               if config.get("data_root") and not Path(spec["path"]).is_absolute() else "")
        problems.append(f"released.{arm}: checkpoint file '{arm_file(config, arm)}' does not "
                        f"exist{via}")
    return problems

