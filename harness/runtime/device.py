"""Choosing the torch device from a user's string (auto, cpu, cuda, cuda:N), and telling why
CUDA cannot be used here when it was asked for."""

from __future__ import annotations

import os
import socket
import warnings

import torch

from harness.errors import CudaUnavailableError


def cuda_problem(indices: range | list[int] = range(1)) -> str | None:
    """Why the CUDA devices `indices` (of those visible) are not usable here (one line), or None.

    Usable means what a job needs: torch built with CUDA, a driver that initialises, the
    devices visible, and a tensor that can be put on each (a device that is broken, or busy
    in exclusive mode, fails there). Only those devices get a CUDA context.
    """
    if torch.version.cuda is None:
        return f"this torch ({torch.__version__}) is built without CUDA"
    with warnings.catch_warnings(record=True) as caught:  # the driver's reason, if it says one
        warnings.simplefilter("always")
        available = torch.cuda.is_available()
    if not available:
        said = " ".join(str(caught[0].message).split())[:200] if caught else ""
        return f"torch.cuda.is_available() is False{': ' + said if said else ''}"
    count = torch.cuda.device_count()
    if max(indices, default=-1) >= count:
        return f"device {max(indices)} asked for, {count} visible"
    for index in indices:
        try:
            torch.zeros(1, device=torch.device("cuda", index)).add_(1).cpu()
        except RuntimeError as err:
            return f"device {index} does not work: {' '.join(str(err).split())[:200]}"
    return None


def no_cuda_message(problem: str) -> str:
    """The one line that says which host lacks CUDA, as which devices, and why."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    return (f"no usable CUDA device on host {socket.gethostname()} (CUDA_VISIBLE_DEVICES="
            f"{'unset' if visible is None else repr(visible)}): {problem}; a job that asks for "
            "a GPU does not fall back to the CPU")


def resolve_device(device: str | torch.device = "auto", local_rank: int = 0) -> torch.device:
    """'auto' -> CUDA when present, else CPU; plain 'cuda' -> this process's GPU (`local_rank`).

    Asking for CUDA where it is not usable is a CudaUnavailableError naming the host and
    CUDA_VISIBLE_DEVICES; an unknown device is a ValueError naming the value.
    """
    device = str(device)
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if not (device == "cpu" or device == "cuda" or device.startswith("cuda:")):
        raise ValueError(f"unknown device {device!r}; choose auto, cpu, cuda or cuda:N")
    if device == "cpu":
        return torch.device("cpu")
    index = device.removeprefix("cuda").removeprefix(":") or str(local_rank)
    if not index.isdigit():
        raise ValueError(f"unknown device {device!r}; choose auto, cpu, cuda or cuda:N")
    problem = cuda_problem([int(index)])
    if problem is not None:
        raise CudaUnavailableError(no_cuda_message(problem))
    return torch.device("cuda", int(index))
