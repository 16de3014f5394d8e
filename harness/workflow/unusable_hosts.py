"""Hosts on which a GPU job found no usable CUDA device, so that later SLURM jobs avoid them.

A job of a GPU stage that lands on a node with a broken driver (or without GPUs) fails at once
(`harness on-gpus --require-cuda`), and Snakemake resubmits it; without a record SLURM may well
place it on the same node again, attempt after attempt. So the failing job first writes
`FOLDER/NODE` (its one-line reason), and the GPU stages' `slurm_extra` resource, which
Snakemake evaluates again for every attempt, turns the folder into `sbatch --exclude=NODE,...`.
A node stays excluded until its file is deleted (once the node is repaired).
"""

from __future__ import annotations

import os
import re
import socket
import time
from pathlib import Path

_NODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def node_name() -> str:
    """This machine's name as SLURM knows it (SLURMD_NODENAME, set by slurmd in every job),
    else its host name."""
    return os.environ.get("SLURMD_NODENAME") or socket.gethostname()


def record_unusable_host(folder: str | Path, reason: str) -> Path:
    """Write `folder/NODE` (this node) with `reason`; returns the file."""
    path = Path(folder) / node_name()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {reason}\n")
    return path


def unusable_hosts(folder: str | Path) -> list[str]:
    """The nodes recorded in `folder` (none when it does not exist), sorted."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(name for name in os.listdir(folder) if _NODE.match(name))


def exclude_option(folder: str | Path) -> str:
    """`--exclude=NODE,...` for sbatch, or "" when no node is recorded."""
    hosts = unusable_hosts(folder)
    return f"--exclude={','.join(hosts)}" if hosts else ""
