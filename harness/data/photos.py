"""`photopatches`: random crops of the photographs that installed packages ship, offline.

Natural images carry what flat generated shapes lack: fine texture at every scale beside
global structure, the detail a constant-weighted loss spends capacity on (P2's argument).
The photographs are scikit-learn's `load_sample_images` files (china.jpg, flower.jpg) and
matplotlib's sample `grace_hopper.jpg`. Crop i is drawn from (seed, i) alone: a photograph
with probability proportional to its number of crop positions, then a position uniformly;
the `CROP`-pixel square is then resized to the training resolution with ADM's preprocessing.
Each photograph's sha256 is recorded, so a package that changed its file is noticed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from harness.data.preprocess import center_crop_arr

CROP = 64  # source pixels per side, before resizing to the training resolution


@dataclass(frozen=True)
class Photo:
    name: str
    path: Path
    pixels: np.ndarray  # uint8 HWC

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def shipped_photos() -> list[Photo]:
    """The three photographs, in a fixed order (a missing package names itself)."""
    try:
        import sklearn.datasets
        from matplotlib import cbook
    except ImportError as err:  # both are dependencies; a broken install says which
        raise ValueError(f"builtin:photopatches needs {err.name}, which is not installed") from err
    sklearn_dir = Path(sklearn.datasets.__file__).parent / "images"
    paths = [sklearn_dir / "china.jpg", sklearn_dir / "flower.jpg",
             Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))]
    photos = []
    for path in paths:
        if not path.is_file():
            raise ValueError(f"builtin:photopatches: photograph '{path}' is missing")
        with Image.open(path) as image:
            photos.append(Photo(path.name, path, np.asarray(image.convert("RGB"))))
    return photos


def crop_list(photos: list[Photo], count: int, seed: int) -> list[tuple[int, int, int]]:
    """(photo index, x, y) of each crop's top-left corner; crop i depends on (seed, i) only."""
    positions = [(p.pixels.shape[1] - CROP + 1) * (p.pixels.shape[0] - CROP + 1)
                 for p in photos]
    weights = np.asarray(positions, dtype=np.float64) / sum(positions)
    crops = []
    for i in range(count):
        rng = np.random.default_rng([seed, i, 0xF070])
        k = int(rng.choice(len(photos), p=weights))
        h, w = photos[k].pixels.shape[:2]
        crops.append((k, int(rng.integers(w - CROP + 1)), int(rng.integers(h - CROP + 1))))
    return crops


def photopatches(count: int, resolution: int, seed: int = 0) -> tuple[np.ndarray, dict]:
    """`count` crops at `resolution` (uint8 NHWC) and their provenance (files and crop list)."""
    photos = shipped_photos()
    crops = crop_list(photos, count, seed)
    out = np.empty((count, resolution, resolution, 3), dtype=np.uint8)
    for i, (k, x, y) in enumerate(crops):
        patch = photos[k].pixels[y : y + CROP, x : x + CROP]
        out[i] = center_crop_arr(Image.fromarray(patch), resolution)
    details = {
        "photographs": [{"name": p.name, "path": str(p.path), "sha256": p.sha256,
                         "size": list(p.pixels.shape[:2])} for p in photos],
        "crop_size": CROP,
        "crops": [{"photo": photos[k].name, "x": x, "y": y} for k, x, y in crops],
    }
    return out, details
