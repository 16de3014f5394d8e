"""`harness sample` as a library call: N samples from an EMA checkpoint into one npz.

Sampler conventions follow ADM's image_sample.py: `ddpm` is ancestral sampling
(`p_sample_loop`, learned variance when the model has it) on `timestep_respacing=str(steps)`;
`ddim` is `ddim_sample_loop(eta)` on `timestep_respacing=f"ddim{steps}"` (ADM's README:
`--timestep_respacing ddim25 --use_ddim True`); `clip_denoised=True`.
Output: `arr_0` uint8 NHWC, `arr_1` int64 labels (class-conditional), `meta` (JSON string;
`wall_time_s` is the sum of the batches' sampling times over restarts and processes).
Under torchrun, the batches still to do are dealt round-robin to the ranks; rank 0 merges.
`execution` (harness.runtime.Execution) says how the UNet runs; `meta["execution"]` records it
(with `compiled`: whether torch.compile was in fact used) and `meta["training_execution"]` the
training run's own options, from its config.json, with `compiled_steps` (how many of the
checkpoint's steps ran compiled) from the checkpoint. Precision, TF32 and determinism are part
of the request that chunks are kept for; compile and memory format are not (same numbers within
float32 rounding). SIGTERM/SIGUSR1 stop sampling at the next network call: the batch in
progress is dropped (at 1000 steps one batch can take minutes, longer than a scheduler waits),
every finished chunk stays, harness.errors.Interrupted is raised, and a rerun draws only what
is missing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from harness.checkpoint import load_model
from harness.diffusion import create_diffusion
from harness.errors import Interrupted
from harness.inputs import check_number, check_output_path, read_json
from harness.runtime import (
    Execution,
    Network,
    distributed,
    numerics,
    output_lock,
    write_npz_atomic,
)
from harness.runtime.execution import NUMERIC_FIELDS, memory_format
from harness.runtime.stop import StopSignals
from harness.sampling.chunks import ChunkStore, batches_of
from harness.sampling.images import save_grid, save_message, to_uint8
from harness.sampling.noise import PerSampleNoise
from harness.shards import shard_ranges
from harness.training.status import no_weights_reason

SAMPLERS = ("ddpm", "ddim")
QUANTISATION = "((x + 1) * 127.5).round().clamp(0, 255).to(uint8)"


@dataclasses.dataclass(frozen=True)
class SampleRequest:
    checkpoint: str
    sampler: str
    steps: int
    num_samples: int
    batch_size: int
    seed: int
    out: str
    grid: str | None  # None: no preview (a shard's job; the merge draws the cell's grid)
    eta: float = 0.0
    device: str = "auto"
    expect_diffusion: dict | None = None  # e.g. {"target": "eps", "learn_sigma": True}
    model_config: dict | None = None  # for plain ADM checkpoints that carry no config
    diffusion_config: dict | None = None
    progress: bool = True
    execution: Execution = Execution()
    shard: tuple[int, int] | None = None  # (K, S): draw only shard K of S (harness.shards)

    def __post_init__(self) -> None:
        if self.sampler not in SAMPLERS:
            raise ValueError(f"sampler '{self.sampler}' is not one of {', '.join(SAMPLERS)}")
        if self.steps < 2:
            raise ValueError(f"steps must be >= 2 (a respaced ADM diffusion needs two "
                             f"timesteps), got {self.steps}")
        for name in ("num_samples", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        check_number("seed", self.seed, integer=True, minimum=0)
        # eta > 1 can ask DDIM for more noise than x_{t-1} has (a square root of a negative).
        check_number("eta", self.eta, minimum=0, maximum=1)
        if self.shard is not None:
            index, count = self.shard
            if not 0 <= index < count:
                raise ValueError(f"shard {index}/{count}: K/S needs 0 <= K < S")
            shard_ranges(self.num_samples, self.batch_size, count)

    @property
    def samples(self) -> range:
        """The sample indices this request draws: all, or its shard's."""
        if self.shard is None:
            return range(self.num_samples)
        index, count = self.shard
        return shard_ranges(self.num_samples, self.batch_size, count)[index]

    def shard_meta(self) -> dict:
        """meta["shard"] of a shard's file ({} unsharded): which part of the cell it holds."""
        if self.shard is None:
            return {}
        part = self.samples
        return {"shard": {"index": self.shard[0], "count": self.shard[1], "start": part.start,
                          "stop": part.stop}}


def respacing(sampler: str, steps: int) -> str:
    """ADM's timestep_respacing string for `steps` sampling steps."""
    return f"ddim{steps}" if sampler == "ddim" else str(steps)


def _sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_samples(out: str | Path, images: np.ndarray, labels: np.ndarray | None,
                  meta: dict) -> None:
    """The samples file: ADM's npz (arr_0 images, arr_1 labels) and `meta` as JSON."""
    arrays = {"arr_0": images}
    if labels is not None:
        arrays["arr_1"] = labels.astype(np.int64)
    arrays["meta"] = np.array(json.dumps(meta, sort_keys=True))
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    write_npz_atomic(out, **arrays)


def _diverged(req: SampleRequest, message: str) -> dict:
    """An npz with 0 images and the run's status, and a grid that says so."""
    config_path = Path(req.checkpoint).parent / "config.json"
    model_config = diffusion_config = None
    if config_path.exists():
        recorded = read_json(config_path, "run config")
        model_config, diffusion_config = recorded.get("model_config"), recorded.get(
            "diffusion_config")
    size = (model_config or {}).get("image_size", 0)
    meta = {"checkpoint": str(req.checkpoint), "iteration": None, "ema_rate": None,
            "sampler": req.sampler, "steps": req.steps, "eta": req.eta, "seed": req.seed,
            "num_samples": 0, "status": message, "model_config": model_config,
            "diffusion_config": diffusion_config, "wall_time_s": 0.0, "device": None,
            **req.shard_meta()}
    labels = (np.zeros(0, np.int64) if (model_config or {}).get("class_cond") else None)
    write_samples(req.out, np.zeros((0, size, size, 3), np.uint8), labels, meta)
    if req.grid:
        save_message(req.grid, message)
    return meta


def training_execution(checkpoint: str | Path, meta: dict) -> dict | None:
    """How the checkpoint's run trained (its config.json's execution options), if recorded,
    with how many of its steps ran compiled (the checkpoint's `meta`; None: not recorded)."""
    path = Path(checkpoint).parent / "config.json"
    if not path.exists():
        return None
    options = read_json(path, "run config").get("options", {})
    names = (*Execution.__dataclass_fields__, "fused_optimizer")
    return {**{k: options[k] for k in names if k in options},
            "steps": meta.get("step"), "compiled_steps": meta.get("compiled_steps")}


def sample(req: SampleRequest) -> dict:
    """Sample (or finish sampling) `req.num_samples` images; returns the meta dict.

    The process of rank 0 holds the output's lock throughout: a second `harness sample` to the
    same output is refused, naming the holder. SIGTERM/SIGUSR1 stop it at the next network
    call, with every finished chunk kept (raises Interrupted)."""
    check_output_path(req.out, "samples output")
    if req.grid:
        check_output_path(req.grid, "grid output")
    with StopSignals() as stop, numerics(req.execution):  # numerics: before CUDA starts
        if distributed.launched_rank() != 0:
            return _sample(req, stop)
        with output_lock(req.out, "sampling output"):
            return _sample(req, stop)


def _stopped(req: SampleRequest, stop: StopSignals, store: ChunkStore) -> None:
    done = req.num_samples - len(store.missing(req.num_samples))
    raise Interrupted(f"{req.out}: stopped by {stop.requested} with {done} of "
                      f"{req.num_samples} samples drawn (kept in {store.dir}); run the same "
                      "command again to draw the rest")


def _sample(req: SampleRequest, stop: StopSignals) -> dict:
    message = no_weights_reason(req.checkpoint)
    if message is not None:
        if distributed.launched_rank() != 0:
            return {"status": message, "num_samples": 0}
        return _diverged(req, message)
    if not Path(req.checkpoint).exists():
        raise FileNotFoundError(f"checkpoint '{req.checkpoint}' does not exist")
    info, device = distributed.init(req.device)  # torchrun: batches split over ranks
    expect = {k: v for k, v in (req.diffusion_config or {}).items()
              if k != "timestep_respacing"}
    expect.update(req.expect_diffusion or {})
    model, ckpt = load_model(req.checkpoint, model_config=req.model_config,
                             expect_diffusion=expect or None, device=str(device))
    model.eval()
    network = Network(memory_format(model, req.execution), req.execution, device,
                      static_batch=(min(req.batch_size, req.num_samples)
                                    if req.execution.compile else None))
    model_config = ckpt.model_config or req.model_config
    base = ckpt.diffusion_config or req.diffusion_config
    if base is None:
        raise ValueError(f"checkpoint '{req.checkpoint}' carries no diffusion config; pass "
                         "one (e.g. --config RUN/config.json)")
    diffusion_config = {**base, "timestep_respacing": respacing(req.sampler, req.steps)}
    diffusion = create_diffusion(**diffusion_config)
    size = model_config["image_size"]
    num_classes = model_config["num_classes"] if model_config.get("class_cond") else None

    checkpoint_sha256 = _sha256(req.checkpoint)
    request = {"checkpoint_sha256": checkpoint_sha256, "sampler": req.sampler,
               "steps": req.steps, "eta": req.eta, "seed": req.seed,
               "num_samples": req.num_samples,
               "device_type": device.type,  # CPU and CUDA noise streams differ
               **{k: getattr(req.execution, k) for k in NUMERIC_FIELDS}}
    part = req.samples
    if req.shard is not None:  # an unsharded request keeps its old form: its chunks resume
        request["samples"] = [part.start, part.stop]
    if info.is_main:  # before the others look: may empty a stale folder, sets bad chunks aside
        ChunkStore(req.out, request).set_aside_unreadable()
    distributed.barrier(info)
    store = ChunkStore(req.out, request)
    todo = store.missing(part.stop, part.start)
    mine = batches_of(todo, req.batch_size)[info.rank::info.world_size]
    bar = tqdm(total=len(part), initial=len(part) - len(todo), unit="img",
               desc=f"sample {req.sampler}{req.steps}",
               disable=not (req.progress and info.is_main))
    for batch in mine:
        began = time.perf_counter()
        draws = PerSampleNoise(req.seed, batch, device)
        kwargs, labels = {}, None
        if num_classes is not None:
            labels = draws.labels(num_classes)
            kwargs["y"] = labels.to(device)
        shape = (len(batch), 3, size, size)
        x_T = draws.normal(shape).to(device)
        loop = (diffusion.ddim_sample_loop_progressive if req.sampler == "ddim"
                else diffusion.p_sample_loop_progressive)
        extra = {"eta": req.eta} if req.sampler == "ddim" else {}
        with torch.no_grad():
            for step in loop(network, shape, noise=x_T, clip_denoised=True,
                             model_kwargs=kwargs, step_noise=draws.step_noise, **extra):
                x = step["sample"]
                if stop.requested:  # a batch can take minutes: not worth the kill's risk
                    bar.close()
                    _stopped(req, stop, store)
        if not torch.isfinite(x).all():  # would quantise to black images reported as fine
            raise ValueError(f"samples {batch.start}..{batch.stop - 1} from checkpoint "
                             f"'{req.checkpoint}' are not finite (NaN/inf weights?)")
        store.write(batch.start, to_uint8(x), None if labels is None else labels.cpu().numpy(),
                    time.perf_counter() - began, str(device))
        bar.update(len(batch))
    bar.close()
    distributed.barrier(info)
    if not info.is_main:
        distributed.shutdown(info)
        return {"status": "ok", "num_samples": sum(len(b) for b in mine), "rank": info.rank}

    images, labels, wall, devices = store.merge(part.stop, part.start)
    stored = ckpt.meta or {}
    meta = {"checkpoint": str(req.checkpoint), "iteration": stored.get("step"),
            "ema_rate": stored.get("ema_rate"), "sampler": req.sampler,
            "steps": req.steps, "eta": req.eta, "seed": req.seed,
            "num_samples": req.num_samples, "status": "ok", "model_config": model_config,
            "diffusion_config": diffusion_config, "wall_time_s": round(wall, 3),
            "ranks": info.world_size,
            "device": ",".join(devices), "quantisation": QUANTISATION,
            "checkpoint_sha256": checkpoint_sha256,
            "execution": {**req.execution.as_dict(), "compiled": network.compiled},
            "training_execution": training_execution(req.checkpoint, stored),
            **req.shard_meta()}
    write_samples(req.out, images, labels, meta)
    if req.grid:
        save_grid(images, req.grid)
    store.remove()
    distributed.shutdown(info)
    return meta

