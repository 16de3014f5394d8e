"""`harness bench features`: Inception feature extraction, ours against clean-fid's own.

Both sides use the same network object (the resolved FID weights wrapped as clean-fid's
`custom_feat_extractor`), the same folder, mode, batch size and device; they differ in the
pipeline around the network: ours (`extract_stats`: thread-pool decoding/resizing one batch
ahead, streaming statistics) against `cleanfid.fid.get_folder_features` (a DataLoader with
`num_workers` processes, clean-fid's default 12). Runs alternate A B A B; img/s of the median.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from harness.bench import environment
from harness.metrics.features import extract_stats
from harness.metrics.images import open_images
from harness.metrics.inception import InceptionFeatures
from harness.metrics.weights import InceptionWeights
from harness.runtime import resolve_device

IMPLEMENTATIONS = ("ours", "clean-fid")


def make_folder(root: Path, count: int, size: int, seed: int = 0) -> Path:
    """`count` smooth random RGB PNGs of `size` px (low-frequency noise, bicubic upscaled)."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        small = rng.integers(0, 256, size=(4, 4, 3), dtype=np.uint8)
        Image.fromarray(small).resize((size, size), Image.BICUBIC).save(root / f"{i:05d}.png")
    return root


def run_once(impl: str, folder: Path, extractor: InceptionFeatures, *, batch_size: int,
             cleanfid_workers: int) -> float:
    """Seconds to extract features of every image of `folder` with one implementation."""
    start = time.perf_counter()
    if impl == "ours":
        extract_stats(open_images(folder), extractor, batch_size=batch_size, progress=False)
    elif impl == "clean-fid":
        from cleanfid.fid import get_folder_features

        get_folder_features(str(folder), extractor, num_workers=cleanfid_workers,
                            batch_size=batch_size, device=extractor.device, mode=extractor.mode,
                            verbose=False)
    else:
        raise ValueError(f"unknown implementation {impl!r}; choose {', '.join(IMPLEMENTATIONS)}")
    if extractor.device.type == "cuda":
        torch.cuda.synchronize(extractor.device)
    return time.perf_counter() - start


def bench_features(
    weights: InceptionWeights,
    *,
    data: str | None = None,
    num_images: int = 64,
    size: int = 32,
    batch_size: int = 32,
    device: str = "cpu",
    mode: str = "clean",
    repeats: int = 3,
    warmup: int = 1,
    cleanfid_workers: int = 12,
    impls: tuple[str, ...] = IMPLEMENTATIONS,
) -> dict:
    """Images/s of each implementation on one folder (generated unless `data` is given)."""
    dev = resolve_device(device)
    extractor = InceptionFeatures(weights, mode, dev)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(data) if data else make_folder(Path(tmp) / "images", num_images, size)
        count = len(open_images(folder))
        times: dict[str, list[float]] = {impl: [] for impl in impls}
        for r in range(warmup + repeats):
            for impl in impls:  # alternate, so drift in machine speed hits both alike
                t = run_once(impl, folder, extractor, batch_size=batch_size,
                             cleanfid_workers=cleanfid_workers)
                if r >= warmup:
                    times[impl].append(t)
    results = {impl: {"times_s": ts, "median_s": statistics.median(ts),
                      "img_per_s": count / statistics.median(ts)} for impl, ts in times.items()}
    record = {
        "benchmark": "features",
        "images": count, "image_size": size if not data else None, "data": data,
        "batch_size": batch_size, "mode": mode, "repeats": repeats, "warmup": warmup,
        "cleanfid_num_workers": cleanfid_workers,
        "inception_sha256": weights.sha256, "inception_kind": weights.kind,
        "results": results,
        "environment": environment(dev),
    }
    if set(impls) == set(IMPLEMENTATIONS):
        record["speedup_ours_vs_cleanfid"] = (results["ours"]["img_per_s"]
                                              / results["clean-fid"]["img_per_s"])
    return record
