"""Training in the workflow: one job per EMA checkpoint, each resuming the run where the job of
the previous checkpoint left it (the design is in workflow/rules/train.smk).

Pure functions of a validated config and plan, except `unreachable_checkpoints`, which reads
the run directories (names and status.json only) to refuse, before anything runs, an
iteration that training has already passed without writing its checkpoint.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from harness.workflow.plan import Plan, Run, eval_iterations, run_dir

# harness.training.state's file names (not imported: that package loads torch, and the
# Snakefile is parsed for every workflow command and SLURM job).
_STATE = re.compile(r"^train_state_(\d{7})\.pt$")


def ema_rate_name(config: dict) -> str:
    """The EMA rate as `harness train` writes it into file names (str(float(rate)))."""
    return str(float(config["training"]["ema_rate"]))


def checkpoint_path(config: dict, run: Run, iteration: int) -> str:
    return f"{run_dir(run)}/ema_{ema_rate_name(config)}_{int(iteration):06d}.pt"


def previous_iteration(config: dict, plan: Plan, run: Run, iteration: int) -> int | None:
    """The run's evaluation iteration before `iteration` (its job resumes from there), or None
    for the first."""
    earlier = [i for i in eval_iterations(config, plan, run) if i < iteration]
    return max(earlier) if earlier else None


def segment_iterations(config: dict, plan: Plan, run: Run, iteration: int) -> list[int]:
    """The evaluation iterations the job ending at `iteration` may write (those up to it), so
    that appending a later iteration changes no earlier job's command."""
    return [i for i in eval_iterations(config, plan, run) if i <= iteration]


def unreachable_checkpoints(config: dict, plan: Plan, root: str | Path = ".") -> list[str]:
    """One line per missing checkpoint that its run can no longer write: training has a newer
    state than the iteration and none of exactly that step, and did not diverge before it."""
    problems = []
    for run in sorted(plan.runs):
        folder = Path(root) / run_dir(run)
        steps = [int(m.group(1)) for p in (folder.iterdir() if folder.is_dir() else ())
                 if (m := _STATE.match(p.name))]
        if not steps:
            continue
        status = {}
        if (folder / "status.json").is_file():
            status = json.loads((folder / "status.json").read_text())
        diverged_at = status.get("step") if status.get("status") == "diverged" else None
        for it in eval_iterations(config, plan, run):
            if it == 0 or (Path(root) / checkpoint_path(config, run, it)).exists() or it in steps:
                continue  # iteration 0 is rebuilt from the seed alone
            if max(steps) > it and (diverged_at is None or it < diverged_at):
                problems.append(
                    f"{run_dir(run)}: iteration {it} was asked for after training passed it "
                    f"(its newest state is step {max(steps)}); an EMA checkpoint cannot be made "
                    "after the fact: drop the iteration, or delete the run directory to retrain")
    return problems
