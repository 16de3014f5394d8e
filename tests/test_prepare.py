"""`prepare_dataset` and `harness prepare`: outputs, manifest, hashes, idempotence, errors."""

import json
import zipfile

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from harness.cli import main
from harness.data import ImageDataset, dataset_hashes, generate, prepare_dataset, read_images
from harness.data.manifest import manifest_path
from harness.data.registry import PAPER_DATASETS, resolve_path


def test_builtin_folder_layout_and_manifest(tmp_path):
    out = tmp_path / "data" / "shapes"
    m = prepare_dataset("shapes", "builtin:colorshapes", 16, out, count=30, seed=4, progress=False)
    assert sorted(p.name for p in out.iterdir()) == [f"{i:06d}.png" for i in range(30)]
    on_disk = json.loads((tmp_path / "data" / "shapes.json").read_text())
    assert on_disk == m
    for key, value in {
        "dataset": "shapes", "source": "builtin:colorshapes", "count": 30, "resolution": 16,
        "class_cond": False, "num_classes": None, "seed": 4, "format": "folder",
    }.items():
        assert m[key] == value
    assert len(m["sha256"]) == 64 and len(m["pixel_sha256"]) == 64
    assert dataset_hashes(out) == {k: m[k] for k in ("count", "sha256", "pixel_sha256")}
    images, _ = read_images(out, progress=False)  # PNGs hold exactly the generated pixels
    np.testing.assert_array_equal(images, generate("colorshapes", 30, 16, seed=4).images)
    assert not (tmp_path / "data" / "shapes.tmp").exists()
    assert "source_details" not in m


def test_photopatches_manifest_names_the_photographs_and_every_crop(tmp_path):
    m = prepare_dataset("patches", "builtin:photopatches", 16, tmp_path / "p", count=5,
                        progress=False)
    details = m["source_details"]
    assert [p["name"] for p in details["photographs"]] == [
        "china.jpg", "flower.jpg", "grace_hopper.jpg"]
    assert all(len(p["sha256"]) == 64 for p in details["photographs"])
    assert len(details["crops"]) == 5 and set(details["crops"][0]) == {"photo", "x", "y"}


def test_hash_is_stable_and_folder_equals_zip(tmp_path):
    kw = {"count": 24, "seed": 0, "class_cond": True, "progress": False}
    a = prepare_dataset("sc", "builtin:shapeclasses", 16, tmp_path / "a", **kw)
    b = prepare_dataset("sc", "builtin:shapeclasses", 16, tmp_path / "b", **kw)
    z = prepare_dataset("sc", "builtin:shapeclasses", 16, tmp_path / "z.zip", fmt="zip", **kw)
    assert a["sha256"] == b["sha256"] == z["sha256"]
    assert a["pixel_sha256"] == z["pixel_sha256"]
    assert manifest_path(tmp_path / "z.zip") == tmp_path / "z.json"
    prepare_dataset("sc", "builtin:shapeclasses", 16, tmp_path / "z2.zip", fmt="zip", **kw)
    assert (tmp_path / "z.zip").read_bytes() == (tmp_path / "z2.zip").read_bytes()
    assert zipfile.ZipFile(tmp_path / "z.zip").namelist()[0] == "0_000000.png"
    assert (tmp_path / "a" / "3_000003.png").is_file()
    da, dz = ImageDataset(tmp_path / "a", 16, True), ImageDataset(tmp_path / "z.zip", 16, True)
    assert da.num_classes == 10
    for i in range(len(da)):
        xa, ya = da[i]
        xz, yz = dz[i]
        assert torch.equal(xa, xz) and int(ya["y"]) == int(yz["y"])
    labels = generate("shapeclasses", 24, 16).labels
    assert sorted(int(da[i][1]["y"]) for i in range(len(da))) == sorted(labels.tolist())
    assert a["class_counts"] == np.bincount(labels, minlength=10).tolist()


def test_idempotent_and_refuses_a_different_request(tmp_path):
    out = tmp_path / "d"
    first = prepare_dataset("d", "builtin:colorshapes", 8, out, count=5, progress=False)
    stamp = (out / "000000.png").stat().st_mtime_ns
    again = prepare_dataset("d", "builtin:colorshapes", 8, out, count=5, verify=True)
    assert again == first and (out / "000000.png").stat().st_mtime_ns == stamp
    with pytest.raises(ValueError, match="count: existing 5, asked 6"):
        prepare_dataset("d", "builtin:colorshapes", 8, out, count=6, progress=False)
    (out / "000001.png").write_bytes((out / "000000.png").read_bytes())
    with pytest.raises(ValueError, match="does not match its manifest"):
        prepare_dataset("d", "builtin:colorshapes", 8, out, count=5, verify=True)
    (tmp_path / "foreign").mkdir()
    with pytest.raises(ValueError, match="has no manifest"):
        prepare_dataset("f", "builtin:colorshapes", 8, tmp_path / "foreign", count=2)
    (tmp_path / "new.tmp").mkdir()  # a user's folder that merely looks like debris: kept
    (tmp_path / "new.tmp" / "keep.txt").write_text("user data")
    prepare_dataset("n", "builtin:colorshapes", 8, tmp_path / "new", count=2, progress=False)
    assert (tmp_path / "new.tmp" / "keep.txt").read_text() == "user data"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".harness-tmp")]


def _photo_folder(root, class_dirs=False):
    rng = np.random.default_rng(0)
    sizes = [(40, 30), (64, 64), (20, 50), (33, 17)]  # mixed sizes, some smaller than 16*2
    for i, (w, h) in enumerate(sizes):
        sub = root / (f"c{i % 2}" if class_dirs else "")
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(sub / f"p{i}.png")
    Image.fromarray(np.full((24, 24), 9, dtype=np.uint8), "L").save(root / "grey.jpg")


def test_folder_source_mixed_sizes_subset_and_labels(tmp_path):
    _photo_folder(tmp_path / "src")
    m = prepare_dataset("mine", str(tmp_path / "src"), 16, tmp_path / "out", progress=False)
    assert m["count"] == 5 and m["source_location"] == str((tmp_path / "src").resolve())
    images, _ = read_images(tmp_path / "out", progress=False)
    assert images.shape == (5, 16, 16, 3)
    sub = prepare_dataset("mine", str(tmp_path / "src"), 16, tmp_path / "sub", count=3, seed=1)
    assert sub["count"] == 3
    with pytest.raises(ValueError, match="needs labels"):
        prepare_dataset("mine", str(tmp_path / "src"), 16, tmp_path / "cc", class_cond=True)
    assert not (tmp_path / "cc").exists() and not manifest_path(tmp_path / "cc").exists()
    _photo_folder(tmp_path / "cls", class_dirs=True)
    (tmp_path / "cls" / "grey.jpg").unlink()
    m = prepare_dataset("mine", str(tmp_path / "cls"), 16, tmp_path / "cls_out", class_cond=True)
    assert m["class_names"] == ["c0", "c1"] and m["num_classes"] == 2
    assert sorted(p.name for p in (tmp_path / "cls_out").iterdir())[0] == "0_000000.png"


def test_corrupt_image_stops_prepare_and_leaves_nothing(tmp_path):
    _photo_folder(tmp_path / "src")
    (tmp_path / "src" / "broken.png").write_bytes(b"garbage")
    with pytest.raises(ValueError, match=r"broken\.png"):
        prepare_dataset("x", str(tmp_path / "src"), 16, tmp_path / "out", progress=False)
    # Nothing of the dataset: only its (released) lock file, which stays, as locks do.
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.lock", "src"]


def test_paper_dataset_paths_and_missing_key(tmp_path):
    assert set(PAPER_DATASETS) == {"ffhq", "celebahq", "afhqdog", "metfaces", "cifar10", "imagenet"}
    assert PAPER_DATASETS["metfaces"].count == 1336 and PAPER_DATASETS["cifar10"].num_classes == 10
    with pytest.raises(ValueError, match=r"dataset 'ffhq'.*datasets\.ffhq\.path"):
        prepare_dataset("ffhq", None, 16, tmp_path / "o")
    with pytest.raises(ValueError, match=r"dataset 'metfaces'.*'/nowhere/mf'.*data_root"):
        prepare_dataset("metfaces", "/nowhere/mf", 16, tmp_path / "o", config_key="data_root")
    (tmp_path / "afhq" / "train" / "dog").mkdir(parents=True)
    assert resolve_path("afhqdog", tmp_path / "afhq") == tmp_path / "afhq" / "train" / "dog"
    with pytest.raises(ValueError, match="needs a download/cache folder"):
        prepare_dataset("cifar10", "torchvision:cifar10", 32, tmp_path / "o")
    with pytest.raises(ValueError, match="has no labels"):
        prepare_dataset("s", "builtin:colorshapes", 16, tmp_path / "o", class_cond=True)


def test_cli_prepare(tmp_path):
    out = tmp_path / "digits"
    args = ["prepare", "--dataset", "digits", "--source", "builtin:digits", "--resolution", "8",
            "--out", str(out), "--count", "50", "--class-cond", "--num-classes", "4"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["count"] == 50 and summary["num_classes"] == 4
    labels = {int(p.name.split("_")[0]) for p in out.iterdir()}
    assert labels <= {0, 1, 2, 3}
    result = CliRunner().invoke(main, ["prepare", "--dataset", "ffhq", "--resolution", "16",
                                       "--out", str(tmp_path / "f"), "--config-key", "data_root"])
    assert result.exit_code != 0 and "data_root" in result.output and "ffhq" in result.output


def test_cli_prepare_keeps_torchvision_downloads_in_the_user_cache(tmp_path, monkeypatch):
    """Without --cache-dir (as the workflow runs it), CIFAR-10 goes to ~/.cache/harness."""
    import torchvision.datasets

    roots = []

    class FakeCIFAR10:  # torchvision's reader without the network: 6 images, 2 classes
        classes = ["airplane", "automobile"]

        def __init__(self, root, train, download):
            roots.append(root)
            self.data = np.random.default_rng(0).integers(0, 256, (6, 32, 32, 3), np.uint8)
            self.targets = [0, 1, 0, 1, 0, 1]

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", FakeCIFAR10)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(main, ["prepare", "--dataset", "cifar10", "--source",
                                       "torchvision:cifar10", "--resolution", "32", "--out",
                                       str(tmp_path / "c"), "--class-cond"])
    assert result.exit_code == 0, result.output
    assert roots == [str(tmp_path / "home" / ".cache" / "harness" / "torchvision")]
    assert json.loads(result.stdout.strip().splitlines()[-1])["count"] == 6


def test_workers_give_identical_output_and_name_corrupt_files(tmp_path):
    _photo_folder(tmp_path / "src")
    for i in range(6):
        grey = np.full((30, 20, 3), 20 * i, dtype=np.uint8)
        Image.fromarray(grey).save(tmp_path / "src" / f"q{i}.png")
    one = prepare_dataset("w", str(tmp_path / "src"), 8, tmp_path / "one", progress=False)
    two = prepare_dataset("w", str(tmp_path / "src"), 8, tmp_path / "two", workers=2)
    assert one["sha256"] == two["sha256"] and one["count"] == two["count"] == 11
    (tmp_path / "src" / "q3.png").write_bytes(b"garbage")
    with pytest.raises(ValueError, match=r"q3\.png"):
        prepare_dataset("w", str(tmp_path / "src"), 8, tmp_path / "three", workers=2)
    assert not (tmp_path / "three").exists() and not (tmp_path / "three.tmp").exists()


def test_dataset_takes_num_classes_from_manifest(tmp_path):
    out = tmp_path / "few"
    prepare_dataset("few", "builtin:shapeclasses", 8, out, count=5, class_cond=True,
                    progress=False)
    ds = ImageDataset(out, 8, class_cond=True)
    assert ds.num_classes == 10 and ds.labels.tolist() == [0, 1, 2, 3, 4]


def test_sixteen_bit_greyscale_png_is_scaled(tmp_path):
    (tmp_path / "s").mkdir()
    Image.fromarray(np.full((8, 8), 32896, dtype=np.uint16)).save(tmp_path / "s" / "deep.png")
    images, _ = read_images(tmp_path / "s", 8, progress=False)
    assert (images == 128).all()


def test_rerun_with_unused_num_classes_is_still_idempotent(tmp_path):
    # The workflow may pass --num-classes for an unconditional set; a rerun must not refuse.
    kw = {"count": 3, "num_classes": 5, "progress": False}
    first = prepare_dataset("u", "builtin:colorshapes", 8, tmp_path / "u", **kw)
    assert first["num_classes"] is None and first["request"]["num_classes"] == 5
    assert prepare_dataset("u", "builtin:colorshapes", 8, tmp_path / "u", **kw) == first
    with pytest.raises(ValueError, match="seed: existing 0, asked 1"):
        prepare_dataset("u", "builtin:colorshapes", 8, tmp_path / "u", seed=1, **kw)
