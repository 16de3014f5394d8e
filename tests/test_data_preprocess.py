"""ADM preprocessing: centre crop + resize, colour conversion, normalisation."""

import ast
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from harness.data.preprocess import center_crop_arr, hflip, preprocess, to_model_range, to_rgb


def test_box_halving_then_centre_crop_hand_checked():
    # 6x4 image (W x H), value 10*x + 40*y. Target 2: min side 4 >= 2*2, so one BOX halving
    # to 3x2 (2x2 block means = 25 + 20*c + 80*r), no further resize (scale 1), then the
    # centre crop takes columns (3-2)//2 = 0..1 and rows 0..1.
    x = np.arange(6)[None, :]
    y = np.arange(4)[:, None]
    grey = (10 * x + 40 * y).astype(np.uint8)
    image = Image.fromarray(np.repeat(grey[..., None], 3, axis=2))
    out = center_crop_arr(image, 2)
    assert out.shape == (2, 2, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[..., 0], [[25, 45], [105, 125]])


def test_crop_offsets_and_size_for_wide_and_tall_images():
    # A centred marker survives the crop at the expected place: 12 x 4 image, target 4:
    # no resize (min side == 4), crop columns (12-4)//2 = 4..7.
    arr = np.zeros((4, 12, 3), dtype=np.uint8)
    arr[:, 4:8] = 200
    out = center_crop_arr(Image.fromarray(arr), 4)
    assert (out == 200).all()
    # Tall odd sizes: output is always size x size.
    for w, h, size in [(37, 23, 8), (23, 37, 8), (5, 9, 16), (300, 200, 64)]:
        img = Image.fromarray(np.full((h, w, 3), 77, dtype=np.uint8))
        out = center_crop_arr(img, size)
        assert out.shape == (size, size, 3)
        assert (out == 77).all()  # a constant image stays constant through BOX and BICUBIC


def test_image_at_target_size_is_unchanged():
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, size=(16, 16, 3), dtype=np.uint8)
    np.testing.assert_array_equal(center_crop_arr(Image.fromarray(arr), 16), arr)


def test_rgb_conversions_are_documented_behaviour():
    grey = Image.fromarray(np.full((4, 4), 90, dtype=np.uint8), mode="L")
    assert np.asarray(to_rgb(grey)).tolist() == np.full((4, 4, 3), 90).tolist()
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    rgba[..., 0] = 255  # red, but left half fully transparent
    rgba[:, 2:, 3] = 255
    rgb = np.asarray(to_rgb(Image.fromarray(rgba, mode="RGBA")))
    assert (rgb[:, :2] == 255).all()  # transparent -> white background
    assert (rgb[:, 2:] == [255, 0, 0]).all()
    solid = Image.fromarray(np.full((4, 4, 3), [10, 200, 30], dtype=np.uint8))
    pal = solid.convert("P", palette=Image.Palette.ADAPTIVE)
    assert (np.asarray(to_rgb(pal)) == [10, 200, 30]).all()
    deep = Image.fromarray(np.full((4, 4), 65535, dtype=np.uint16))
    assert (np.asarray(to_rgb(deep)) == 255).all()
    assert to_rgb(Image.fromarray(rgba[..., :2].copy(), mode="LA")).mode == "RGB"


def test_normalisation_matches_adm_and_flip():
    arr = np.array([[[0, 127, 255], [255, 0, 1]]], dtype=np.uint8)  # 1 x 2 x 3
    x = to_model_range(arr)
    assert x.shape == (3, 1, 2) and x.dtype == np.float32
    np.testing.assert_allclose(x[:, 0, 0], [-1.0, 127 / 127.5 - 1, 1.0], rtol=0, atol=1e-7)
    np.testing.assert_array_equal(hflip(arr)[0, 0], arr[0, 1])


def _reference_center_crop():
    root = Path(os.environ.get("HARNESS_REFERENCE_DIR", "/work/ref/openai+guided-diffusion"))
    path = root / "guided_diffusion" / "image_datasets.py"
    if not path.is_file():
        pytest.skip(f"reference not found at {path}")
    # The module imports mpi4py and blobfile; compile only the one function under test.
    tree = ast.parse(path.read_text())
    fn = next(
        n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "center_crop_arr"
    )
    namespace = {"Image": Image, "np": np}
    exec(compile(ast.Module(body=[fn], type_ignores=[]), str(path), "exec"), namespace)
    return namespace["center_crop_arr"]


@pytest.mark.reference
def test_center_crop_equals_guided_diffusion():
    reference = _reference_center_crop()
    rng = np.random.default_rng(1)
    for w, h, size in [(300, 200, 64), (97, 131, 32), (64, 64, 64), (1024, 768, 256), (20, 50, 32)]:
        arr = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        img = Image.fromarray(arr)
        np.testing.assert_array_equal(
            center_crop_arr(img, size), reference(Image.fromarray(arr), size)
        )
        assert preprocess(img, size).shape == (size, size, 3)
