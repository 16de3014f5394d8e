"""Resumable sampling: finished batches are kept as chunk files beside the output.

`X.npz.parts/` holds `request.json` (what is being sampled) and `chunk_{start}_{stop}.npz`
files with samples `start..stop-1`, each written atomically. A rerun of the same request
samples only the indices no chunk holds; a different request removes the chunks first. A chunk
that does not load (damaged after it was written) is renamed `*.unreadable` (never deleted)
and its samples are drawn again. Only files of these names are ever removed; anything else
in the folder is left alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from pathlib import Path

import numpy as np

from harness.inputs import read_npz
from harness.runtime import write_npz_atomic, write_text_atomic
from harness.runtime.files import SUFFIX

_CHUNK = re.compile(r"^chunk_(\d{7})_(\d{7})\.npz$")


class ChunkStore:
    """The chunk folder of one output file."""

    def __init__(self, out: str | os.PathLike, request: dict) -> None:
        self.dir = Path(str(out) + ".parts")
        request_path = self.dir / "request.json"
        text = json.dumps(request, sort_keys=True)
        if self.dir.exists() and not self.dir.is_dir():
            raise ValueError(f"'{self.dir}' (the chunk folder of '{out}') is a file, not a "
                             "folder; move it away or choose another --out")
        if self.dir.is_dir() and (
            not request_path.is_file() or request_path.read_text(errors="replace") != text
        ):
            self.remove()  # chunks of another request: never mix them in
        self.dir.mkdir(parents=True, exist_ok=True)
        if not request_path.exists():
            write_text_atomic(request_path, text)

    def chunks(self) -> list[tuple[int, int, Path]]:
        """(start, stop, path) of every complete chunk, by start."""
        found = [(int(m.group(1)), int(m.group(2)), self.dir / n)
                 for n in os.listdir(self.dir) if (m := _CHUNK.match(n))]
        return sorted(found)

    def set_aside_unreadable(self) -> list[Path]:
        """Rename every chunk that does not load (or holds the wrong number of samples) to
        `NAME.unreadable[-k]`, so that its samples are drawn again; returns the new names."""
        moved = []
        for start, stop, path in self.chunks():
            try:
                arrays = read_npz(path, "sampling chunk", ("images", "wall_time_s", "device"))
                if len(arrays["images"]) != stop - start:
                    raise ValueError(f"it holds {len(arrays['images'])} samples, its name says "
                                     f"{stop - start}")
            except ValueError as err:
                aside = path.with_name(path.name + ".unreadable")
                k = 1
                while aside.exists():
                    k += 1
                    aside = path.with_name(f"{path.name}.unreadable-{k}")
                os.replace(path, aside)
                print(f"warning: {err}; set aside as {aside.name}, samples {start}..{stop - 1} "
                      "are drawn again", file=sys.stderr)
                moved.append(aside)
        return moved

    def missing(self, num_samples: int, first: int = 0) -> list[int]:
        """Sample indices in first..num_samples-1 that no chunk holds yet."""
        done = np.zeros(num_samples, dtype=bool)
        done[:first] = True
        for start, stop, _ in self.chunks():
            done[start:min(stop, num_samples)] = True
        return np.flatnonzero(~done).tolist()

    def write(self, start: int, images: np.ndarray, labels: np.ndarray | None,
              wall_time_s: float, device: str) -> None:
        stop = start + len(images)
        arrays = {"images": images, "wall_time_s": np.float64(wall_time_s),
                  "device": np.array(device)}
        if labels is not None:
            arrays["labels"] = labels
        write_npz_atomic(self.dir / f"chunk_{start:07d}_{stop:07d}.npz", **arrays)

    def merge(self, num_samples: int, first: int = 0
              ) -> tuple[np.ndarray, np.ndarray | None, float, list[str]]:
        """All samples in order (images, labels, total wall time, devices); checks that the
        chunks hold exactly samples first..num_samples-1, each once."""
        images, labels, wall, devices, expect = [], [], 0.0, [], first
        for start, stop, path in self.chunks():
            if start != expect:
                raise RuntimeError(
                    f"sampling chunks in {self.dir} do not cover samples {expect}..{start - 1} "
                    f"(or overlap); delete the folder and sample again"
                )
            z = read_npz(path, "sampling chunk")
            images.append(z["images"])
            if "labels" in z:
                labels.append(z["labels"])
            wall += float(z["wall_time_s"])
            devices.append(str(z["device"]))
            expect = stop
        total = sum(len(x) for x in images)
        if expect != num_samples or total != num_samples - first:
            raise RuntimeError(f"expected exactly {num_samples - first} samples in "
                               f"{self.dir}, found {total}")
        all_labels = np.concatenate(labels) if labels else None
        return np.concatenate(images), all_labels, wall, sorted(set(devices))

    def remove(self) -> None:
        """Delete the chunks, request.json and temporaries of this folder, then the folder if
        nothing else is in it (set-aside or foreign files are kept)."""
        if not self.dir.is_dir():
            return
        for name in os.listdir(self.dir):
            if _CHUNK.match(name) or name == "request.json" or name.endswith(SUFFIX):
                (self.dir / name).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.dir.rmdir()


def batches_of(indices: list[int], batch_size: int) -> list[range]:
    """Split sorted indices into contiguous ranges of at most `batch_size`."""
    out: list[range] = []
    k = 0
    while k < len(indices):
        start = indices[k]
        stop = start
        while (k < len(indices) and indices[k] == stop and stop - start < batch_size):
            stop += 1
            k += 1
        out.append(range(start, stop))
    return out
