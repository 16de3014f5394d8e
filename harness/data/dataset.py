"""`ImageDataset`: a torch Dataset over a folder or zip, with ADM's preprocessing.

Items are `(x, kwargs)` as in guided-diffusion: `x` is a float32 CHW tensor in [-1, 1]
(`uint8 / 127.5 - 1`) and `kwargs` is `{"y": int64 tensor}` when class-conditional, else `{}`.

Random horizontal flips are decided without global random state: the flip of image `i` is
a hash bit of `(flip_seed, epoch, i)`, with `epoch` set by `set_epoch` (like
DistributedSampler). The result therefore does not depend on worker count, worker seeds or
restarts, so a resumed run sees the same flips. A caller that wants to draw flips itself
(e.g. from its own torch.Generator) may index with a pair `(i, flip)`.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np
import torch
from torch.utils.data import Dataset
from tqdm import tqdm

from harness.data.labels import infer_labels
from harness.data.manifest import manifest_path, read_manifest
from harness.data.preprocess import hflip, preprocess, to_model_range
from harness.data.readers import ImageReader, open_reader


def flip_bit(flip_seed: int, epoch: int, index: int) -> bool:
    """Deterministic fair coin for (seed, epoch, index): True means mirror the image."""
    digest = hashlib.blake2b(f"{flip_seed}:{epoch}:{index}".encode(), digest_size=8).digest()
    return bool(digest[0] & 1)


class ImageDataset(Dataset):
    """Images under `path` (folder or .zip), centre-cropped and resized to `resolution`.

    Args:
        path: folder (searched recursively) or zip archive of png/jpg/jpeg/webp images.
        resolution: side of the square training images.
        class_cond: return labels `{"y": ...}`; ValueError if the data has none.
        labels: "auto" | "subfolder" | "prefix" (see harness.data.labels).
        num_classes: number of classes; labels >= num_classes are an error. Default: the
            manifest's `num_classes` for a prepared dataset, else the classes found.
        random_flip: mirror images left-right with probability 1/2 (ADM's default for
            training is True; ours is False so that evaluation code never flips by accident).
        flip_seed: seed of the flip coin (see module docstring).
        cache: decode every image once at construction (fast epochs for small sets; also
            surfaces any corrupt file immediately).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        resolution: int,
        class_cond: bool = False,
        labels: str = "auto",
        num_classes: int | None = None,
        random_flip: bool = False,
        flip_seed: int = 0,
        cache: bool = False,
    ) -> None:
        super().__init__()
        self.reader: ImageReader = open_reader(path)
        self.names = list(self.reader.names)
        self.resolution = int(resolution)
        self.class_cond = class_cond
        self.random_flip = random_flip
        self.flip_seed = int(flip_seed)
        self.epoch = 0
        self.labels: np.ndarray | None = None
        self.classes: list[str] | None = None
        self.num_classes: int | None = None
        if class_cond:
            label_list, self.classes = infer_labels(
                self.names, labels, where=f"'{self.reader.root}'"
            )
            self.labels = np.asarray(label_list, dtype=np.int64)
            if num_classes is None:
                # A prepared dataset knows its class count even if a class has no images.
                manifest = read_manifest(path) or {}
                num_classes = manifest.get("num_classes") or len(self.classes)
            self.num_classes = int(num_classes)
            if int(self.labels.max()) >= self.num_classes:
                raise ValueError(
                    f"'{self.reader.root}' has label {int(self.labels.max())} but num_classes is "
                    f"{self.num_classes}"
                )
        self._cache: np.ndarray | None = self.load_uint8() if cache else None

    def __len__(self) -> int:
        return len(self.names)

    def set_epoch(self, epoch: int) -> None:
        """Choose the flip pattern of this pass over the data."""
        self.epoch = int(epoch)

    def image_uint8(self, index: int) -> np.ndarray:
        """Image `index` after preprocessing, uint8 HWC, never flipped."""
        if self._cache is not None:
            return self._cache[index]
        return preprocess(self.reader.open(self.names[index]), self.resolution)

    def load_uint8(self, progress: bool = True) -> np.ndarray:
        """All images after preprocessing as one uint8 NHWC array (not flipped)."""
        out = np.empty((len(self), self.resolution, self.resolution, 3), dtype=np.uint8)
        for i in tqdm(range(len(self)), desc="decode", unit="img", disable=not progress):
            out[i] = preprocess(self.reader.open(self.names[i]), self.resolution)
        return out

    def __getitem__(self, item: int | tuple[int, bool]) -> tuple[torch.Tensor, dict]:
        if isinstance(item, tuple):
            index, flip = int(item[0]), bool(item[1])
        else:
            index = int(item)
            flip = self.random_flip and flip_bit(self.flip_seed, self.epoch, index)
        arr = self.image_uint8(index)
        if flip:
            arr = hflip(arr)
        x = torch.from_numpy(to_model_range(arr))
        kwargs = {}
        if self.labels is not None:
            kwargs["y"] = torch.tensor(self.labels[index], dtype=torch.int64)
        return x, kwargs


def data_resolution(path: str | os.PathLike) -> tuple[int | tuple[int, int], str]:
    """The side of the images in `path` (W, H if not square) and where it was read: the
    manifest of a prepared dataset, else the first image."""
    manifest = read_manifest(path)
    if manifest is not None and manifest.get("resolution") is not None:
        return manifest["resolution"], f"its manifest {manifest_path(path)}"
    reader = open_reader(path)
    try:
        name = reader.names[0]
        with reader.open(name) as image:
            width, height = image.size
        return (width if width == height else (width, height)), f"{reader.describe(name)}"
    finally:
        reader.close()


def check_resolution(path: str | os.PathLike, resolution: int, what: str) -> None:
    """Refuse data whose images are not `resolution` px: a model never gets silently
    resampled data (`what` names the model's setting, e.g. '--image-size')."""
    found, source = data_resolution(path)
    if found != resolution:
        raise ValueError(
            f"'{path}' holds {found} px images ({source}), but {what} is {resolution}: the "
            f"model would see resampled images; give data prepared at {resolution} px "
            f"(`harness prepare --resolution {resolution}`)")


def read_images(
    path: str | os.PathLike,
    resolution: int | None = None,
    class_cond: bool = False,
    labels: str = "auto",
    progress: bool = True,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Every image under `path` as uint8 NHWC (+ int64 labels if `class_cond`).

    With `resolution=None` the size of the first image is used (a prepared dataset is
    already square at the training resolution, so its pixels come back unchanged).
    """
    if resolution is None:
        reader = open_reader(path)
        first = reader.open(reader.names[0])
        resolution = min(first.size)
        reader.close()
    ds = ImageDataset(path, resolution, class_cond=class_cond, labels=labels)
    return ds.load_uint8(progress=progress), ds.labels
