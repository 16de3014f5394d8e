"""Content hashes and the manifest JSON written next to a prepared dataset.

Hash format (reproducible with coreutils): the sha256 of the text with one line per image,
sorted by name, exactly as `sha256sum` prints it: `<sha256 of the file bytes>  <name>\\n`.
For a folder, `(cd DIR && find . -type f | sed 's|^./||' | LC_ALL=C sort | xargs sha256sum)
| sha256sum` gives `sha256`. Because PNG bytes depend on the zlib build, the manifest also
records `pixel_sha256`, the same construction over the decoded uint8 pixels (HWC, RGB), which
is stable across machines; the two agree between a folder and a zip of the same images.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from harness.data.readers import open_reader
from harness.inputs import read_json

MANIFEST_VERSION = 1


def manifest_path(out: str | os.PathLike) -> Path:
    """Where the manifest of dataset `out` lives: `DIR.json`, or `NAME.json` for `NAME.zip`."""
    out = Path(out)
    if out.suffix.lower() == ".zip":
        return out.with_suffix(".json")
    return out.parent / (out.name + ".json")


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pixel_digest(arr: np.ndarray) -> str:
    """sha256 of a uint8 HWC image's shape and raw bytes."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    h = hashlib.sha256(repr(tuple(arr.shape)).encode())
    h.update(arr.tobytes())
    return h.hexdigest()


def combine(digests: dict[str, str]) -> str:
    """sha256 over `sha256sum`-style lines of {name: hex digest}, sorted by name."""
    text = "".join(f"{digests[name]}  {name}\n" for name in sorted(digests))
    return hashlib.sha256(text.encode()).hexdigest()


def decode_png(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def dataset_hashes(path: str | os.PathLike, progress: bool = False) -> dict:
    """Recompute {"count", "sha256", "pixel_sha256"} of a prepared folder or zip."""
    reader = open_reader(path)
    files, pixels = {}, {}
    for name in tqdm(reader.names, desc="hash", unit="img", disable=not progress):
        data = reader.read_bytes(name)
        files[name] = file_digest(data)
        pixels[name] = pixel_digest(decode_png(data))
    reader.close()
    return {"count": len(files), "sha256": combine(files), "pixel_sha256": combine(pixels)}


def read_manifest(out: str | os.PathLike) -> dict | None:
    """The manifest of dataset `out`, or None if it has none."""
    path = manifest_path(out)
    if not path.is_file():
        return None
    return read_json(path, "dataset manifest")


