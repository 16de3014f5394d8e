"""Folder/zip readers, label conventions and ImageDataset."""

import pickle
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from harness.data import ImageDataset, flip_bit, read_images
from harness.data.labels import infer_labels
from harness.data.readers import open_reader


def _save(path, arr, fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path, format=fmt)


def _solid(value, size=(8, 8)):
    return np.full(size + (3,), value, dtype=np.uint8)


def test_folder_reader_is_recursive_sorted_and_filters_extensions(tmp_path):
    _save(tmp_path / "b" / "z.png", _solid(1))
    _save(tmp_path / "a.JPG", _solid(2), "JPEG")
    _save(tmp_path / "b" / "c" / "y.webp", _solid(3), "WEBP")
    _save(tmp_path / "b" / "x.jpeg", _solid(4), "JPEG")
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / ".hidden.png").write_bytes(b"")
    reader = open_reader(tmp_path)
    assert reader.names == ["a.JPG", "b/c/y.webp", "b/x.jpeg", "b/z.png"]


def test_zip_reader_matches_folder_reader(tmp_path):
    src = tmp_path / "imgs"
    for i, name in enumerate(["k/2.png", "k/10.png", "a.png"]):
        _save(src / name, _solid(10 * i))
    zpath = tmp_path / "imgs.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        for name in ["k/2.png", "a.png", "k/10.png"]:
            z.write(src / name, name)
        z.writestr("__MACOSX/._a.png", b"junk")
    folder, zipped = open_reader(src), open_reader(zpath)
    assert folder.names == zipped.names == ["a.png", "k/10.png", "k/2.png"]
    for name in folder.names:
        assert folder.read_bytes(name) == zipped.read_bytes(name)
    a = ImageDataset(src, 8)
    b = pickle.loads(pickle.dumps(ImageDataset(zpath, 8)))  # as sent to DataLoader workers
    for i in range(len(a)):
        assert torch.equal(a[i][0], b[i][0])


def test_empty_folder_is_an_error_naming_it(tmp_path):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    with pytest.raises(ValueError, match="no images found in folder .*empty"):
        ImageDataset(tmp_path / "empty", 8)
    with pytest.raises(FileNotFoundError, match="missing"):
        open_reader(tmp_path / "missing")


def test_corrupt_image_error_names_the_file(tmp_path):
    _save(tmp_path / "good.png", _solid(5))
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    good = (tmp_path / "good.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(good[: len(good) // 2])
    ds = ImageDataset(tmp_path, 8)
    with pytest.raises(ValueError, match=r"bad\.png"):
        ds[0]
    with pytest.raises(ValueError, match=r"cut\.png"):
        ds[1]
    with pytest.raises(ValueError, match=r"bad\.png"):
        ImageDataset(tmp_path, 8, cache=True)


def test_labels_from_subfolders_and_prefixes():
    labels, classes = infer_labels(["dog/1.png", "cat/2.png", "dog/x/3.png"])
    assert classes == ["cat", "dog"] and labels == [1, 0, 1]
    labels, classes = infer_labels(["truck_00001.png", "airplane_0.png", "d/bird_x.png"], "prefix")
    assert classes == ["airplane", "bird", "truck"] and labels == [2, 0, 1]
    # ADM's rule with our numeric prefixes keeps the integer (no "10" < "2" renumbering).
    labels, _ = infer_labels(["10_000000.png", "2_000001.png", "0_000002.png"])
    assert labels == [10, 2, 0]
    # ImageNet layout: both conventions agree on synset order.
    names = ["n02/n02_7.JPEG", "n01/n01_3.JPEG"]
    assert infer_labels(names, "subfolder") == infer_labels(names, "prefix")


def test_class_cond_without_labels_is_a_clear_error(tmp_path):
    _save(tmp_path / "img1.png", _solid(1))
    _save(tmp_path / "img2.png", _solid(2))
    ImageDataset(tmp_path, 8)  # fine unconditionally
    with pytest.raises(ValueError, match="needs labels"):
        ImageDataset(tmp_path, 8, class_cond=True)
    with pytest.raises(ValueError, match="not inside a class folder"):
        ImageDataset(tmp_path, 8, class_cond=True, labels="subfolder")
    with pytest.raises(ValueError, match="unknown label mode"):
        ImageDataset(tmp_path, 8, class_cond=True, labels="folders")


def test_dataset_items_mixed_sizes_and_modes(tmp_path):
    rng = np.random.default_rng(0)
    _save(tmp_path / "cat" / "big.png", rng.integers(0, 256, (40, 30, 3), dtype=np.uint8))
    _save(tmp_path / "cat" / "small.jpg", rng.integers(0, 256, (5, 9, 3), dtype=np.uint8))
    (tmp_path / "dog").mkdir()
    Image.fromarray(np.full((20, 20), 128, dtype=np.uint8), "L").save(tmp_path / "dog" / "g.png")
    rgba = np.zeros((16, 16, 4), dtype=np.uint8)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "dog" / "t.png")
    ds = ImageDataset(tmp_path, 16, class_cond=True)
    assert len(ds) == 4 and ds.num_classes == 2 and ds.classes == ["cat", "dog"]
    xs = [ds[i] for i in range(4)]
    for x, kw in xs:
        assert x.shape == (3, 16, 16) and x.dtype == torch.float32
        assert x.min() >= -1 and x.max() <= 1
        assert kw["y"].dtype == torch.int64
    assert [int(kw["y"]) for _, kw in xs] == [0, 0, 1, 1]
    grey = torch.full((3, 16, 16), 128 / 127.5 - 1)
    assert torch.allclose(xs[2][0], grey, atol=1e-6)  # greyscale -> RGB
    assert torch.equal(xs[3][0], torch.ones(3, 16, 16))  # transparent -> white
    batch = torch.utils.data.default_collate(xs)
    assert batch[0].shape == (4, 3, 16, 16) and batch[1]["y"].tolist() == [0, 0, 1, 1]
    images, labels = read_images(tmp_path, 16, class_cond=True, progress=False)
    assert images.shape == (4, 16, 16, 3) and labels.tolist() == [0, 0, 1, 1]
    with pytest.raises(ValueError, match="num_classes"):
        ImageDataset(tmp_path, 16, class_cond=True, num_classes=1)


def test_flips_are_seeded_not_global(tmp_path):
    arr = np.zeros((8, 8, 3), dtype=np.uint8)
    arr[:, :4] = 255  # left half white
    for i in range(16):
        _save(tmp_path / f"{i:02d}.png", arr)
    plain = ImageDataset(tmp_path, 8)
    flips = ImageDataset(tmp_path, 8, random_flip=True, flip_seed=3)
    bits = [flip_bit(3, 0, i) for i in range(16)]
    assert 0 < sum(bits) < 16
    torch.manual_seed(0)
    first = [flips[i][0] for i in range(16)]
    torch.manual_seed(123)  # global RNG state has no influence
    assert all(torch.equal(a, flips[i][0]) for i, a in enumerate(first))
    for i, x in enumerate(first):
        expected = plain[i][0].flip(-1) if bits[i] else plain[i][0]
        assert torch.equal(x, expected)
    flips.set_epoch(1)
    assert [flip_bit(3, 1, i) for i in range(16)] != bits
    assert torch.equal(plain[(0, True)][0], plain[0][0].flip(-1))  # caller-drawn flip


def test_dataloader_workers_read_a_zip(tmp_path):
    zpath = tmp_path / "d.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        for i in range(8):
            img = Image.fromarray(_solid(30 * i))
            path = tmp_path / f"{i}_x.png"
            img.save(path)
            z.write(path, f"{i}_x.png")
    ds = ImageDataset(zpath, 8, class_cond=True, random_flip=True)
    loader = torch.utils.data.DataLoader(ds, batch_size=4, num_workers=2)
    xs, ys = zip(*[(x, kw["y"]) for x, kw in loader], strict=True)
    assert torch.cat(ys).tolist() == list(range(8))
    expected = torch.stack([ds[i][0] for i in range(8)])
    assert torch.equal(torch.cat(xs), expected)  # same flips in workers as in the parent
