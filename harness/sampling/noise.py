"""Per-sample randomness: sample i draws its label, x_T and every step's noise from its own
generator, seeded from (seed, i), so it is the same whatever batch, GPU count or restart
produced it (on the same kind of device: CPU and CUDA generators are different streams;
drawing on the device keeps the noise off the CPU's critical path at paper scale)."""

from __future__ import annotations

import torch

from harness.runtime import seeds


class PerSampleNoise:
    """Generators for samples `indices`; draws happen in a fixed order per sample:
    label (class-conditional only), then x_T, then the noise of each sampler step."""

    def __init__(self, seed: int, indices: range | list[int],
                 device: str | torch.device = "cpu") -> None:
        self.device = torch.device(device)
        self.generators = []
        for i in indices:
            g = torch.Generator(device=self.device)
            g.manual_seed(seeds.derive_seed(seed, seeds.SAMPLE, int(i)))
            self.generators.append(g)

    def labels(self, num_classes: int) -> torch.Tensor:
        """One uniform class label per sample (int64, on the device)."""
        return torch.cat([torch.randint(0, num_classes, (1,), generator=g, device=self.device)
                          for g in self.generators])

    def normal(self, shape: tuple[int, ...]) -> torch.Tensor:
        """A standard normal batch of `shape` (shape[0] == number of samples), float32."""
        if shape[0] != len(self.generators):
            raise ValueError(f"batch of {shape[0]} asked for {len(self.generators)} samples")
        return torch.stack([torch.randn(shape[1:], generator=g, device=self.device)
                            for g in self.generators])

    def step_noise(self, step: int, shape: tuple[int, ...]) -> torch.Tensor:
        """The diffusion's `step_noise(t, shape)` hook."""
        return self.normal(shape)
