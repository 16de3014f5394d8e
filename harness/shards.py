"""A cell's samples split over several jobs ("shards"): contiguous ranges of sample indices
whose boundaries fall on the batches one job would draw, so that every shard draws exactly
the batches of an unsharded run and the merged samples are its bytes, whatever the device's
batch-size dependence. Pure and torch-free (the workflow plans with it)."""

from __future__ import annotations

__all__ = ["parse_shard", "shard_ranges"]


def shard_ranges(num_samples: int, batch_size: int, shards: int) -> list[range]:
    """`shards` contiguous ranges covering 0..num_samples-1, each a whole number of batches
    (the last may end on the short last batch), their sizes differing by one batch at most."""
    for name, value in (("num_samples", num_samples), ("batch_size", batch_size),
                        ("shards", shards)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    batches = -(-num_samples // batch_size)
    if shards > batches:
        raise ValueError(f"{shards} shards exceed the {batches} batches of {batch_size} in "
                         f"{num_samples} samples: a shard holds at least one batch")
    per, extra = divmod(batches, shards)
    out, start = [], 0
    for k in range(shards):
        stop = min(num_samples, start + (per + (k < extra)) * batch_size)
        out.append(range(start, stop))
        start = stop
    return out


def parse_shard(text: str) -> tuple[int, int]:
    """'K/S' -> (K, S): shard K (0-based) of S."""
    index, sep, count = text.partition("/")
    if not (sep and index.isdigit() and count.isdigit()) or not 0 <= int(index) < int(count):
        raise ValueError(f"shard '{text}' is not K/S with 0 <= K < S (e.g. 0/8)")
    return int(index), int(count)
