# Targets and per-stage settings computed from the validated config (see harness/workflow_plan.py,
# which `harness cell` and `harness estimate` share so that all three agree on every path).
import os
import subprocess

from harness import workflow_plan as wp

wp.validate_config(config)  # fills the defaults inside `datasets` entries too; same schema
PLAN = wp.build_plan(config)
CELLS = PLAN.unique_cells()
RUNS = sorted(PLAN.runs)
DATASETS = sorted({run[0] for run in RUNS})


def code_commit():
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             cwd=workflow.basedir, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


wildcard_constraints:
    dataset="[a-z][a-z0-9_]*",
    target="eps|x0|v",
    weighting="[a-z][a-z0-9_]*",
    iteration="[0-9]+",
    sampler="ddpm|ddim",
    steps="[0-9]+",


def res(stage, key):
    """A stage's resource from config["resources"][stage]."""
    return config["resources"][stage][key]


def slurm(stage):
    """The resources block of every rule: scheduling locally, the request on SLURM."""
    return dict(
        gpu=res(stage, "gpus"),
        cpus_per_task=res(stage, "cpus"),
        mem_mb=res(stage, "mem_mb"),
        runtime=res(stage, "runtime"),
        slurm_account=config["slurm_account"],
        slurm_partition=config["slurm_partition"],
    )


def opt(flag, value):
    """`--flag value` when value is set, else nothing (optional CLI arguments)."""
    return "" if value in (None, "") else f"{flag} {value}"


def run_dir(wc):
    return f"results/train/{wc.dataset}/{wc.target}-{wc.weighting}"


def checkpoint_path(wc):
    rate = config["training"]["ema_rate"]
    return f"{run_dir(wc)}/ema_{rate}_{int(wc.iteration):06d}.pt"


def train_args(wc):
    run = (wc.dataset, wc.target, wc.weighting)
    iters = wp.eval_iterations(config, PLAN, run)
    t, d = config["training"], config["diffusion"]
    args = {**wp.model_config(config, wc.dataset)}
    args.update(
        target=wc.target, weighting=wc.weighting, noise_schedule=d["noise_schedule"],
        diffusion_steps=d["steps"], p2_gamma=d["p2_gamma"], p2_k=d["p2_k"],
        min_snr_gamma=d["min_snr_gamma"], lr=t["lr"], batch_size=t["batch_size"],
        ema_rate=t["ema_rate"], max_steps=max(iters), save_every=min(t["save_every"], max(iters)),
        eval_iterations=",".join(map(str, iters)), seed=t["seed"], grad_clip=t["grad_clip"],
        precision=t["precision"], weight_decay=t["weight_decay"],
        **{k: t[k] for k in EXECUTION_KEYS + ("fused_optimizer",) if k != "precision"},
    )
    return " ".join(wp.cli_args(args))


# How the UNet runs (harness.runtime.Execution): training.* and sampling.* keys of these names.
EXECUTION_KEYS = ("precision", "tf32", "compile", "compile_mode", "channels_last", "deterministic")


def sample_args(wc):
    return " ".join(wp.cli_args({k: config["sampling"][k] for k in EXECUTION_KEYS}))


def launcher(wc, resources):
    """One process, or torchrun inside the single SLURM task for multi-GPU training."""
    if int(resources.gpu) > 1:
        return f'torchrun --standalone --nproc_per_node {resources.gpu} "$(command -v harness)"'
    return "harness"
