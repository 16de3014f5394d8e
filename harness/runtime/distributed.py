"""Data-parallel training inside one job: torchrun's environment, rank 0 writes.

`harness train` launched by `torchrun --nproc_per_node K` sees torchrun's standard variables
(WORLD_SIZE, RANK, LOCAL_RANK); with WORLD_SIZE > 1 it joins the process group (NCCL on
CUDA, Gloo on CPU) and wraps the model in DistributedDataParallel. These variables are the
launcher's interface, not configuration of ours.
"""

from __future__ import annotations

import dataclasses
import os

import torch
import torch.distributed as dist

from harness.runtime.device import resolve_device


@dataclasses.dataclass(frozen=True)
class Dist:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def launched_world_size() -> int:
    """How many processes torchrun started for this job (1 when run directly)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def launched_rank() -> int:
    """This process's rank in a torchrun job (0 when run directly)."""
    return int(os.environ.get("RANK", "0"))


def init(device: str) -> tuple[Dist, torch.device]:
    """Join the process group when launched by torchrun; returns (Dist, this rank's device)."""
    world = launched_world_size()
    if world <= 1:
        return Dist(), resolve_device(device)
    info = Dist(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")))
    dev = resolve_device(device, info.local_rank)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    return info, dev


def all_mean(value: torch.Tensor, info: Dist) -> torch.Tensor:
    """Mean over ranks (a NaN on any rank makes every rank see NaN)."""
    if not info.enabled:
        return value
    value = value.detach().clone()
    dist.all_reduce(value)
    return value / info.world_size


def any_rank(flag: bool, info: Dist) -> bool:
    """Whether `flag` is true on any rank (every rank gets the same answer)."""
    if not info.enabled:
        return flag
    value = torch.tensor([float(flag)], device="cuda" if dist.get_backend() == "nccl" else "cpu")
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def barrier(info: Dist) -> None:
    if info.enabled:
        dist.barrier()


def shutdown(info: Dist) -> None:
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()
