"""`harness train` as a library call: `train(TrainConfig(...))` -> status dict.

The pieces live in harness.training (config, batches, ema, state, log, loop).
"""

from harness.training.config import TrainConfig
from harness.training.loop import ema_checkpoint_path, train
from harness.training.status import diverged_message, read_status

__all__ = ["TrainConfig", "diverged_message", "ema_checkpoint_path", "read_status", "train"]
