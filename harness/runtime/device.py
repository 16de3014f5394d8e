"""Choosing the torch device from a user's string (auto, cpu, cuda, cuda:N)."""

from __future__ import annotations

import torch


def resolve_device(device: str | torch.device = "auto", local_rank: int = 0) -> torch.device:
    """'auto' -> CUDA when present, else CPU; plain 'cuda' -> this process's GPU (`local_rank`).

    Asking for CUDA without one, or for an unknown device, is a ValueError naming the value.
    """
    device = str(device)
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for, but CUDA is not available; use cpu/auto")
    if not (device == "cpu" or device == "cuda" or device.startswith("cuda:")):
        raise ValueError(f"unknown device {device!r}; choose auto, cpu, cuda or cuda:N")
    if device == "cuda":
        return torch.device("cuda", local_rank)
    return torch.device(device)
