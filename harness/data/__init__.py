"""Datasets: readers (folder/zip), ADM preprocessing, labels, generated sets, `prepare`.

Public API (see each module's docstring):
- `ImageDataset(path, resolution, class_cond=False, labels="auto", num_classes=None,
  random_flip=False, flip_seed=0, cache=False)` -> items `(x float32 CHW in [-1, 1], {"y"})`
- `read_images(path, resolution=None, class_cond=False)` -> (uint8 NHWC, labels | None)
- `prepare_dataset(dataset, source, resolution, out, count=None, seed=0, class_cond=False,
  num_classes=None, fmt="folder", config_key=None, cache_dir=None, labels="auto",
  verify=False, progress=True, workers=1)` -> manifest dict
- `read_manifest(out)`, `manifest_path(out)`, `dataset_hashes(out)`
- `generate(name, count, resolution, seed=0, num_classes=None)` -> Generated(images, labels, K)
- `center_crop_arr(pil_image, size)`, `to_rgb(pil_image)`, `open_reader(path)`
- `PAPER_DATASETS`, `resolve_path(name, path, config_key=None)`
"""

from harness.data.generated import BUILTINS, Generated, generate
from harness.data.labels import infer_labels
from harness.data.manifest import dataset_hashes, manifest_path, read_manifest
from harness.data.prepare import prepare_dataset
from harness.data.preprocess import center_crop_arr, preprocess, to_rgb
from harness.data.readers import IMAGE_EXTENSIONS, open_reader
from harness.data.registry import PAPER_DATASETS, config_key_for, resolve_path

# The torch-backed names load on first use, so `harness prepare` starts without torch.
_LAZY = {"ImageDataset", "flip_bit", "read_images"}


def __getattr__(name: str):
    if name in _LAZY:
        from harness.data import dataset

        return getattr(dataset, name)
    raise AttributeError(f"module 'harness.data' has no attribute '{name}'")


__all__ = [
    "BUILTINS",
    "IMAGE_EXTENSIONS",
    "PAPER_DATASETS",
    "Generated",
    "ImageDataset",
    "center_crop_arr",
    "config_key_for",
    "dataset_hashes",
    "flip_bit",
    "generate",
    "infer_labels",
    "manifest_path",
    "open_reader",
    "prepare_dataset",
    "preprocess",
    "read_images",
    "read_manifest",
    "resolve_path",
    "to_rgb",
]
