"""`prepare_dataset`: write a dataset once, at the training resolution, with a manifest.

Training and reference statistics then read exactly the same pixels. The output is a flat
folder (or a zip with `fmt="zip"`) of PNGs named `{index:06d}.png`, or `{label}_{index:06d}.png`
when class-conditional (ADM's filename-prefix convention), plus the manifest `DIR.json`
(see `harness.data.manifest`). Writing is atomic: everything goes to a per-process temporary
beside `DIR` first and is renamed into place, then the manifest is written (it marks a complete
dataset). Running again with the same arguments finds the manifest and does nothing
(`verify=True` recomputes the hashes); different arguments are refused rather than silently
overwriting. While it writes, a process holds `.NAME.lock` beside `DIR` (as `harness train`
and `harness sample` lock their outputs): a second one is refused, naming the holder.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from harness.data.manifest import (
    MANIFEST_VERSION,
    combine,
    dataset_hashes,
    file_digest,
    manifest_path,
    pixel_digest,
    read_manifest,
)
from harness.data.registry import PAPER_DATASETS
from harness.data.sources import open_source
from harness.inputs import check_output_path
from harness.runtime import atomic_target, output_lock, write_json_atomic

FORMATS = ("folder", "zip")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed member timestamps: identical archives run to run


def encode_png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr, mode="RGB").save(buf, format="PNG")
    return buf.getvalue()


def image_name(index: int, label: int | None) -> str:
    return f"{index:06d}.png" if label is None else f"{int(label)}_{index:06d}.png"


# Process-local state of pool workers only: the source's loader, inherited through fork.
_WORKER_GET = None


def _init_worker(get) -> None:
    global _WORKER_GET
    _WORKER_GET = get


def _load_and_encode(i: int) -> tuple[np.ndarray, bytes]:
    arr = _WORKER_GET(i)
    return arr, encode_png(arr)


def _items(get, count: int, workers: int):
    """Yield (array, png bytes) for items 0..count-1 in order, decoding in `workers` processes."""
    if workers <= 1 or count < 2 * workers:
        for i in range(count):
            arr = get(i)
            yield arr, encode_png(arr)
        return
    # fork: the loader (closures over a reader) reaches workers without pickling.
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(workers, initializer=_init_worker, initargs=(get,)) as pool:
        yield from pool.imap(_load_and_encode, range(count), chunksize=16)


def _request(dataset, source, resolution, count, seed, class_cond, num_classes, fmt) -> dict:
    return {
        "dataset": dataset, "source": source, "resolution": resolution, "count": count,
        "seed": seed, "class_cond": class_cond, "num_classes": num_classes, "format": fmt,
    }


def _check_existing(out: Path, manifest: dict, request: dict, verify: bool) -> dict:
    """Accept an existing prepared dataset that matches the request, else raise."""
    # Compare with the arguments that made it (stored as given), not resolved values.
    made_with = manifest.get("request", {})
    differ = [
        f"{k}: existing {made_with.get(k)!r}, asked {v!r}"
        for k, v in request.items()
        if made_with.get(k) != v
    ]
    if differ:
        raise ValueError(
            f"'{out}' already holds a different prepared dataset ({'; '.join(differ)}); "
            "delete it (and its .json) or choose another --out"
        )
    if verify:
        found = dataset_hashes(out, progress=True)
        bad = [k for k in ("count", "sha256", "pixel_sha256") if found[k] != manifest.get(k)]
        if bad:
            raise ValueError(f"'{out}' does not match its manifest ({', '.join(bad)} differ)")
    return manifest


def prepare_dataset(
    dataset: str,
    source: str | None,
    resolution: int,
    out: str | os.PathLike,
    count: int | None = None,
    seed: int = 0,
    class_cond: bool = False,
    num_classes: int | None = None,
    fmt: str = "folder",
    config_key: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    labels: str = "auto",
    verify: bool = False,
    progress: bool = True,
    workers: int = 1,
) -> dict:
    """Write dataset `dataset` from `source` at `resolution` to `out`; return the manifest.

    `source`: folder/zip path, `builtin:NAME` or `torchvision:cifar10` (see
    harness.data.sources). `count`: number of images (default: all / generator default; a
    seeded subset when fewer than available). `num_classes`: keep classes 0..K-1 only.
    `fmt`: "folder" or "zip" (`out` should then end in .zip). `config_key` is named in the
    error raised when a paper dataset's path is missing. `workers` > 1 decodes and encodes
    in that many processes (Linux/fork; the output is identical).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format '{fmt}'; choose one of {', '.join(FORMATS)}")
    if resolution < 1:
        raise ValueError(f"resolution must be >= 1, got {resolution}")
    if count is not None and count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    out = Path(out)
    mpath = manifest_path(out)
    request = _request(dataset, source, resolution, count, seed, class_cond, num_classes, fmt)
    existing = read_manifest(out)
    if existing is not None and out.exists():  # no lock needed only to read it
        return _check_existing(out, existing, request, verify)
    check_output_path(out, "--out", folder=True)
    with output_lock(out, "prepared dataset"):
        existing = read_manifest(out)  # another process may have finished it meanwhile
        if existing is not None and out.exists():
            return _check_existing(out, existing, request, verify)
        if out.exists():
            raise ValueError(
                f"'{out}' exists but has no manifest '{mpath}' (an interrupted or foreign "
                "dataset?); delete it or choose another --out"
            )
        return _write_dataset(dataset, source, resolution, out, request, count, seed,
                              class_cond, num_classes, fmt, config_key, cache_dir, labels,
                              progress, workers)


def _write_dataset(dataset, source, resolution, out, request, count, seed, class_cond,
                   num_classes, fmt, config_key, cache_dir, labels, progress, workers) -> dict:
    """prepare_dataset's work, once the output is locked and known to be free."""
    src = open_source(
        dataset, source, resolution, count, seed, class_cond, num_classes, config_key,
        cache_dir, labels,
    )
    files, pixels = {}, {}
    archive = None
    items = _items(src.get, src.count, workers)
    # A per-process temporary beside `out` (see harness.runtime.files): renamed into place when
    # complete, removed on failure; one left by a killed run is removed by the next.
    try:
        with atomic_target(out) as tmp:
            if fmt == "zip":
                archive = zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED)
            else:
                tmp.mkdir()
            bar = tqdm(items, total=src.count, desc=f"prepare {dataset}", unit="img",
                       disable=not progress)
            for i, (arr, data) in enumerate(bar):
                name = image_name(i, None if src.labels is None else src.labels[i])
                files[name] = file_digest(data)
                pixels[name] = pixel_digest(arr)
                if archive is not None:
                    archive.writestr(zipfile.ZipInfo(name, date_time=ZIP_DATE), data)
                else:
                    (tmp / name).write_bytes(data)
            if archive is not None:
                archive.close()
                archive = None
    except BaseException:
        items.close()  # stops worker processes, if any
        if archive is not None:
            archive.close()
        raise

    manifest = dict(request)
    manifest.update({
        "manifest_version": MANIFEST_VERSION,
        "request": request,
        "count": src.count,
        "num_classes": src.num_classes,
        "class_names": src.class_names,
        "sha256": combine(files),
        "pixel_sha256": combine(pixels),
        "source_location": src.location,
        "path": str(out),
        "preprocessing": "ADM center_crop_arr (BOX halving, BICUBIC, centre crop); RGB, "
        "alpha composited on white",
    })
    if src.details is not None:
        manifest["source_details"] = src.details
    if src.labels is not None:
        manifest["class_counts"] = np.bincount(src.labels, minlength=src.num_classes).tolist()
    if dataset in PAPER_DATASETS:
        spec = PAPER_DATASETS[dataset]
        manifest["published_count"] = spec.count
        manifest["paper_count"] = spec.paper_count
        if count is None and src.count != spec.count:
            tqdm.write(
                f"note: {dataset} has {src.count} images at '{src.location}', the published "
                f"training set {spec.count}"
            )
    write_json_atomic(manifest_path(out), manifest)
    return manifest
