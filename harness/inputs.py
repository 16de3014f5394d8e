"""Checked inputs: numbers in range and finite, and files that parse, each failure a ValueError
naming the option, key or file (see harness.errors for how the command line shows it)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np


def check_number(name: str, value: Any, *, minimum: float | None = None,
                 maximum: float | None = None, exclusive_minimum: float | None = None,
                 exclusive_maximum: float | None = None, integer: bool = False) -> None:
    """ValueError naming `name` unless `value` is a finite number (an int if `integer`) in the
    range (bounds as in JSON schema). NaN fails every comparison, so it is refused first."""
    kind = "an integer" if integer else "a finite number"
    bounds = [f">= {minimum:g}" if minimum is not None else "",
              f"> {exclusive_minimum:g}" if exclusive_minimum is not None else "",
              f"<= {maximum:g}" if maximum is not None else "",
              f"< {exclusive_maximum:g}" if exclusive_maximum is not None else ""]
    wanted = " and ".join(b for b in bounds if b)
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    ok = ok and (isinstance(value, int) if integer else math.isfinite(value))
    ok = ok and (minimum is None or value >= minimum) and (maximum is None or value <= maximum)
    ok = ok and (exclusive_minimum is None or value > exclusive_minimum)
    ok = ok and (exclusive_maximum is None or value < exclusive_maximum)
    if not ok:
        raise ValueError(f"{name} must be {kind}{' ' + wanted if wanted else ''}, got {value!r}")


def check_output_path(path: str | os.PathLike, what: str, folder: bool = False) -> None:
    """ValueError naming `what` unless `path` can be written: not an existing folder (unless
    `folder`), and its nearest existing parent a writable folder. Checked before the work that
    produces it, so a bad output path never costs a run."""
    path = Path(path)
    if path.is_dir() and not folder:
        raise ValueError(f"{what} '{path}' is a folder; give a file name")
    parent = path.absolute() if path.is_dir() else path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"{what} '{path}' cannot be created: '{parent}' is a file")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{what} '{path}' cannot be created: no permission to write in "
                         f"'{parent}'")


def read_json(path: str | os.PathLike, what: str, expect: type | None = dict) -> Any:
    """The JSON value in `path` (of type `expect`, if given); ValueError naming the file."""
    path = Path(path)
    try:
        value = json.loads(path.read_bytes())
    except json.JSONDecodeError as err:
        raise ValueError(f"{what} '{path}' is not valid JSON ({err.msg}, line {err.lineno} "
                         f"column {err.colno})") from None
    except UnicodeDecodeError:
        raise ValueError(f"{what} '{path}' is not a JSON text file") from None
    if expect is not None and not isinstance(value, expect):
        raise ValueError(f"{what} '{path}' holds a JSON {type(value).__name__}, not a JSON "
                         f"{'object' if expect is dict else expect.__name__}")
    return value


def read_npz(path: str | os.PathLike, what: str,
             keys: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
    """Arrays `keys` (default: all) of the .npz `path`, without pickles; a missing, truncated
    or foreign file is a ValueError naming it (FileNotFoundError when it does not exist)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{what} '{path}' does not exist")
    try:
        with np.load(path, allow_pickle=False) as data:
            if not hasattr(data, "files"):
                raise ValueError("a single .npy array, not an .npz archive")
            missing = [k for k in keys or () if k not in data.files]
            if missing:
                raise ValueError(f"no {', '.join(repr(k) for k in missing)} array "
                                 f"(it holds: {', '.join(data.files) or 'nothing'})")
            return {k: data[k] for k in (keys or data.files)}
    except MemoryError:
        raise
    except Exception as err:  # noqa: BLE001 - zip, zlib, format and pickle errors alike
        reason = "it holds object arrays (pickles), which are never loaded" if (
            "allow_pickle" in str(err)) else str(err) or type(err).__name__
        raise ValueError(f"{what} '{path}' is not a readable .npz file: {reason}") from None


def npz_meta(arrays: dict[str, np.ndarray], path: str | os.PathLike, what: str) -> dict:
    """The JSON object in an npz's `meta` array ({} when absent); ValueError naming the file."""
    try:
        meta = json.loads(str(arrays["meta"])) if "meta" in arrays else {}
    except ValueError:
        raise ValueError(f"{what} '{path}': its 'meta' is not JSON") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{what} '{path}': its 'meta' is not a JSON object")
    return meta
