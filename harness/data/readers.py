"""Read images from a folder or a zip archive, recursively, in one deterministic order.

Both readers list files with a lower-case extension in `IMAGE_EXTENSIONS` and order them by
their POSIX path relative to the root (plain string sort), so the same images in a folder and
in a zip archive come out in the same order with the same names. ADM sorts each directory's
entries while recursing; the two orders differ only for names that sort between a directory
and its own children (e.g. `a.png` vs `a/x.png`), which real datasets do not contain.
Hidden files and macOS resource forks (`__MACOSX/`, names starting with `.`) are skipped.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path, PurePosixPath

from PIL import Image, UnidentifiedImageError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp")


def _is_image_name(name: str) -> bool:
    parts = PurePosixPath(name).parts
    if not parts or any(p.startswith(".") or p == "__MACOSX" for p in parts):
        return False
    return PurePosixPath(name).suffix.lower() in IMAGE_EXTENSIONS


class ImageReader:
    """Images under one root (folder or zip): `names` (sorted relative paths) and bytes."""

    root: Path
    names: list[str]

    def __len__(self) -> int:
        return len(self.names)

    def read_bytes(self, name: str) -> bytes:
        raise NotImplementedError

    def open(self, name: str) -> Image.Image:
        """Decode one image fully; a file PIL cannot read raises ValueError naming it."""
        data = self.read_bytes(name)
        try:
            image = Image.open(io.BytesIO(data))
            image.load()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
            raise ValueError(f"corrupt or unreadable image '{self.describe(name)}': {err}") from err
        return image

    def describe(self, name: str) -> str:
        """Human-readable location of one image, for error messages."""
        return str(self.root / name)

    def close(self) -> None:
        """Release open file handles (no-op for folders)."""


class FolderReader(ImageReader):
    """Images anywhere below a directory."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"image folder '{self.root}' does not exist")
        names = []
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=True):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            rel_dir = Path(dirpath).relative_to(self.root).as_posix()
            for filename in filenames:
                name = filename if rel_dir == "." else f"{rel_dir}/{filename}"
                if _is_image_name(name):
                    names.append(name)
        self.names = sorted(names)
        if not self.names:
            raise ValueError(
                f"no images found in folder '{self.root}' (looked recursively for "
                f"{', '.join(IMAGE_EXTENSIONS)})"
            )

    def read_bytes(self, name: str) -> bytes:
        return (self.root / name).read_bytes()


class ZipReader(ImageReader):
    """Images anywhere inside a zip archive; the archive is opened lazily once per process,
    so a reader can be handed to DataLoader worker processes."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.root = Path(path)
        if not self.root.is_file():
            raise FileNotFoundError(f"zip archive '{self.root}' does not exist")
        self._zip: zipfile.ZipFile | None = None
        self._pid: int | None = None
        try:
            infos = self._archive().infolist()
        except zipfile.BadZipFile as err:
            raise ValueError(f"'{self.root}' is not a valid zip archive: {err}") from err
        self.names = sorted(
            i.filename for i in infos if not i.is_dir() and _is_image_name(i.filename)
        )
        if not self.names:
            raise ValueError(
                f"no images found in zip archive '{self.root}' (looked for "
                f"{', '.join(IMAGE_EXTENSIONS)})"
            )

    def _archive(self) -> zipfile.ZipFile:
        if self._zip is None or self._pid != os.getpid():
            self._zip = zipfile.ZipFile(self.root)
            self._pid = os.getpid()
        return self._zip

    def read_bytes(self, name: str) -> bytes:
        try:
            return self._archive().read(name)
        except (zipfile.BadZipFile, OSError) as err:
            raise ValueError(f"cannot read '{self.describe(name)}': {err}") from err

    def describe(self, name: str) -> str:
        return f"{self.root}:{name}"

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip = None

    def __getstate__(self) -> dict:
        # Open archive handles do not survive pickling into worker processes; reopen there.
        state = self.__dict__.copy()
        state["_zip"] = None
        state["_pid"] = None
        return state


def open_reader(path: str | os.PathLike) -> ImageReader:
    """A reader for a folder or a `.zip` file; FileNotFoundError if `path` does not exist."""
    path = Path(path)
    if path.is_dir():
        return FolderReader(path)
    if path.is_file():
        if zipfile.is_zipfile(path):
            return ZipReader(path)
        raise ValueError(f"'{path}' is a file but not a zip archive; give a folder or a .zip")
    raise FileNotFoundError(f"image source '{path}' does not exist (expected a folder or .zip)")
