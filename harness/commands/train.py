"""`harness train`: one option per TrainConfig field (ADM's flag names in kebab-case)."""

from __future__ import annotations

import dataclasses

import click

from harness.commands.options import EXECUTION_HELP, Number
from harness.diffusion import WEIGHTINGS
from harness.diffusion.user_weighting import canonical, from_plugin
from harness.runtime.execution import COMPILE_MODES, PRECISIONS
from harness.training import TrainConfig, train
from harness.training.config import NUMBER_BOUNDS

HELP = {
    "data": "Prepared dataset: image folder or zip (see `harness prepare`).",
    "run_dir": "Run directory: config.json, log.csv, train_state_*.pt, ema_*.pt, status.json.",
    "max_steps": "Stop after this many optimizer steps (the learning rate stays constant).",
    "target": "What the network predicts: eps, x0 or v.",
    "weighting": "Loss weighting: a built-in (constant, p2, min_snr, debias, snr, ...; see "
                 "`harness weightings`), a plugin's name, or a name with "
                 "--weighting-definition.",
    "weighting_definition": "A user weighting's definition as JSON, e.g. '{\"space\": "
                            "\"eps\", \"formula\": \"1/sqrt(snr)\"}' (keys: space, "
                            "formula, params, density; README 'Benchmark your own "
                            "weighting'); part of the run's identity. A plugin's is filled "
                            "in.",
    "batch_size": "Global batch size (split over the processes of a torchrun job).",
    "ema_rate": "Comma-separated EMA rates (ADM: 0.9999).",
    "save_every": "Write a resumable training state every N steps (the newest 2 are kept).",
    "eval_iterations": "Comma-separated iterations at which EMA checkpoints are written "
                       "(0: the initial weights, an untrained baseline).",
    "grad_clip": "Clip the gradient norm to this value (0: off, as ADM).",
    **EXECUTION_HELP,
    "fused_optimizer": "AdamW's fused implementation (one kernel; same update within float32 "
                       "rounding).",
    "seed": "Seed of data order, flips, timesteps, noise and dropout (per rank and step).",
    "fail_at_step": "Testing aid: make the loss of this iteration NaN to exercise the "
                    "divergence path (0: off).",
    "device": "auto (CUDA if available), cpu or cuda.",
    "cache_data": "Decode the data into memory once: auto (if < 1 GiB), yes or no.",
    "num_workers": "DataLoader worker processes (-1: 0 on CPU, up to 4 on CUDA).",
    "log_every": "Steps per row of log.csv.",
}
REQUIRED = {"data", "run_dir", "image_size", "max_steps"}
NOT_OPTIONS = {"world_size"}  # taken from torchrun's environment
CHOICES = {"precision": click.Choice(PRECISIONS), "compile_mode": click.Choice(COMPILE_MODES)}


def _options(func):
    for field in reversed(dataclasses.fields(TrainConfig)):
        if field.name in NOT_OPTIONS:
            continue
        flag = "--" + field.name.replace("_", "-")
        default = None if field.name in REQUIRED else field.default
        kwargs = {"help": HELP.get(field.name), "show_default": True}
        if field.name == "eval_iterations":
            decl, kwargs["default"], kwargs["type"] = [flag], "", str
        elif field.name in CHOICES:
            decl, kwargs["default"], kwargs["type"] = [flag], default, CHOICES[field.name]
        elif isinstance(default, bool):
            decl, kwargs["default"] = [f"{flag}/--no-{flag[2:]}"], default
        else:
            decl = [flag]
            kind = click.Path() if field.name in ("data", "run_dir") else (
                Number(integer=field.type == "int", **NUMBER_BOUNDS.get(field.name, {}))
                if field.type in ("int", "float") else str)
            kwargs.update(required=field.name in REQUIRED, default=default, type=kind)
        func = click.option(*decl, field.name, **kwargs)(func)
    return func


@click.command("train")
@_options
@click.option("--restart", is_flag=True,
              help="Start again from step 0: first move the run's training states, EMA "
                   "checkpoints, log and status into RUN/set-aside-TIME/ (nothing is deleted). "
                   "Needed when no training state of the run is readable any more.")
def train_command(restart: bool, **options) -> None:
    """Train a diffusion model with ADM's semantics; resumes automatically in --run-dir.

    SIGTERM or SIGUSR1 (a scheduler's notice) stop it after the step in progress with that
    step's training state written: exit status 75, and the same command resumes. With
    --device cuda and no usable CUDA device it stops at once: exit status 69.
    """
    text = options.pop("eval_iterations")
    try:
        iterations = tuple(sorted({int(s) for s in text.split(",") if s.strip()}))
    except ValueError as err:
        raise click.BadParameter(f"'{text}' is not a comma-separated list of integers",
                                 param_hint="--eval-iterations") from err
    try:
        if options["weighting"] not in WEIGHTINGS and not options["weighting_definition"]:
            options["weighting_definition"] = canonical(
                from_plugin(options["weighting"]).definition)
        status = train(TrainConfig(eval_iterations=iterations, **options), restart=restart)
    except (ValueError, FileNotFoundError) as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"{options['run_dir']}: {status.get('message') or status['status']}")
