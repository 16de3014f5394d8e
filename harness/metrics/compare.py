"""`harness fid A B`: FID, KID and colour shift between two sets, each given as a folder, a
zip, a samples npz or a statistics file (`harness refstats` output or clean-fid's)."""

from __future__ import annotations

import os
import time

from harness.metrics.distances import (
    DEFAULT_KID_SUBSETS,
    color_shift,
    fid_from_stats,
    kid_from_features,
)
from harness.metrics.features import DEFAULT_MAX_KEPT, extract_stats
from harness.metrics.images import is_stats_file, open_images
from harness.metrics.inception import InceptionFeatures, check_mode
from harness.metrics.refstats import (
    RefStats,
    check_compatible,
    load_stats,
    resolution_of,
)
from harness.metrics.weights import InceptionWeights
from harness.runtime import library_version, resolve_device


def measure(path: str | os.PathLike, extractor: InceptionFeatures, *, batch_size: int = 64,
            max_kept: int = DEFAULT_MAX_KEPT, progress: bool = True) -> RefStats:
    """Statistics of an image set (or the content of a statistics file)."""
    if is_stats_file(path):
        return load_stats(path)
    stats = extract_stats(open_images(path), extractor, batch_size=batch_size,
                          max_kept=max_kept, progress=progress, desc=os.path.basename(path))
    meta = {"count": stats.count, "resolution": resolution_of(stats.resolution),
            "mode": extractor.mode, "inception_sha256": extractor.weights.sha256}
    return RefStats(str(path), stats.mu, stats.sigma, stats.features, stats.rgb_mu,
                    stats.rgb_sigma, meta)


def compare(
    a: str | os.PathLike,
    b: str | os.PathLike,
    weights: InceptionWeights,
    *,
    mode: str = "clean",
    batch_size: int = 64,
    device: str = "auto",
    kid_subset_size: int = 1000,
    kid_num_subsets: int = DEFAULT_KID_SUBSETS,
    seed: int = 0,
    fid_impl: str = "clean-fid",
    progress: bool = True,
) -> dict:
    """FID/KID/colour shift of A against B (KID: clean-fid's `kernel_distance(A, B)`)."""
    start = time.perf_counter()
    check_mode(mode)
    dev = resolve_device(device)
    extractor = InceptionFeatures(weights, mode, dev)
    sa = measure(a, extractor, batch_size=batch_size, progress=progress)
    sb = measure(b, extractor, batch_size=batch_size, progress=progress)
    for this, other in ((sa, sb), (sb, sa)):
        check_compatible(this, resolution=other.meta.get("resolution"), mode=mode,
                         inception_sha256=weights.sha256)
    result = {
        "fid": fid_from_stats(sa.mu, sa.sigma, sb.mu, sb.sigma, impl=fid_impl),
        "fid_impl": fid_impl,
        "kid": None, "kid_std": None,
        "inception_sha256": weights.sha256,
        "inception_weights": weights.path,
        "inception_weights_source": weights.source,
        "mode": mode,
        "fid_library": "clean-fid",
        "fid_library_version": library_version("clean-fid"),
        "a": {"path": str(a), "count": sa.meta.get("count"),
              "resolution": sa.meta.get("resolution")},
        "b": {"path": str(b), "count": sb.meta.get("count"),
              "resolution": sb.meta.get("resolution")},
        "kid_note": None,
        "color_shift": None,
    }
    if sa.features is not None and sb.features is not None:
        kid = kid_from_features(sa.features, sb.features, subset_size=kid_subset_size,
                                num_subsets=kid_num_subsets, seed=seed)
        result.update(kid=kid["kid"], kid_std=kid["kid_std"], kid_subset_size=kid["subset_size"],
                      kid_num_subsets=kid["num_subsets"], kid_seed=kid["seed"])
    else:
        result["kid_note"] = "not available: a statistics file without features"
    if all(s.rgb_mu is not None and s.rgb_sigma is not None for s in (sa, sb)):
        result["color_shift"] = color_shift(sa.rgb_mu, sa.rgb_sigma, sb.rgb_mu, sb.rgb_sigma)
    result["device"] = str(dev)
    result["wall_time_s"] = round(time.perf_counter() - start, 3)
    return result
