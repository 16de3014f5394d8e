"""The workflow's jobs as a graph: each job's stage, output, the jobs it waits for and the work
it does, in the units `harness estimate` prices (training images, network calls, Inception
images). The same jobs, outputs and dependencies as workflow/rules/*.smk declare; a pure
function of a validated config and its plan. plan.json's job is left out: it costs nothing
and waits for nothing."""

from __future__ import annotations

from dataclasses import dataclass

from harness.shards import shard_ranges
from harness.workflow.config import metric_modes
from harness.workflow.plan import Cell, Plan, eval_iterations
from harness.workflow.released import RELEASED_DIR, fetched, record_path
from harness.workflow.train import checkpoint_path, previous_iteration

REPORT = "reports/report.html"


@dataclass(frozen=True)
class Job:
    """One job of the DAG. `stage` names its `resources.<stage>` (merge, and released: an
    arm's fetch and check: sampling's, without GPUs); `work` is training images (train), network calls (sample, analysis) or Inception
    images (metrics, refstats), and 0 for jobs the estimate does not price (data, merge,
    report)."""

    stage: str
    output: str
    dataset: str | None
    work: float
    needs: tuple[str, ...] = ()
    released: str | None = None  # the arm whose network a released cell's job runs


def data_output(dataset: str) -> str:
    return f"results/data/{dataset}.json"


def refstats_outputs(config: dict, dataset: str) -> list[str]:
    """A dataset's reference statistics, one file per clean-fid mode (the deciding one first)."""
    return [f"results/refstats/{dataset}.npz"] + [
        f"results/refstats/{dataset}.{mode}.npz" for mode in metric_modes(config)[1:]]


def sample_jobs(config: dict, plan: Plan, cell: Cell) -> list[Job]:
    """The jobs drawing `cell`'s samples: one, or its shards and their merge."""
    s = config["sampling"]
    checkpoint = (record_path(cell.released) if cell.released
                  else checkpoint_path(config, cell.run_key, cell.iteration))
    arm = cell.released or None
    count = plan.shards.get(cell, 1)
    if count == 1:
        return [Job("sample", cell.samples_path(), cell.dataset,
                    s["num_samples"] * cell.steps, (checkpoint,), arm)]
    parts = shard_ranges(s["num_samples"], s["batch_size"], count)
    shards = [Job("sample", path, cell.dataset, len(part) * cell.steps, (checkpoint,), arm)
              for path, part in zip(cell.shard_paths(count), parts, strict=True)]
    return [*shards, Job("merge", cell.samples_path(), None, 0,
                         tuple(j.output for j in shards))]


def dag_jobs(config: dict, plan: Plan, dataset_images: dict[str, int] | None = None
             ) -> list[Job]:
    """Every job of the config's DAG, each after the jobs whose outputs it reads;
    `dataset_images` (images per dataset: refstats' work) is looked up by the caller, since
    the dataset registry loads torch."""
    jobs: list[Job] = []
    t, a = config["training"], config["analysis"]
    for name in plan.datasets():
        jobs.append(Job("data", data_output(name), name, 0))
        jobs += [Job("refstats", path, name, (dataset_images or {}).get(name, 0),
                     (data_output(name),)) for path in refstats_outputs(config, name)]
    for arm in sorted({c.released for c in plan.unique_cells() if c.released}):
        fetch = (f"{RELEASED_DIR}/{arm}.pt",) if fetched(config, arm) else ()
        jobs += [Job("released", path, None, 0) for path in fetch]
        jobs.append(Job("released", record_path(arm), None, 0, fetch))
    for run in sorted(plan.runs):
        for it in eval_iterations(config, plan, run):
            before = previous_iteration(config, plan, run, it)
            needs = (data_output(run[0]),) + (
                (checkpoint_path(config, run, before),) if before is not None else ())
            jobs.append(Job("train", checkpoint_path(config, run, it), run[0],
                            (it - (before or 0)) * t["batch_size"], needs))
    for cell in plan.unique_cells():
        jobs += sample_jobs(config, plan, cell)
        refstats = refstats_outputs(config, cell.dataset)
        jobs.append(Job("metrics", cell.metrics_path(), cell.dataset,
                        config["sampling"]["num_samples"] * len(refstats),
                        (cell.samples_path(), *refstats)))
    forwards = a["num_images"] * -(-config["diffusion"]["steps"] // a["stride"])
    for item in plan.analysis:
        run = (item["dataset"], item["target"], plan.weightings.folder(item["weighting"]),
               item["seed"])
        jobs.append(Job("analysis", item["mse"], item["dataset"], forwards,
                        (checkpoint_path(config, run, item["iteration"]),
                         data_output(item["dataset"]))))
    last = [checkpoint_path(config, run, max(eval_iterations(config, plan, run)))
            for run in sorted(plan.runs)]
    finals = [j.output for j in jobs if j.stage in ("metrics", "analysis")
              or j.output.endswith(".json") and j.stage == "released"]
    jobs.append(Job("report", REPORT, None, 0, tuple(finals + last)))
    return jobs
