"""What training, sampling and evaluation share about a run: the device, the processes of a
torchrun job, how the network is executed, seeds, locks, atomic file writes, provenance, and
stopping early on a scheduler's signal (harness.runtime.stop)."""

from harness.runtime import distributed, seeds
from harness.runtime.device import resolve_device
from harness.runtime.distributed import Dist
from harness.runtime.execution import Execution, Network, numerics
from harness.runtime.files import (
    atomic_target,
    remove_stale_temporaries,
    save_torch_atomic,
    temporary_path,
    write_bytes_atomic,
    write_json_atomic,
    write_npz_atomic,
    write_text_atomic,
)
from harness.runtime.lock import LockedError, RunLock, output_lock
from harness.runtime.provenance import code_commit, device_name, host, library_version

__all__ = [
    "Dist",
    "Execution",
    "LockedError",
    "Network",
    "RunLock",
    "atomic_target",
    "code_commit",
    "device_name",
    "distributed",
    "host",
    "library_version",
    "numerics",
    "output_lock",
    "remove_stale_temporaries",
    "resolve_device",
    "save_torch_atomic",
    "seeds",
    "temporary_path",
    "write_bytes_atomic",
    "write_json_atomic",
    "write_npz_atomic",
    "write_text_atomic",
]
