"""Seeds derived from tuples of integers, so that every random draw has its own address.

Training draws the batch of step `s` on rank `r` from `derive_seed(seed, PURPOSE, r, s)`
and sampling draws sample `i` from `derive_seed(seed, PURPOSE, i)`. Nothing depends on
how many steps or samples came before in the same process, so interrupted and resumed
runs, other batch sizes and other GPU counts see exactly the same numbers.
"""

from __future__ import annotations

import numpy as np
import torch

# Purposes keep the streams of one seed apart (e.g. data order vs. noise of the same step).
DATA_ORDER = 0
FLIPS = 1
STEP_NOISE = 2
DROPOUT = 3
SAMPLE = 4
INIT = 5


def derive_seed(*parts: int) -> int:
    """A 63-bit seed that is a hash of the non-negative integers `parts` (NumPy SeedSequence)."""
    if any(int(p) < 0 for p in parts):
        raise ValueError(f"seed parts must be non-negative integers, got {parts}")
    words = np.random.SeedSequence([int(p) for p in parts]).generate_state(2, dtype=np.uint32)
    return ((int(words[0]) & 0x7FFFFFFF) << 32) | int(words[1])


def generator(*parts: int) -> torch.Generator:
    """A CPU torch.Generator seeded with `derive_seed(*parts)`."""
    g = torch.Generator(device="cpu")
    g.manual_seed(derive_seed(*parts))
    return g
