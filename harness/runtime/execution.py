"""How the network is executed: precision, TF32, torch.compile, memory format, determinism.

None of these options changes the function a run computes; they change how it is rounded and
how fast it goes. They fall in two kinds (the rerun check of harness.training.config uses it):
- numerics, part of a run's identity: `precision` (bf16 autocast rounds activations to 8
  mantissa bits), `tf32` (10-bit matrix inputs), `deterministic` (a promise about the whole
  run: a run resumed without it would no longer be reproducible bitwise);
- schedule: `compile`, `compile_mode`, `channels_last`. They give the same results within
  float32 rounding (tests/test_execution.py checks a compiled step against the eager one) and
  depend on the machine (a resubmitted job may land where the compiler is missing).
  `compile_fallback` says what happens there: an error before any work (the default), or the
  eager path with one line on stderr; either way runs record whether they were compiled.

The fp32 eager path (all defaults) is the exact reference: no autocast, no TF32 in
convolutions or matrix products (PyTorch's default allows TF32 in cuDNN convolutions).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import sys
from collections.abc import Iterator

import torch
from torch import nn

PRECISIONS = ("fp32", "bf16")
COMPILE_MODES = ("default", "reduce-overhead")
NUMERIC_FIELDS = ("precision", "tf32", "deterministic")
# cuBLAS is deterministic only with a fixed workspace (NVIDIA's cuBLAS docs, "Results
# reproducibility"); it reads the variable when its handle is made, so it is set before.
CUBLAS_WORKSPACE = ":4096:8"
DETERMINISTIC_WORKSPACES = (":4096:8", ":16:8")


@dataclasses.dataclass(frozen=True)
class Execution:
    """How to run the UNet; the defaults are the exact fp32 eager reference."""

    precision: str = "fp32"
    tf32: bool = False
    compile: bool = False
    compile_mode: str = "default"
    channels_last: bool = False
    deterministic: bool = False
    compile_fallback: bool = False

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision '{self.precision}' is not one of {', '.join(PRECISIONS)}")
        if self.compile_mode not in COMPILE_MODES:
            raise ValueError(f"compile_mode '{self.compile_mode}' is not one of "
                             f"{', '.join(COMPILE_MODES)}")

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def label(self) -> str:
        """Short name, e.g. 'bf16+compile+channels_last' or 'fp32'."""
        parts = [self.precision + ("+tf32" if self.tf32 else "")]
        if self.compile:
            parts.append("compile" + ("-cudagraphs" if self.compile_mode == "reduce-overhead"
                                      else ""))
        if self.channels_last:
            parts.append("channels_last")
        if self.deterministic:
            parts.append("deterministic")
        return "+".join(parts)


@contextlib.contextmanager
def numerics(execution: Execution) -> Iterator[None]:
    """Set the process-wide backend switches `execution` asks for; restore them afterwards.

    TF32 (matmul and cuDNN) follows `tf32`. `deterministic` turns on
    torch.use_deterministic_algorithms (which also excludes SDPA's cuDNN attention backend and
    makes the flash and memory-efficient backwards deterministic, and puts Inductor in its
    deterministic mode), cuDNN's deterministic algorithms without benchmarking, and a fixed
    cuBLAS workspace.
    """
    cudnn, matmul = torch.backends.cudnn, torch.backends.cuda.matmul
    saved = (matmul.allow_tf32, cudnn.allow_tf32, cudnn.deterministic, cudnn.benchmark,
             torch.are_deterministic_algorithms_enabled(),
             torch.is_deterministic_algorithms_warn_only_enabled())
    if execution.deterministic:
        workspace = os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)
        if workspace not in DETERMINISTIC_WORKSPACES:
            raise ValueError(f"deterministic: CUBLAS_WORKSPACE_CONFIG is {workspace!r}; unset it "
                             f"or use one of {', '.join(DETERMINISTIC_WORKSPACES)}")
    matmul.allow_tf32 = cudnn.allow_tf32 = execution.tf32
    if execution.deterministic:
        cudnn.deterministic, cudnn.benchmark = True, False
        torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        (matmul.allow_tf32, cudnn.allow_tf32, cudnn.deterministic, cudnn.benchmark) = saved[:4]
        torch.use_deterministic_algorithms(saved[4], warn_only=saved[5])


@functools.cache
def compile_unavailable(device_type: str) -> str | None:
    """Why torch.compile cannot run on `device_type` here (a one-line reason), or None.

    Compiles and runs a two-operation function: that needs the same tool chain as the UNet
    (a C++ compiler on CPU, Triton on CUDA) at a cost of seconds.
    """
    def probe(x: torch.Tensor) -> torch.Tensor:
        return x * 2 + 1

    try:
        out = torch.compile(probe, dynamic=False)(torch.ones(8, device=device_type))
        if not torch.equal(out.cpu(), torch.full((8,), 3.0)):
            return "a compiled test function gave a wrong result"
    except Exception as err:  # noqa: BLE001 - any failure means: not available here
        first = (str(err).strip().splitlines() or [""])[0]
        return f"{type(err).__name__}: {first[:200]}"
    return None


def check_compile(execution: Execution, device_type: str) -> str | None:
    """Why torch.compile, asked for, does not work on `device_type` here when
    `compile_fallback` allows the eager path; None when it works or is not asked for.
    Without compile_fallback that case is a ValueError saying why (before any work)."""
    if not execution.compile:
        return None
    reason = compile_unavailable(device_type)
    if reason is not None and not execution.compile_fallback:
        raise ValueError(f"compile: torch.compile is unavailable on {device_type} here "
                         f"({reason}); fix the compiler tool chain (a C++ compiler on CPU, "
                         "Triton on CUDA), or allow running eager with --compile-fallback "
                         "(workflow: training.compile_fallback / sampling.compile_fallback)")
    return reason


class Network(nn.Module):
    """The UNet as the diffusion calls it: bf16 autocast around the network only (the output
    is returned in float32, so the diffusion's arithmetic stays fp32), optionally compiled and
    fed a fixed batch size (a short last batch is padded with copies of its last row and the
    padding dropped from the output) so that compiled code sees one shape only."""

    def __init__(self, model: nn.Module, execution: Execution, device: torch.device,
                 static_batch: int | None = None) -> None:
        super().__init__()
        self.model = model
        self.execution = execution
        self.device_type = device.type
        self.static_batch = static_batch
        fallback = check_compile(execution, device.type)
        if fallback is not None:
            print(f"compile: torch.compile is unavailable on {device.type} here ({fallback}); "
                  "running eager (compile_fallback)", file=sys.stderr)
        self.compiled = execution.compile and fallback is None
        self.call = (torch.compile(model, dynamic=False, mode=execution.compile_mode)
                     if self.compiled else model)
        self.cudagraphs = self.compiled and execution.compile_mode == "reduce-overhead"

    def forward(self, x: torch.Tensor, timesteps: torch.Tensor, **kwargs) -> torch.Tensor:
        n = x.shape[0]
        pad = (self.static_batch or n) - n
        if pad > 0:
            x, timesteps = _pad(x, pad), _pad(timesteps, pad)
            kwargs = {k: _pad(v, pad) if torch.is_tensor(v) else v for k, v in kwargs.items()}
        if self.execution.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        if self.cudagraphs:
            torch.compiler.cudagraph_mark_step_begin()
        with torch.autocast(self.device_type, dtype=torch.bfloat16,
                            enabled=self.execution.precision == "bf16"):
            out = self.call(x, timesteps, **kwargs)
        out = out[:n].float()
        # A CUDA graph's output buffer is overwritten by its next replay.
        return out.clone() if self.cudagraphs else out


def _pad(value: torch.Tensor, count: int) -> torch.Tensor:
    return torch.cat([value, value[-1:].expand(count, *value.shape[1:])])


def memory_format(model: nn.Module, execution: Execution) -> nn.Module:
    """The model in channels_last layout when asked (before optimizer, EMA and DDP see it)."""
    return model.to(memory_format=torch.channels_last) if execution.channels_last else model
