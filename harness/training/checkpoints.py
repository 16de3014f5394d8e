"""The EMA checkpoints a run owes whoever asked for its evaluation iterations.

A workflow declares `ema_{rate}_{n:06d}.pt` as the output of the job that trains up to
iteration n, so each such file must exist when the job ends, even when
- the job was killed after its last training state but before it exited (the scheduler then
  deletes the half-finished job's outputs): the EMA at n is rebuilt from the state at n;
- the run diverged before n: a divergence record (a checkpoint without weights, saying
  "diverged at step s") stands in for it.
"""

from __future__ import annotations

from pathlib import Path

import torch

from harness.checkpoint import save_checkpoint, save_divergence_record
from harness.training.config import TrainConfig
from harness.training.state import state_path


def ema_checkpoint_path(run_dir: str | Path, rate: str, iteration: int) -> Path:
    """ADM's name for the EMA weights of `rate` after `iteration` steps."""
    return Path(run_dir) / f"ema_{rate}_{iteration:06d}.pt"


def _missing(config: TrainConfig, iteration: int) -> list[str]:
    return [r for r in config.ema_rates()
            if not ema_checkpoint_path(config.run_dir, r, iteration).exists()]


def restore_from_states(config: TrainConfig) -> list[int]:
    """Write missing EMA checkpoints of evaluation iterations that have a training state of
    exactly that step (the state holds the model's buffers and every EMA); returns them."""
    restored = []
    for iteration in config.eval_iterations:
        rates = _missing(config, iteration)
        path = state_path(config.run_dir, iteration)
        if not rates or not path.exists():
            continue
        state = torch.load(path, map_location="cpu", weights_only=True)
        for rate in rates:
            weights = {**state["model"], **state["ema"][rate]}
            save_checkpoint(ema_checkpoint_path(config.run_dir, rate, iteration), weights,
                            config.model_config(), config.diffusion_config(), step=iteration,
                            ema_rate=float(rate), compiled_steps=state.get("compiled_steps"))
        restored.append(iteration)
    return restored


def write_divergence_records(config: TrainConfig, status: dict) -> list[int]:
    """Divergence records for the evaluation iterations a diverged run never reached."""
    written = []
    for iteration in config.eval_iterations:
        if iteration < int(status["step"]):
            continue  # reached before the loss went non-finite: a real checkpoint (or none)
        for rate in _missing(config, iteration):
            save_divergence_record(ema_checkpoint_path(config.run_dir, rate, iteration),
                                   config.model_config(), config.diffusion_config(), iteration,
                                   status.get("message") or f"diverged at step {status['step']}")
            written.append(iteration)
    return sorted(set(written))
