"""ADM training: `train(TrainConfig(...))` -> status dict.

Modules: config (options, rerun checks), batches (per-step data draws), ema, state (resumable
training states), log (log.csv), status (status.json), loop (the training loop).
"""

from harness.training.config import TrainConfig
from harness.training.loop import ema_checkpoint_path, train
from harness.training.status import diverged_message, no_weights_reason, read_status

__all__ = [
    "TrainConfig", "diverged_message", "ema_checkpoint_path", "no_weights_reason", "read_status",
    "train",
]
