"""Reference statistics of a dataset: computed once from its full prepared training set.

File (npz, written atomically): `mu` (2048,) and `sigma` (2048, 2048) float64 -- clean-fid's
names, so clean-fid can read them too --, `features` (k, 2048) float32 of a seeded subset of
at most 50k images for KID, `rgb_mu`/`rgb_sigma` of the per-image mean RGB (colour shift),
and `meta`, a 0-d string array of JSON: format, count, resolution, mode, Inception weights
and sha256, clean-fid version, the dataset manifest (`DIR.json` written by `harness prepare`:
its name, content sha256, resolution), batch size, device, wall time.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.inputs import check_output_path, npz_meta, read_npz
from harness.metrics.features import DEFAULT_MAX_KEPT, FeatureStats, extract_stats
from harness.metrics.images import open_images
from harness.metrics.inception import InceptionFeatures
from harness.metrics.weights import InceptionWeights
from harness.runtime import library_version, resolve_device, write_npz_atomic

FORMAT = "harness-refstats/1"


def resolution_of(size: tuple[int, int]) -> int | list[int]:
    """An int for square images (the usual case), else [H, W]."""
    return int(size[0]) if size[0] == size[1] else [int(size[0]), int(size[1])]


def read_dataset_manifest(data: str | os.PathLike) -> dict | None:
    """The manifest `harness prepare` wrote next to the data (DIR.json / NAME.json), if any."""
    from harness.data.manifest import read_manifest

    return read_manifest(data)


@dataclass
class RefStats:
    """A loaded reference-statistics file."""

    path: str
    mu: np.ndarray
    sigma: np.ndarray
    features: np.ndarray | None
    rgb_mu: np.ndarray | None
    rgb_sigma: np.ndarray | None
    meta: dict


def save_stats(path: str | os.PathLike, stats: FeatureStats, meta: dict) -> None:
    """Write stats + meta to `path` atomically (a temp file, then rename)."""
    write_npz_atomic(path, mu=stats.mu, sigma=stats.sigma, features=stats.features,
                     rgb_mu=stats.rgb_mu, rgb_sigma=stats.rgb_sigma,
                     meta=np.array(json.dumps(meta)))


def load_stats(path: str | os.PathLike) -> RefStats:
    """Read a statistics npz (ours, or clean-fid's custom stats with just mu and sigma)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"statistics file '{path}' does not exist")
    get = read_npz(path, "statistics file")
    if "mu" not in get or "sigma" not in get:
        raise ValueError(f"'{path}' is not a statistics file: it has no 'mu'/'sigma' "
                         f"(keys: {', '.join(get)})")
    meta = npz_meta(get, path, "statistics file")
    return RefStats(str(path), get["mu"], get["sigma"], get.get("features"),
                    get.get("rgb_mu"), get.get("rgb_sigma"), meta)


def check_compatible(ref: RefStats, *, resolution, mode: str, inception_sha256: str) -> None:
    """Refuse statistics made at another resolution, in another mode or by another network."""
    meta = ref.meta
    checks = [("resolution", resolution), ("mode", mode), ("inception_sha256", inception_sha256)]
    for key, ours in checks:
        theirs = meta.get(key)
        if theirs is None or ours is None:
            continue  # a foreign stats file (e.g. clean-fid's) does not say; accept it
        if theirs != ours:
            raise ValueError(
                f"statistics file '{ref.path}' was made with {key}={theirs!r}, but the images "
                f"compared with it have {key}={ours!r}; recompute it with `harness refstats` "
                f"for this {key}"
            )


def compute_refstats(
    data: str | os.PathLike,
    out: str | os.PathLike,
    weights: InceptionWeights,
    *,
    mode: str = "clean",
    batch_size: int = 64,
    device: str = "auto",
    max_kept: int = DEFAULT_MAX_KEPT,
    seed: int = 0,
    progress: bool = True,
) -> dict:
    """Statistics of every image of `data` (folder/zip/npz) -> `out`; returns the meta."""
    check_output_path(out, "statistics output")
    start = time.perf_counter()
    dev = resolve_device(device)
    images = open_images(data)
    extractor = InceptionFeatures(weights, mode, dev)
    stats = extract_stats(images, extractor, batch_size=batch_size, max_kept=max_kept,
                          keep_seed=seed, progress=progress, desc=f"refstats {Path(data).name}")
    manifest = read_dataset_manifest(data)
    resolution = resolution_of(stats.resolution)
    if manifest and manifest.get("resolution") not in (None, resolution):
        raise ValueError(f"'{data}': images are {resolution} px but its manifest says "
                         f"resolution {manifest['resolution']}")
    meta = {
        "format": FORMAT,
        "data": str(data),
        "count": stats.count,
        "resolution": resolution,
        "mode": mode,
        "inception_weights": weights.record(),
        "inception_sha256": weights.sha256,
        "fid_library": "clean-fid",
        "fid_library_version": library_version("clean-fid"),
        "kid_features": int(len(stats.features)),
        "kid_features_seed": seed,
        "dataset_manifest": manifest,
        "dataset": manifest.get("dataset") if manifest else None,
        "dataset_sha256": manifest.get("sha256") if manifest else None,
        "batch_size": batch_size,
        "device": str(dev),
        "wall_time_s": round(time.perf_counter() - start, 3),
    }
    save_stats(out, stats, meta)
    return meta
