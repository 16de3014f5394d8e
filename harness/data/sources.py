"""Where `harness prepare` takes images from: a folder/zip, a built-in generator, torchvision.

A source string is one of `builtin:<name>` (harness.data.generated.BUILTINS: colorshapes,
shapeclasses, digits, texshapes, photopatches), `torchvision:cifar10` (downloads into
`cache_dir` when online), or a path to a folder / zip.
Every source becomes a `Source`: a list of items, each decoded and preprocessed (ADM centre
crop + resize) on request, with labels when the dataset is class-conditional.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from harness.data.generated import BUILTINS, generate
from harness.data.labels import LABEL_MODES, infer_labels
from harness.data.preprocess import center_crop_arr, preprocess
from harness.data.readers import open_reader
from harness.data.registry import PAPER_DATASETS, config_key_for, resolve_path

TORCHVISION_SETS = ("cifar10",)


def default_download_dir() -> Path:
    """Where `harness prepare` keeps torchvision downloads between runs (per user)."""
    return Path.home() / ".cache" / "harness" / "torchvision"


@dataclass
class Source:
    """Images ready to write: `get(i)` -> uint8 (R, R, 3); labels int64 (N,) or None."""

    count: int
    get: Callable[[int], np.ndarray]
    labels: np.ndarray | None
    num_classes: int | None
    class_names: list[str] | None
    location: str  # resolved path or generator, for the manifest
    details: dict | None = None  # a generator's own provenance (e.g. the photographs cropped)


def _select(
    n: int,
    labels: np.ndarray | None,
    count: int | None,
    seed: int,
    num_classes: int | None,
    what: str,
) -> np.ndarray:
    """Indices kept: labels < num_classes (if given), then a seeded subset of `count`."""
    keep = np.arange(n)
    if labels is not None and num_classes is not None:
        keep = keep[labels < num_classes]
    if count is None:
        return keep
    if count > keep.size:
        raise ValueError(f"{what} has {keep.size} usable images; asked for count={count}")
    # A random subset, not the first `count`: sorted sources (ImageNet by class) would
    # otherwise give a biased sample. Kept in source order.
    rng = np.random.default_rng([seed, 0x5E1EC7])
    return np.sort(rng.choice(keep, size=count, replace=False))


def _from_arrays(images, labels, resolution, count, seed, num_classes, class_cond, where):
    keep = _select(len(images), labels, count, seed, num_classes, where)

    def get(i: int) -> np.ndarray:
        arr = images[keep[i]]
        if arr.shape[:2] == (resolution, resolution):
            return np.asarray(arr, dtype=np.uint8)
        return center_crop_arr(Image.fromarray(np.asarray(arr, dtype=np.uint8)), resolution)

    kept_labels = labels[keep] if (class_cond and labels is not None) else None
    return keep.size, get, kept_labels


def open_source(
    dataset: str,
    source: str | None,
    resolution: int,
    count: int | None = None,
    seed: int = 0,
    class_cond: bool = False,
    num_classes: int | None = None,
    config_key: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    labels: str = "auto",
) -> Source:
    """Resolve `source` for `dataset` and return its images (see module docstring)."""
    if labels not in LABEL_MODES:
        raise ValueError(f"unknown label mode '{labels}'; choose one of {', '.join(LABEL_MODES)}")
    key = config_key or config_key_for(dataset)
    if source and source.startswith("builtin:"):
        name = source.split(":", 1)[1]
        if name not in BUILTINS:
            raise ValueError(
                f"unknown built-in source '{source}'; choose one of "
                + ", ".join(f"builtin:{b}" for b in BUILTINS)
            )
        spec = BUILTINS[name]
        if class_cond and not spec.class_cond:
            raise ValueError(
                f"dataset '{dataset}': class-conditional preparation asked for, but {source} "
                "has no labels (use builtin:shapeclasses or builtin:digits)"
            )
        data = generate(name, count, resolution, seed, num_classes if spec.class_cond else None)
        labels_out = data.labels if class_cond else None
        images = data.images
        return Source(
            len(images), lambda i: images[i], labels_out,
            data.num_classes if class_cond else None, None, source, data.details,
        )
    if source and source.startswith("torchvision:"):
        name = source.split(":", 1)[1]
        if name not in TORCHVISION_SETS:
            raise ValueError(
                f"unknown torchvision source '{source}'; choose one of "
                + ", ".join(f"torchvision:{t}" for t in TORCHVISION_SETS)
            )
        if not cache_dir:
            raise ValueError(f"{source} needs a download/cache folder (--cache-dir)")
        from torchvision.datasets import CIFAR10

        # Downloads (about 170 MB) only if the archive is not already in cache_dir.
        tv = CIFAR10(root=str(cache_dir), train=True, download=True)
        tv_labels = np.asarray(tv.targets, dtype=np.int64)
        n, get, kept = _from_arrays(
            tv.data, tv_labels, resolution, count, seed, num_classes, class_cond, source
        )
        k = (num_classes or 10) if class_cond else None
        return Source(n, get, kept, k, list(tv.classes) if class_cond else None, source)

    # A path on disk.
    if dataset in PAPER_DATASETS:
        root = resolve_path(dataset, source, config_key)
    else:
        if not source:
            raise ValueError(
                f"dataset '{dataset}': no source given; pass a folder/zip path (config key "
                f"'{key}') or builtin:<{'|'.join(BUILTINS)}> / torchvision:cifar10"
            )
        root = Path(source)
        if not root.exists():
            raise ValueError(
                f"dataset '{dataset}': path '{root}' (config key '{key}') does not exist"
            )
    reader = open_reader(root)
    label_arr, class_names = None, None
    if class_cond:
        label_list, class_names = infer_labels(reader.names, labels, where=f"'{root}'")
        label_arr = np.asarray(label_list, dtype=np.int64)
    keep = _select(len(reader.names), label_arr, count, seed, num_classes, f"'{root}'")
    names = [reader.names[i] for i in keep]

    def get(i: int) -> np.ndarray:
        return preprocess(reader.open(names[i]), resolution)

    k = None
    if class_cond:
        k = int(num_classes) if num_classes is not None else len(class_names)
        class_names = class_names[:k]
    return Source(
        len(names), get, label_arr[keep] if class_cond else None, k, class_names,
        str(root.resolve()),
    )
