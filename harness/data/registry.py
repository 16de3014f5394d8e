"""The paper's datasets by name: layout, size and where to get them (read from user paths).

The harness never downloads these (except CIFAR-10 through torchvision on request); the user
points the config key `datasets.<name>.path` (or `data_root`) at a local copy. Counts are the
published sizes of the training sets; `paper_count` is what the paper's text says, where it
differs (the paper, copying P2's wording, calls AFHQ-dog "approximately 50k"; the AFHQ dog
training split holds 4,739 images).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class PaperDataset:
    """One dataset of the paper and the facts needed to find and check a local copy."""

    name: str
    title: str
    count: int  # images in the training set as published
    paper_count: str  # the size the paper's Sec. 5.1 states
    class_cond: bool
    num_classes: int
    native_resolution: str
    paper_resolution: int | None
    layout: str  # what the user's folder looks like
    source: str  # where to obtain it
    subdirs: tuple[str, ...] = field(default=("",))  # tried in order under the user's path


PAPER_DATASETS: dict[str, PaperDataset] = {
    d.name: d
    for d in (
        PaperDataset(
            "ffhq", "Flickr-Faces-HQ", 70000, "approximately 70k", False, 0, "1024x1024", 256,
            "images1024x1024/ (or any folder/zip) of 70,000 PNGs, e.g. 00000/00000.png ...",
            "https://github.com/NVlabs/ffhq-dataset (Karras et al. 2019)",
            ("images1024x1024", ""),
        ),
        PaperDataset(
            "celebahq", "CelebA-HQ", 30000, "30K", False, 0, "1024x1024", 256,
            "a folder or zip of 30,000 images (e.g. celeba_hq_256/00000.jpg ...)",
            "Karras et al. 2018 (PGGAN); the 256px copy used by P2/Debias: celeba_hq_256",
            ("celeba_hq_256", "celeba_hq", ""),
        ),
        PaperDataset(
            "afhqdog", "AFHQ (dog)", 4739, "approximately 50k (sic; the dog train split has "
            "4,739 images, AFHQ as a whole ~15k)", False, 0, "512x512", 256,
            "afhq/train/dog/*.jpg (StarGAN v2 release; pass the afhq/ root, train/dog or dog/)",
            "https://github.com/clovaai/stargan-v2 (Choi et al. 2020), AFHQ v1",
            ("train/dog", "dog", ""),
        ),
        PaperDataset(
            "metfaces", "MetFaces", 1336, "approximately 1k", False, 0, "1024x1024", 256,
            "images/*.png of 1,336 aligned faces",
            "https://github.com/NVlabs/metfaces-dataset (Karras et al. 2020)",
            ("images", ""),
        ),
        PaperDataset(
            "cifar10", "CIFAR-10", 50000, "not stated (standard 50k train)", True, 10, "32x32",
            None,
            "class folders or ADM's `{class}_{index}.png` files (guided-diffusion's "
            "datasets/cifar10.py layout: airplane_00000.png ...); or --source torchvision:cifar10",
            "https://www.cs.toronto.edu/~kriz/cifar.html (Krizhevsky 2009); torchvision.datasets",
            ("cifar_train", "train", ""),
        ),
        PaperDataset(
            "imagenet", "ImageNet ILSVRC-2012", 1281167, "not stated (ILSVRC-2012 train)", True,
            1000, "varied", None,
            "train/<synset>/<synset>_<id>.JPEG (1000 synset folders; labels = sorted synsets)",
            "https://image-net.org (Deng et al. 2009), ILSVRC-2012 train",
            ("train", ""),
        ),
    )
}


def config_key_for(name: str) -> str:
    """The workflow config key that holds the local path of dataset `name`."""
    return f"datasets.{name}.path"


def resolve_path(
    name: str, path: str | os.PathLike | None, config_key: str | None = None
) -> Path:
    """Locate the images of paper dataset `name` under a user-supplied `path`.

    Tries the dataset's documented sub-folders in turn (a zip file is taken as is).
    A missing or empty `path` raises ValueError naming the dataset and the config key.
    """
    if name not in PAPER_DATASETS:
        raise ValueError(f"unknown dataset '{name}'; known: {', '.join(PAPER_DATASETS)}")
    spec = PAPER_DATASETS[name]
    key = config_key or config_key_for(name)
    hint = f"expected layout: {spec.layout}; source: {spec.source}"
    if path is None or str(path) == "":
        raise ValueError(f"dataset '{name}': no path given; set config key '{key}' ({hint})")
    root = Path(path)
    if not root.exists():
        raise ValueError(
            f"dataset '{name}': path '{root}' (config key '{key}') does not exist ({hint})"
        )
    if root.is_file():
        return root
    for sub in spec.subdirs:
        candidate = root / sub if sub else root
        if candidate.is_dir():
            return candidate
    return root
