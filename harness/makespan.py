"""Time to the report on G GPUs: the DAG's jobs as `harness estimate` prices them, scheduled
with their dependencies (harness.scheduling: critical-path-first list scheduling), and every
job that cannot finish within its time limit.

- A job holds `resources.<stage>.gpus` GPUs for its GPU-hours / gpus (several GPUs per
  training job are assumed to scale linearly); a stage asking for no GPUs runs beside them.
- Jobs the estimate does not price take 0 hours: data preparation (CPU, before anything
  else), the merges of sharded cells (CPU, `resources.sample` less its GPUs), the report.
- A job's time limit is `runtime x (retries + 1)` of its stage: training resumes from its
  training states and sampling from its chunks, so an attempt cut at `runtime` goes on in the
  next. Retries left unset (Snakemake's --retries, e.g. the profile's) count as 0.
"""

from __future__ import annotations

from collections.abc import Iterable

from harness.scheduling import Task, best_schedules, critical_path

__all__ = ["format_makespan", "makespan", "over_limit", "tasks"]

# The stage whose resources a job uses, where it differs (released: fetch and check an arm).
RESOURCES_OF = {"merge": "sample", "released": "sample"}
NO_GPUS = ("merge", "released")


def _resources(stage: str, resources: dict) -> dict:
    return resources[RESOURCES_OF.get(stage, stage)]


def _gpus(stage: str, resources: dict) -> int:
    return 0 if stage in NO_GPUS else int(_resources(stage, resources)["gpus"])


def tasks(jobs: list[dict], resources: dict) -> list[Task]:
    """Scheduling tasks of the estimate's `jobs` under the config's `resources`."""
    return [Task(j["output"], j["gpu_hours"] / max(1, _gpus(j["stage"], resources)),
                 _gpus(j["stage"], resources), tuple(j["needs"])) for j in jobs]


def over_limit(jobs: list[dict], resources: dict) -> list[dict]:
    """Jobs whose estimated hours exceed their stage's runtime x (retries + 1)."""
    out = []
    for job, task in zip(jobs, tasks(jobs, resources), strict=True):
        res = _resources(job["stage"], resources)
        attempts = (res.get("retries") or 0) + 1
        limit = res["runtime"] / 60 * attempts
        if task.hours > limit:
            out.append({"stage": job["stage"], "output": job["output"], "hours": task.hours,
                        "limit_hours": limit, "runtime_min": res["runtime"],
                        "attempts": attempts})
    return out


def makespan(result: dict, resources: dict, gpu_counts: Iterable[int]) -> dict:
    """Hours to the report on each of `gpu_counts` GPUs, from an estimate's `result`."""
    work = tasks(result["jobs"], resources)
    gpu_hours = sum(t.hours * t.gpus for t in work)
    schedules = best_schedules(work, gpu_counts)
    return {"scheduler": "critical-path-first list scheduling (harness.scheduling)",
            "critical_path_hours": critical_path(work), "gpu_hours": gpu_hours,
            "makespan": [{"gpus": g, "hours": s.makespan, "gpus_used": s.gpus,
                          "busy": gpu_hours / (g * s.makespan) if s.makespan else 0.0}
                         for g, s in sorted(schedules.items())],
            "over_limit": over_limit(result["jobs"], resources)}


def format_makespan(m: dict) -> str:
    """The lines `harness estimate --gpus` prints after the GPU-hours table."""
    lines = [f"{'GPUs':>6}{'hours':>9}{'busy':>7}  makespan: hours to the report "
             "(critical-path-first list schedule)"]
    for row in m["makespan"]:
        used = f"  (reached with {row['gpus_used']})" if row["gpus_used"] < row["gpus"] else ""
        lines.append(f"{row['gpus']:>6}{row['hours']:>9.1f}{row['busy']:>7.0%}{used}")
    lines.append(f"critical path {m['critical_path_hours']:.1f} h (no number of GPUs ends "
                 f"sooner); GPU work {m['gpu_hours']:.1f} h")
    over = m["over_limit"]
    lines.append(f"jobs over runtime x (retries + 1): {len(over) or 'none'}")
    for job in over:
        lines.append(f"  {job['stage']:<9}{job['hours']:>7.1f} h > {job['limit_hours']:.1f} h "
                     f"({job['runtime_min']} min x {job['attempts']})  {job['output']}")
    return "\n".join(lines)
