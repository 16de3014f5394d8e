# Targets and per-stage settings computed from the validated config (see harness/workflow/,
# which `harness cell` and `harness estimate` share so that all three agree on every path).
import json
import os
import re
import subprocess
import sys

from harness import workflow as wp

# Fills the defaults inside `datasets` entries too (the same schema as the Snakefile's).
wp.validate_config(config)
PLAN = wp.build_plan(config)
CELLS = PLAN.unique_cells()
RUNS = sorted(PLAN.runs)
# Cells whose samples several jobs draw (sampling.shards, experiments.<name>.shards > 1):
# stem -> the shard files (workflow/rules/sample.smk).
SHARD_FILES = {c.stem: c.shard_paths(PLAN.shards[c]) for c in CELLS if PLAN.shards[c] > 1}
UNREACHABLE = wp.unreachable_checkpoints(config, PLAN)
if UNREACHABLE:
    raise ValueError("\n".join(UNREACHABLE))
# Raw images are needed only by datasets not prepared yet, released checkpoints only where
# their record is not written yet. Their absence does not stop lint or a dry run (both only
# plan); a run stops on it before its first job (onstart below).
DATA_PROBLEMS = wp.data_problems(
    config,
    {name for name in PLAN.datasets() if not os.path.exists(f"results/data/{name}.json")},
) + wp.released_problems(config, PLAN)
for problem in DATA_PROBLEMS:
    print(f"warning: {problem}; a run stops here before its first job", file=sys.stderr)
# Released checkpoints (harness.workflow.released): the arms of the plan, those fetched first.
RELEASED = sorted({c.released for c in CELLS if c.released})
FETCHED = [arm for arm in RELEASED if wp.fetched(config, arm)]
# clean-fid modes: the first decides; every further one has its own reference statistics.
MODES = wp.metric_modes(config)
# Which file each `--profile NAME` is (a profile of the user's own may bear the same name).
if not workflow.remote_exec:
    for line in wp.describe_profiles(sys.argv[1:], os.environ, workflow.basedir):
        print(line, file=sys.stderr)


onstart:
    if DATA_PROBLEMS:
        print("\n".join(DATA_PROBLEMS), file=sys.stderr)
        sys.exit(1)


# One software environment for every rule (the same pins as pyproject.toml); the container
# image (workflow/envs/harness.def) is built from the same pins.
HARNESS_ENV = "../envs/harness.yaml"


def code_commit():
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            cwd=workflow.basedir,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


wildcard_constraints:
    dataset="[a-z][a-z0-9_]*",
    target="eps|x0|v",
    weighting="[a-z][a-z0-9_]*(-[0-9a-f]+)?",
    seed="[0-9]+",
    iteration="[0-9]+",
    sampler="ddpm|ddim",
    steps="[0-9]+",
    arm="[a-z][a-z0-9_]*",


def res(stage, key):
    """A stage's resource from config["resources"][stage]."""
    return config["resources"][stage][key]


def job_retries(stage):
    """Resubmissions of a stage's failed job (None: Snakemake's --retries). Only the Snakemake
    that submits jobs retries: inside a cluster job (remote mode) a rule's own `retries` would
    restart the job again and again in the same allocation, on the same node, before the
    cluster saw it fail; so there the first failure ends the job, and the resubmission (on
    another node, if this one was recorded as unusable) is the retry."""
    return 0 if workflow.remote_exec else res(stage, "retries")


# Nodes where a GPU job found no usable CUDA device (harness.workflow.unusable_hosts).
UNUSABLE_GPU_HOSTS = "results/logs/unusable-gpu-hosts"
# Stages whose jobs keep their work when stopped by a signal, and resume (harness.runtime.stop).
RESUMABLE_STAGES = ("train", "sample")


def slurm_extra(stage):
    """The sbatch options of a stage's jobs beyond the executor's: `--signal` (training and
    sampling: stop, saved, before the time limit) and, for GPU stages that require CUDA,
    `--exclude` of the nodes recorded as unusable. A function of the attempt, so that
    Snakemake evaluates it again for every resubmission; None when there is nothing to add."""
    signal = config["slurm_signal"] if stage in RESUMABLE_STAGES else ""
    if signal and int(signal.split("@")[1]) + 60 >= 60 * res(stage, "runtime"):
        signal = ""  # SLURM would signal at once (it may signal up to 60 s early)
    exclude = res(stage, "gpus") and config["require_cuda"]
    if not (signal or exclude):
        return None

    def options(wildcards, attempt):
        parts = [f"--signal={signal}" if signal else ""]
        if exclude:
            parts.append(wp.exclude_option(UNUSABLE_GPU_HOSTS))
        return " ".join(p for p in parts if p)

    return options


def job_resources(stage, gpus=True):
    """A rule's resources: what the local scheduler counts and what SLURM is asked for. Keys
    the config leaves empty are left out, so that the executor's own defaults apply
    (--default-resources slurm_account=..., the cluster's default partition); CPU-only stages
    (and gpus=False: a stage's CPU-only step) carry no gpu key at all (some executors reject
    gpu=0)."""
    out = dict(
        cpus_per_task=res(stage, "cpus"),
        mem_mb=res(stage, "mem_mb"),
        disk_mb=res(stage, "disk_mb"),
        runtime=res(stage, "runtime"),
    )
    if gpus and res(stage, "gpus"):
        out["gpu"] = res(stage, "gpus")
        if config["slurm_gpu_model"]:
            out["gpu_model"] = config["slurm_gpu_model"]
    for key in ("slurm_account", "slurm_partition"):
        if config[key]:
            out[key] = config[key]
    if config["slurm_constraint"]:
        out["constraint"] = config["slurm_constraint"]
    extra = slurm_extra(stage) if gpus else None  # a CPU-only step: no signal, no exclusion
    if extra is not None:
        out["slurm_extra"] = extra
    return out


def data_source_of(wc):
    """`harness prepare --source` for a dataset; a placeholder where the config names no
    folder (DATA_PROBLEMS then stops any run before its first job)."""
    try:
        return wp.data_source(config, wc.dataset)
    except ValueError:
        return f"<data_root>/{wc.dataset}"


def opt(flag, value):
    """`--flag value` when value is set, else nothing (optional CLI arguments)."""
    return "" if value in (None, "") else f"{flag} {value}"


def run_of(wc):
    """The run a job belongs to: (dataset, target, weighting, training seed)."""
    return (wc.dataset, wc.target, wc.weighting, int(wc.seed))


def checkpoint_of(wc):
    """The EMA checkpoint a sample or analysis job reads (declared as its input)."""
    return wp.checkpoint_path(config, run_of(wc), int(wc.iteration))


def previous_checkpoint(wc):
    """A training job's input: the checkpoint of the run's previous evaluation iteration."""
    it = wp.previous_iteration(config, PLAN, run_of(wc), int(wc.iteration))
    return [] if it is None else [wp.checkpoint_path(config, run_of(wc), it)]


def train_args(wc):
    run, it = run_of(wc), int(wc.iteration)
    t, d = config["training"], config["diffusion"]
    # Sorted: the command (a param, so a rerun trigger) must not depend on the YAML's key order.
    args = dict(sorted(wp.model_config(config, wc.dataset).items()))
    args.update(
        target=wc.target,
        **PLAN.weightings.train_args(wc.weighting),
        noise_schedule=d["noise_schedule"],
        diffusion_steps=d["steps"],
        p2_gamma=d["p2_gamma"],
        p2_k=d["p2_k"],
        min_snr_gamma=d["min_snr_gamma"],
        lr=t["lr"],
        batch_size=t["batch_size"],
        ema_rate=t["ema_rate"],
        max_steps=it,
        save_every=max(1, min(t["save_every"], it)),
        eval_iterations=",".join(map(str, wp.segment_iterations(config, PLAN, run, it))),
        seed=run[3],
        grad_clip=t["grad_clip"],
        precision=t["precision"],
        weight_decay=t["weight_decay"],
        **{k: t[k] for k in EXECUTION_KEYS + ("fused_optimizer",) if k != "precision"},
    )
    return " ".join(wp.cli_args(args))


# How the UNet runs (harness.runtime.Execution): training.* and sampling.* keys of these names.
EXECUTION_KEYS = (
    "precision",
    "tf32",
    "compile",
    "compile_mode",
    "channels_last",
    "deterministic",
    "compile_fallback",
)


def sample_args(wc):
    return " ".join(wp.cli_args({k: config["sampling"][k] for k in EXECUTION_KEYS}))


def refstats_files(wc):
    """A dataset's reference statistics, one file per clean-fid mode (the deciding one first)."""
    return [f"results/refstats/{wc.dataset}.npz"] + [
        f"results/refstats/{wc.dataset}.{mode}.npz" for mode in MODES[1:]
    ]


def refstats_args(wc, input):
    return " ".join(f"--refstats {path}" for path in input.refstats)


def metrics_options():
    """`harness metrics` options every cell shares."""
    m = config["metrics"]
    args = dict(
        kid_subset_size=m["kid_subset_size"],
        seed=m["seed"],
        fid_impl=m["fid_impl"],
        bootstrap=config["statistics"]["bootstrap"],
        batch_size=m["batch_size"],
        inception_weights=m["inception_weights"],
        is_weights=m["is_weights"],
    )
    return " ".join(wp.cli_args(args))


def launcher(resources, torchrun=False):
    """The command prefix of a job: `exec harness`, on its own GPUs when the stage uses any
    (a free device per job on a workstation; SLURM's allocation on a cluster; with
    require_cuda, never the CPU: on-gpus fails at once where no CUDA device is usable and
    records the node), and for multi-GPU training torchrun inside the single task. `exec`
    replaces the job's shell, so a scheduler's SIGTERM/SIGUSR1 reach the harness, which
    saves and stops, instead of killing the shell and orphaning it."""
    gpus = int(resources.get("gpu", 0))
    if not gpus:
        return "exec harness"
    run = "harness"
    if torchrun and gpus > 1:
        run = f'torchrun --standalone --nproc_per_node {gpus} "$(command -v harness)"'
    check = ""
    if config["require_cuda"]:
        check = f" --require-cuda --unusable-hosts {UNUSABLE_GPU_HOSTS}"
    return f"exec harness on-gpus --gpus {gpus}{check} -- {run}"


def device_option(resources):
    """`--device cuda` for a job of a GPU stage when the config requires CUDA (so it never
    runs on the CPU by accident), else nothing (the verb's `auto`)."""
    return "--device cuda" if resources.get("gpu") and config["require_cuda"] else ""
