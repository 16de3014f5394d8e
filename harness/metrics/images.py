"""Image sets the metrics read: a folder or zip of images, or an npz of samples (`arr_0`).

Conversions (documented, identical to clean-fid's so numbers agree with it): every image
becomes 8-bit RGB with PIL's `convert("RGB")` -- greyscale is replicated to three channels,
palette images are expanded, and an alpha channel is dropped (not composited). Arrays in an
npz get the same treatment: (N, H, W) or (N, H, W, 1) are replicated, (N, H, W, 4) loses
alpha. All images of one set must share one size; a mixed set is an error naming two files.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from harness.data.readers import ImageReader, open_reader
from harness.inputs import npz_meta, read_npz


def to_rgb_array(arr: np.ndarray, where: str) -> np.ndarray:
    """uint8 HWC RGB from a uint8 HW, HW1, HW3 or HW4 array."""
    if arr.dtype != np.uint8:
        raise ValueError(f"{where}: images must be uint8 in [0, 255], got dtype {arr.dtype}")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4):
        raise ValueError(f"{where}: expected an HxW, HxWx1, HxWx3 or HxWx4 image, "
                         f"got shape {arr.shape}")
    if arr.shape[2] == 1:
        return np.repeat(arr, 3, axis=2)
    return np.ascontiguousarray(arr[:, :, :3])


class ImageSet:
    """An indexable set of uint8 RGB images with one size (checked as they are loaded)."""

    path: str
    kind: str  # "folder" | "zip" | "npz"

    def __len__(self) -> int:
        raise NotImplementedError

    def load(self, i: int) -> np.ndarray:
        raise NotImplementedError

    def describe(self, i: int) -> str:
        raise NotImplementedError


class ReaderImageSet(ImageSet):
    """Images of a folder or zip (recursive; png, jpg, jpeg, webp)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = str(path)
        self.reader: ImageReader = open_reader(path)
        self.kind = "zip" if Path(path).is_file() else "folder"

    def __len__(self) -> int:
        return len(self.reader.names)

    def load(self, i: int) -> np.ndarray:
        with self.reader.open(self.reader.names[i]) as image:
            return np.asarray(image.convert("RGB"))

    def describe(self, i: int) -> str:
        return self.reader.describe(self.reader.names[i])


class ArrayImageSet(ImageSet):
    """Images held in an array (N, H, W[, C]) uint8, e.g. `arr_0` of a samples npz."""

    def __init__(self, images: np.ndarray, path: str = "<array>") -> None:
        self.path = path
        self.kind = "npz"
        if images.ndim not in (3, 4):
            raise ValueError(f"{path}: expected images (N, H, W[, C]), got shape {images.shape}")
        self.images = images

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def load(self, i: int) -> np.ndarray:
        return to_rgb_array(self.images[i], self.describe(i))

    def describe(self, i: int) -> str:
        return f"{self.path}[{i}]"


def read_samples_npz(path: str | os.PathLike) -> tuple[np.ndarray, dict]:
    """`arr_0` (uint8 NHWC) and the parsed `meta` JSON ({} if absent) of a samples npz."""
    data = read_npz(path, "samples file")
    if "arr_0" not in data:
        raise ValueError(f"samples file '{path}' has no 'arr_0' array (keys: "
                         f"{', '.join(data)})")
    return data["arr_0"], npz_meta(data, path, "samples file")


def is_stats_file(path: str | os.PathLike) -> bool:
    """True for an npz of statistics (holds `mu` and `sigma`), False for other inputs."""
    path = Path(path)
    if not (path.is_file() and path.suffix.lower() == ".npz"):
        return False
    if not zipfile.is_zipfile(path):
        raise ValueError(f"'{path}' is not a readable .npz file (not a zip archive: truncated "
                         "or not written by numpy)")
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
    return {"mu.npy", "sigma.npy"} <= names


def open_images(path: str | os.PathLike) -> ImageSet:
    """An ImageSet for a folder, a zip of images, or a samples npz."""
    path = Path(path)
    if path.is_file() and path.suffix.lower() == ".npz":
        images, _ = read_samples_npz(path)
        return ArrayImageSet(images, str(path))
    return ReaderImageSet(path)
