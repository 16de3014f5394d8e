"""The training loop: ADM's semantics (AdamW, constant LR, EMA, uniform t, hybrid loss).

Per step: the batch, flips, timesteps and noise of step `s` come from `(seed, rank, s)`
(harness.training.batches), the loss is `diffusion.training_losses(...)["loss"].mean()`
(the weighting is applied inside the diffusion, in one place; a user weighting with a
timestep density draws t from it and, as ADM's schedule samplers, multiplies each loss by its
importance weight 1 / (T p(t)) before the mean), then AdamW and the EMAs are
updated. Iteration `n` means "after n optimizer steps"; `ema_{rate}_{n:06d}.pt` holds the
EMA after n steps (ADM's own names are off by one: it saves before counting the step).
Iteration 0 is the initial weights (ADM's EMA starts from them): the untrained baseline that
shows how far training moved the metrics. The seed alone determines them, so that checkpoint is
written whenever it is asked for and missing, before any training state is loaded.

SIGTERM or SIGUSR1 (a scheduler's notice: preemption, a time limit) ends the run after the
step in progress: its training state is written and harness.errors.Interrupted raised, and a
rerun resumes from that step exactly as from any other state (harness.runtime.stop).
Whether the UNet ran compiled is counted per step (`compiled_steps` in each training state
and EMA checkpoint), since a resumed run may land where the compiler is missing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import time
import warnings
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from tqdm import tqdm

from harness.checkpoint import save_checkpoint
from harness.data import ImageDataset
from harness.data.dataset import check_resolution
from harness.diffusion import create_diffusion
from harness.errors import Interrupted
from harness.inputs import check_output_path
from harness.models import create_model
from harness.models.check import check_model_config
from harness.runtime import Network, RunLock, distributed, numerics, seeds
from harness.runtime.execution import check_compile, memory_format
from harness.runtime.files import SUFFIX as TEMPORARY_SUFFIX
from harness.runtime.stop import StopSignals
from harness.training.batches import StepBatches, StepData
from harness.training.checkpoints import (
    ema_checkpoint_path,
    restore_from_states,
    write_divergence_records,
)
from harness.training.config import TrainConfig, check_config, check_or_write_config
from harness.training.ema import EMA
from harness.training.log import LossLog
from harness.training.state import (
    capture_rng,
    load_newest_state,
    restore_rng,
    save_state,
    set_aside_run_files,
    state_path,
)
from harness.training.status import clear_status, read_status, write_status

CACHE_LIMIT_BYTES = 1 << 30  # decode small datasets into memory once ("auto")
LOCK_NAME = ".lock"  # RUN/.lock: held by the process that trains the run (harness.runtime.lock)


def _open_dataset(config: TrainConfig) -> ImageDataset:
    cache = config.cache_data == "yes"
    if config.cache_data == "auto":
        probe = ImageDataset(config.data, config.image_size, class_cond=config.class_cond,
                             num_classes=config.num_classes if config.class_cond else None)
        cache = len(probe) * 3 * config.image_size**2 <= CACHE_LIMIT_BYTES
        if not cache:
            return probe
    return ImageDataset(config.data, config.image_size, class_cond=config.class_cond,
                        num_classes=config.num_classes if config.class_cond else None,
                        cache=cache)


def _finished(config: TrainConfig) -> dict | None:
    """The recorded status if there is nothing left to do, else None."""
    status = read_status(config.run_dir)
    if status is None:
        return None
    if status.get("status") == "diverged" or status.get("step", 0) >= config.max_steps:
        return status
    return None  # completed earlier with fewer steps: train on (status cleared once resumed)


def _warn_unreachable(config: TrainConfig, start: int, rates: list[str]) -> None:
    """EMA checkpoints asked for at iterations this run has passed without writing them."""
    missing = [i for i in config.eval_iterations if i <= start and not all(
        ema_checkpoint_path(config.run_dir, r, i).exists() for r in rates)]
    if missing:
        warnings.warn(f"{config.run_dir}: EMA checkpoints for iterations {missing} were not "
                      f"written and cannot be made any more (the run is at step {start}); "
                      "train a new run directory to get them", stacklevel=2)


def train(config: TrainConfig, restart: bool = False) -> dict:
    """Train (or resume) the run in `config.run_dir`; returns the final status dict.

    Everything checkable is checked before the run directory is touched: the options against
    its config.json, the model (built on the meta device), the diffusion, and the data (its
    resolution against image_size). The run directory is then locked for this job (a second
    `harness train` on it is refused, naming the holder). `restart` first moves the run's
    states, EMA checkpoints, log and status aside and trains from step 0. SIGTERM/SIGUSR1
    stop the run after the current step with its state written (raises Interrupted).
    """
    with StopSignals() as stop, numerics(config.execution()):  # numerics: before CUDA starts
        info, device = distributed.init(config.device)
        config = dataclasses.replace(config, world_size=info.world_size)
        _check_run_dir(Path(config.run_dir))
        check_config(config)
        check_model_config(config.model_config(), "the model options")
        create_diffusion(**config.diffusion_config())
        check_resolution(config.data, config.image_size, "--image-size")
        check_compile(config.execution(), device.type)  # no compiler: refused before any work
        dataset = _open_dataset(config)
        run_dir = Path(config.run_dir)
        lock = (RunLock(run_dir / LOCK_NAME, f"run directory '{run_dir}'") if info.is_main
                else contextlib.nullcontext())
        with lock:
            return _train(config, info, device, dataset, restart, stop)


def _check_run_dir(run_dir: Path) -> None:
    """A run directory is new, empty, or has the config.json of a run: a folder of other files
    is refused (training would overwrite files named log.csv, config.json, ... in it)."""
    if run_dir.exists() and not run_dir.is_dir():
        raise ValueError(f"--run-dir '{run_dir}' is a file, not a folder")
    check_output_path(run_dir, "--run-dir", folder=True)
    if run_dir.is_dir() and not (run_dir / "config.json").exists():
        other = sorted(n for n in os.listdir(run_dir) if n != LOCK_NAME and not n.endswith(
            TEMPORARY_SUFFIX))
        if other:
            raise ValueError(f"--run-dir '{run_dir}' is not a run directory of `harness train` "
                             f"(no config.json, but {', '.join(other[:3])}"
                             f"{', ...' if len(other) > 3 else ''}); choose a new or empty folder")


def _train(config: TrainConfig, info: distributed.Dist, device: torch.device,
           dataset: ImageDataset, restart: bool, stop: StopSignals) -> dict:
    run_dir = Path(config.run_dir)
    if restart:
        if info.is_main:
            moved = set_aside_run_files(run_dir)
            if moved is not None:
                print(f"{run_dir}: --restart: moved the previous run's files to {moved}")
        distributed.barrier(info)
    check_config(config)  # again, now that this process holds the run directory
    if info.is_main:  # a kill between the last state and the end lost no checkpoint
        restore_from_states(config)
        _save_initial(config)
    done = _finished(config)
    if done is not None:
        if done.get("status") == "completed":
            _warn_unreachable(config, int(done.get("step", 0)), config.ema_rates())
        elif info.is_main:
            write_divergence_records(config, done)
        return done

    per_rank = config.batch_size // info.world_size
    batches = StepBatches(len(dataset), per_rank, config.seed, info.rank, info.world_size,
                          config.random_flip, 0, config.max_steps)
    torch.manual_seed(seeds.derive_seed(config.seed, seeds.INIT))  # same initial weights
    model = memory_format(create_model(**config.model_config()).to(device), config.execution())
    diffusion = create_diffusion(**config.diffusion_config())
    ema = EMA(model, config.ema_rates())
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay,
                            fused=config.fused_optimizer or None)
    start, compiled_steps, log_window = 0, 0, None
    state = load_newest_state(run_dir)  # on CPU: RNG states must stay CPU tensors
    if state is not None:
        try:
            model.load_state_dict(state["model"])
            ema.load_state(state["ema"])
            opt.load_state_dict(state["optimizer"])
            restore_rng(state["rng"])
        except (KeyError, RuntimeError, TypeError, ValueError) as err:
            path = state_path(run_dir, int(state["step"]))
            reason = " ".join(str(err).split())[:300]
            raise ValueError(f"training state '{path}' does not fit this run's model and "
                             f"optimiser (written by another run?): {reason}; move it away, "
                             "or rerun with --restart") from None
        start = int(state["step"])
        compiled_steps = state.get("compiled_steps")  # None: a state from before it was counted
        log_window = state.get("log_window")
        del state
    elif info.is_main and (run_dir / "log.csv").exists():
        print(f"warning: {run_dir} has a log.csv but no training state (none was saved before "
              "it stopped, or they were removed): training from step 0", file=sys.stderr)
    if info.is_main:  # only now: the options were accepted and the run can go on
        run_dir.mkdir(parents=True, exist_ok=True)
        check_or_write_config(config)
        clear_status(run_dir)  # from an earlier, shorter run: this one has not ended
    distributed.barrier(info)
    net = model
    if info.enabled:
        net = DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    net = Network(net, config.execution(), device)
    if info.is_main:
        print(f"{run_dir}: steps {start}..{config.max_steps} on {device} "
              f"({config.execution().label()}, {'compiled' if net.compiled else 'eager'})")

    _warn_unreachable(config, start, ema.rates)
    workers = config.num_workers
    if workers < 0:
        workers = min(4, os.cpu_count() or 1) if device.type == "cuda" else 0
    pinned = device.type == "cuda"
    density = (None if diffusion.timestep_density is None
               else torch.from_numpy(diffusion.timestep_density))
    loader = DataLoader(StepData(dataset, batches, diffusion.num_timesteps, density),
                        batch_size=None,
                        sampler=range(start, config.max_steps), num_workers=workers,
                        pin_memory=pinned)
    log = LossLog(run_dir / "log.csv", start, diffusion.num_timesteps) if info.is_main else None
    if log is not None and log_window is not None:
        log.restore_window(log_window)
    bar = tqdm(total=config.max_steps, initial=start, unit="it", dynamic_ncols=True,
               disable=not (config.progress and info.is_main), desc="train")
    window_start, window_steps = time.perf_counter(), 0
    status = {"status": "completed", "step": config.max_steps}
    saver = StateSaver(config, info, model, ema, opt, log)
    if _stop_asked(stop, info):
        _stopped(stop, info, run_dir, start, config, saved=False)

    for step, (x, kwargs, t, noise) in zip(range(start, config.max_steps), loader, strict=True):
        iteration = step + 1
        x, t, noise = (v.to(device, non_blocking=pinned) for v in (x, t, noise))
        kwargs = {k: v.to(device, non_blocking=pinned) for k, v in kwargs.items()}
        torch.manual_seed(seeds.derive_seed(config.seed, seeds.DROPOUT, info.rank, step))
        opt.zero_grad(set_to_none=True)
        losses = diffusion.training_losses(net, x, t, model_kwargs=kwargs, noise=noise)
        importance = diffusion.importance_weights(t)  # t drawn from a density (ADM)
        loss = (losses["loss"].float() if importance is None
                else losses["loss"].float() * importance).mean()
        if iteration == config.fail_at_step:
            loss = loss * float("nan")  # testing aid: a real non-finite loss on this path
        loss.backward()
        if config.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        opt.step()
        ema.update(model)
        # Checked once the step is queued, so the GPU is not left idle while the CPU launches
        # the backward pass; a non-finite step's weights are never saved.
        if not torch.isfinite(distributed.all_mean(loss.detach(), info)).item():
            status = {"status": "diverged", "step": iteration,
                      "message": f"diverged at step {iteration}"}
            break

        window_steps += 1
        if log is not None:
            log.add(t.cpu().numpy(), {k: v.detach().float().cpu().numpy()
                                      for k, v in losses.items() if k in ("loss", "mse", "vb")})
            if iteration % config.log_every == 0 or iteration == config.max_steps:
                elapsed = time.perf_counter() - window_start
                row = log.write(iteration, config.lr,
                                window_steps * config.batch_size / max(elapsed, 1e-9))
                bar.set_postfix(loss=f"{row['loss']:.4g}")
                window_start, window_steps = time.perf_counter(), 0
        bar.update(1)
        if compiled_steps is not None:
            compiled_steps += int(net.compiled)
        saved = saver.at_save_points(iteration, compiled_steps)
        if _stop_asked(stop, info):
            if not saved:
                saver.save(iteration, compiled_steps)
            bar.close()
            _stopped(stop, info, run_dir, iteration, config, saved=True)

    bar.close()
    if info.is_main:
        if status["status"] == "diverged":
            write_divergence_records(config, status)
        write_status(run_dir, status["status"], status["step"], status.get("message", ""))
    distributed.barrier(info)
    distributed.shutdown(info)
    return status


def _stop_asked(stop: StopSignals, info: distributed.Dist) -> bool:
    """Whether any rank was asked to stop (all ranks then stop after the same step)."""
    return distributed.any_rank(stop.requested is not None, info)


def _stopped(stop: StopSignals, info: distributed.Dist, run_dir: Path, step: int,
             config: TrainConfig, saved: bool) -> None:
    distributed.shutdown(info)
    why = stop.requested or "a signal to another process of this job"
    kept = (f"training state {state_path(run_dir, step)} written" if saved
            else "no step was taken, nothing new to save")
    raise Interrupted(f"{run_dir}: stopped by {why} at step {step} of {config.max_steps} "
                      f"({kept}); run the same command again to resume")


class StateSaver:
    """Writes a run's EMA checkpoints and training states (rank 0; the others wait)."""

    def __init__(self, config: TrainConfig, info: distributed.Dist, model: torch.nn.Module,
                 ema: EMA, opt: torch.optim.Optimizer, log: LossLog | None) -> None:
        self.config, self.info, self.model, self.ema, self.opt, self.log = (
            config, info, model, ema, opt, log)

    def at_save_points(self, iteration: int, compiled_steps: int | None) -> bool:
        """EMA checkpoints at evaluation iterations; a training state there, every
        save_every steps and at the end. Returns whether a state was written."""
        config = self.config
        is_eval = iteration in config.eval_iterations
        if not (is_eval or iteration % config.save_every == 0 or iteration == config.max_steps):
            return False
        if is_eval and self.info.is_main:
            for rate in self.ema.rates:
                save_checkpoint(ema_checkpoint_path(config.run_dir, rate, iteration),
                                self.ema.state_dict(self.model, rate), config.model_config(),
                                config.diffusion_config(), step=iteration,
                                ema_rate=float(rate), compiled_steps=compiled_steps)
        self.save(iteration, compiled_steps)
        return True

    def save(self, iteration: int, compiled_steps: int | None) -> None:
        """The training state after `iteration` steps."""
        if self.info.is_main:
            save_state(self.config.run_dir, iteration, {
                "model": self.model.state_dict(), "ema": self.ema.to_state(),
                "optimizer": self.opt.state_dict(), "rng": capture_rng(),
                "data": {"next_step": iteration}, "options": self.config.options(),
                "compiled_steps": compiled_steps,
                "log_window": None if self.log is None else self.log.window(),
            })
        distributed.barrier(self.info)


def _save_initial(config: TrainConfig) -> None:
    """The EMA checkpoints of iteration 0 that are missing, from the seed alone (the weights
    every run of this seed starts from), whatever state the run is in."""
    missing = [r for r in config.ema_rates()
               if not ema_checkpoint_path(config.run_dir, r, 0).exists()]
    if 0 not in config.eval_iterations or not missing:
        return
    torch.manual_seed(seeds.derive_seed(config.seed, seeds.INIT))
    model = create_model(**config.model_config())
    for rate in missing:
        save_checkpoint(ema_checkpoint_path(config.run_dir, rate, 0), model.state_dict(),
                        config.model_config(), config.diffusion_config(), step=0,
                        ema_rate=float(rate), compiled_steps=0)
