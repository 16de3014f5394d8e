"""Which images, flips, timesteps and noise step `s` uses: a pure function of (seed, rank, s).

Each rank owns the shard `rank::world_size` of the dataset (ADM shards the same way) and walks
through it in epochs without replacement, each epoch in its own random order, `per_rank_batch`
images a step, dropping the incomplete last batch (ADM's loader: shuffle, drop_last). Because
step `s` is computed from its address rather than from an iterator's history, a resumed run
reads exactly the batches the uninterrupted run would have read. `StepData` bundles a step's
images with its timesteps and noise, so that loader workers make all of it ahead of the GPU.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Dataset, Sampler, default_collate

from harness.runtime import seeds


class StepBatches(Sampler):
    """Batch sampler yielding, for steps `start..stop-1`, lists of `(index, flip)` items."""

    def __init__(self, dataset_len: int, per_rank_batch: int, seed: int, rank: int = 0,
                 world_size: int = 1, random_flip: bool = True, start: int = 0,
                 stop: int = 0) -> None:
        self.shard = torch.arange(rank, dataset_len, world_size)
        self.batch = per_rank_batch
        self.steps_per_epoch = len(self.shard) // per_rank_batch
        if self.steps_per_epoch < 1:
            raise ValueError(
                f"the data has {dataset_len} images, {len(self.shard)} per process, fewer than "
                f"the per-process batch size {per_rank_batch}; use a smaller --batch-size"
            )
        self.seed, self.rank, self.random_flip = int(seed), int(rank), random_flip
        self.start, self.stop = int(start), int(stop)
        self._epoch: tuple[int, torch.Tensor] | None = None

    def __len__(self) -> int:
        return max(0, self.stop - self.start)

    def _order(self, epoch: int) -> torch.Tensor:
        if self._epoch is None or self._epoch[0] != epoch:
            g = seeds.generator(self.seed, seeds.DATA_ORDER, self.rank, epoch)
            self._epoch = (epoch, self.shard[torch.randperm(len(self.shard), generator=g)])
        return self._epoch[1]

    def items(self, step: int) -> list[tuple[int, bool]]:
        """The `(dataset index, flip)` pairs of step `step` (0-based) on this rank."""
        epoch, k = divmod(int(step), self.steps_per_epoch)
        indices = self._order(epoch)[k * self.batch:(k + 1) * self.batch].tolist()
        if self.random_flip:
            g = seeds.generator(self.seed, seeds.FLIPS, self.rank, step)
            flips = (torch.rand(self.batch, generator=g) < 0.5).tolist()
        else:
            flips = [False] * self.batch
        return list(zip(indices, flips, strict=True))

    def __iter__(self) -> Iterator[list[tuple[int, bool]]]:
        for step in range(self.start, self.stop):
            yield self.items(step)


def step_draws(seed: int, rank: int, step: int, shape: tuple[int, ...], num_timesteps: int,
               density: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Timesteps and Gaussian noise of step `step` on CPU: t uniform (ADM's UniformSampler),
    or drawn from `density` (probabilities over the timesteps, a user weighting's)."""
    g = seeds.generator(seed, seeds.STEP_NOISE, rank, step)
    if density is None:
        t = torch.randint(0, num_timesteps, (shape[0],), generator=g)
    else:
        t = torch.multinomial(density, shape[0], replacement=True, generator=g)
    noise = torch.randn(shape, generator=g)
    return t, noise


class StepData(Dataset):
    """Item `s` is everything step `s` consumes: (images, model kwargs, timesteps, noise).

    Used with `DataLoader(..., batch_size=None, sampler=range(start, stop))`: each loader
    worker decodes a whole step and draws its noise (12.6M normals at batch 64 and 256 px,
    too slow to draw on the training loop's critical path).
    """

    def __init__(self, images: Dataset, batches: StepBatches, num_timesteps: int,
                 density: torch.Tensor | None = None) -> None:
        self.images, self.batches, self.num_timesteps = images, batches, num_timesteps
        self.density = density

    def __len__(self) -> int:
        return self.batches.stop

    def __getitem__(self, step: int) -> tuple[torch.Tensor, dict, torch.Tensor, torch.Tensor]:
        x, kwargs = default_collate([self.images[item] for item in self.batches.items(step)])
        t, noise = step_draws(self.batches.seed, self.batches.rank, step, tuple(x.shape),
                              self.num_timesteps, self.density)
        return x, kwargs, t, noise
