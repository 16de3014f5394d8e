"""Class labels for class-conditional datasets, from sub-folders or ADM's filename prefix.

Two conventions, as the issue asks:

- `subfolder`: every image sits below a class folder; the class is the first path component,
  and the sorted folder names map to 0..K-1 (torchvision's ImageFolder rule; an ImageNet
  `train/n01440764/...` tree gives the synset order ADM uses).
- `prefix`: ADM's rule, the class is the file name up to its first underscore
  (`label_xxx.png`), and the sorted unique prefixes map to 0..K-1. One deliberate
  refinement: when every prefix is a decimal integer (our own `{label}_{index:06d}.png`
  files), the label is that integer itself. ADM would sort "10" before "2" and so renumber
  classes once K > 10; with integers kept, a prepared dataset reads back with the labels
  it was written with, and missing classes do not shift the others.

`auto` picks `subfolder` when every image is inside a folder, else `prefix` when every file
name has an underscore; otherwise there are no labels and asking for them is an error.
"""

from __future__ import annotations

from pathlib import PurePosixPath

LABEL_MODES = ("auto", "subfolder", "prefix")


def _prefix(name: str) -> str | None:
    base = PurePosixPath(name).name
    return base.split("_", 1)[0] if "_" in base else None


def _folder(name: str) -> str | None:
    parts = PurePosixPath(name).parts
    return parts[0] if len(parts) > 1 else None


def labels_from_subfolders(
    names: list[str], where: str = "the dataset"
) -> tuple[list[int], list[str]]:
    """Labels from the first folder of each relative path; returns (labels, class names)."""
    folders = [_folder(n) for n in names]
    loose = [n for n, f in zip(names, folders, strict=True) if f is None]
    if loose:
        raise ValueError(
            f"class labels from sub-folders: {len(loose)} image(s) in {where} are not inside "
            f"a class folder, e.g. '{loose[0]}'"
        )
    classes = sorted(set(folders))
    index = {c: i for i, c in enumerate(classes)}
    return [index[f] for f in folders], classes


def labels_from_prefix(
    names: list[str], where: str = "the dataset"
) -> tuple[list[int], list[str]]:
    """ADM's labels: file name up to the first underscore; returns (labels, class names)."""
    prefixes = [_prefix(n) for n in names]
    bare = [n for n, p in zip(names, prefixes, strict=True) if p is None]
    if bare:
        raise ValueError(
            f"class labels from file-name prefixes: {len(bare)} file name(s) in {where} have "
            f"no '<label>_' prefix, e.g. '{bare[0]}'"
        )
    if all(p.isdecimal() for p in prefixes):
        ints = [int(p) for p in prefixes]
        return ints, [str(i) for i in range(max(ints) + 1)]
    classes = sorted(set(prefixes))
    index = {c: i for i, c in enumerate(classes)}
    return [index[p] for p in prefixes], classes


def infer_labels(
    names: list[str], mode: str = "auto", where: str = "the dataset"
) -> tuple[list[int], list[str]]:
    """Class labels for `names` (relative paths) by `mode`; ValueError if there are none."""
    if mode not in LABEL_MODES:
        raise ValueError(f"unknown label mode '{mode}'; choose one of {', '.join(LABEL_MODES)}")
    if mode == "subfolder":
        return labels_from_subfolders(names, where)
    if mode == "prefix":
        return labels_from_prefix(names, where)
    if names and all(_folder(n) is not None for n in names):
        return labels_from_subfolders(names, where)
    if names and all(_prefix(n) is not None for n in names):
        return labels_from_prefix(names, where)
    raise ValueError(
        f"class-conditional training needs labels, but {where} has none: put each class in its "
        "own sub-folder (cat/001.png) or name files '<label>_<anything>.png' (ADM's convention)"
    )
