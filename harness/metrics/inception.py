"""The FID Inception network as the callable clean-fid expects (`custom_feat_extractor`).

clean-fid hands its feature extractor a float32 batch (N, 3, H, W) with values in [0, 255]:
in "clean" mode already resized to 299 x 299 by its PIL bicubic float resizer (values not
quantised), in "legacy_tensorflow" mode at the images' own size (the network resizes inside,
with the bilinear grid-sample resize of NVIDIA's TorchScript). It expects (N, 2048) back.
Both weight files hold the same layers; they differ only in where the resize lives.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import torch
import torch.nn.functional as F

from harness.metrics.weights import InceptionWeights, check_weights

MODES = ("clean", "legacy_tensorflow")
INPUT_SIZE = 299
FEATURE_DIM = 2048


def check_mode(mode: str) -> str:
    """Accept a supported clean-fid mode or raise naming the choices."""
    if mode not in MODES:
        raise ValueError(
            f"unsupported FID mode {mode!r}; choose one of {', '.join(MODES)} "
            "(legacy_pytorch needs pytorch-fid's own network, which cannot be had offline)"
        )
    return mode


@contextlib.contextmanager
def no_tf32() -> Iterator[None]:
    """TF32 off inside the block (restored after), so features match across GPU generations."""
    old = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


def grid_bilinear_resize(x: torch.Tensor, size: int = INPUT_SIZE) -> torch.Tensor:
    """Bilinear resize by an affine sampling grid with a half-pixel shift and border padding,
    the resize NVIDIA's TorchScript Inception applies inside (the "legacy_tensorflow" path)."""
    n, c, h, w = x.shape
    theta = torch.zeros(n, 2, 3, dtype=x.dtype, device=x.device)
    theta[:, 0, 0] = 1.0
    theta[:, 1, 1] = 1.0
    theta[:, 0, 2] = 1.0 / w - 1.0 / size
    theta[:, 1, 2] = 1.0 / h - 1.0 / size
    grid = F.affine_grid(theta, [n, c, size, size], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


class InceptionFeatures(torch.nn.Module):
    """Pool features (N, 2048) of a float [0, 255] batch, for one mode and weights file."""

    def __init__(self, weights: InceptionWeights, mode: str = "clean",
                 device: str | torch.device = "cpu") -> None:
        super().__init__()
        self.weights = weights
        self.mode = check_mode(mode)
        self.device = torch.device(device)
        check_weights(weights.path, weights.source)  # the file loaded is the file checked
        with warnings.catch_warnings():  # TorchScript is the format these weights ship in
            warnings.filterwarnings("ignore", message=".*torch.jit.load.*deprecated")
            module = torch.jit.load(weights.path, map_location="cpu").eval()
        # NVIDIA's module keeps the trunk in `.layers`; fid-helper's wrapper is the trunk.
        self.net = module.to(self.device)
        self.trunk = module.layers if weights.kind == "nvidia" else module

    @torch.inference_mode()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self.device, torch.float32)
        n = x.shape[0]
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"expected a batch (N, 3, H, W), got shape {tuple(x.shape)}")
        with no_tf32():
            if self.mode == "legacy_tensorflow" and self.weights.kind == "nvidia":
                return self.net(x, return_features=True).reshape(n, FEATURE_DIM)
            if self.mode == "legacy_tensorflow":
                x = grid_bilinear_resize(x)
            elif x.shape[2:] != (INPUT_SIZE, INPUT_SIZE):
                raise ValueError(
                    f"clean mode expects {INPUT_SIZE}x{INPUT_SIZE} input (clean-fid's resize), "
                    f"got {tuple(x.shape[2:])}"
                )
            # Same two steps as clean-fid's InceptionV3W: subtract 128, divide by 128.
            return self.trunk((x - 128) / 128).reshape(n, FEATURE_DIM)
