"""ADM's image preprocessing: colour conversion, centre crop + resize, horizontal flip.

`center_crop_arr` follows guided-diffusion's `image_datasets.center_crop_arr` step for step,
so that images reach the network with exactly the pixels ADM (and the paper) trained on:

1. while the shorter side is at least twice the target size, halve both sides (integer
   division) with a BOX filter (ADM does this by hand because old PIL lacked `reducing_gap`);
2. resize with BICUBIC so that the shorter side equals the target size (other side rounded);
3. take the centred `size x size` crop (offsets rounded down).

An image already at `size x size` passes through unchanged. EXIF orientation tags are
ignored, as in ADM (pixels are used as stored).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

# Background used when an image carries transparency. ADM calls `convert("RGB")`, which
# drops the alpha channel and exposes whatever colour transparent pixels happen to store
# (often black); we composite on white instead so that transparent regions look like the
# page they were drawn on. For opaque images both rules give identical pixels.
ALPHA_BACKGROUND = (255, 255, 255)


def to_rgb(image: Image.Image) -> Image.Image:
    """Return an 8-bit RGB copy of `image`.

    Greyscale (L, 1, I, I;16, F) is replicated to three channels (16-bit scaled by 255/65535,
    float in [0, 1] by 255); palette images are expanded;
    images with transparency (RGBA, LA, PA, P with a transparent index) are alpha-composited
    on `ALPHA_BACKGROUND` (white). CMYK/YCbCr use PIL's standard conversion.
    """
    mode = image.mode
    if mode == "RGB":
        return image.copy()
    has_alpha = mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        mode == "P" and "transparency" in image.info
    )
    if has_alpha:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, ALPHA_BACKGROUND + (255,))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        # 16-bit/float greyscale: PIL's convert("L") clips instead of scaling; scale to 8 bit.
        arr = np.asarray(image, dtype=np.float64)
        top = arr.max(initial=0)
        if mode.startswith("I;16") or (mode == "I" and top > 255):
            peak = 65535.0
        elif mode == "F" and top <= 1.0:
            peak = 1.0
        else:
            peak = 255.0
        arr8 = np.clip(np.rint(arr * (255.0 / peak)), 0, 255).astype(np.uint8)
        return Image.fromarray(arr8, mode="L").convert("RGB")
    return image.convert("RGB")


def center_crop_arr(image: Image.Image, image_size: int) -> np.ndarray:
    """ADM's centre crop + resize of a PIL image to `image_size`; returns uint8 HWC."""
    if image_size < 1:
        raise ValueError(f"image_size must be >= 1, got {image_size}")
    while min(*image.size) >= 2 * image_size:
        image = image.resize(tuple(side // 2 for side in image.size), resample=Image.BOX)
    scale = image_size / min(*image.size)
    image = image.resize(tuple(round(side * scale) for side in image.size), resample=Image.BICUBIC)
    arr = np.asarray(image)
    top = (arr.shape[0] - image_size) // 2
    left = (arr.shape[1] - image_size) // 2
    return np.ascontiguousarray(arr[top : top + image_size, left : left + image_size])


def preprocess(image: Image.Image, image_size: int) -> np.ndarray:
    """Convert to RGB, then ADM centre crop + resize; returns uint8 array (size, size, 3)."""
    return center_crop_arr(to_rgb(image), image_size)


def to_model_range(arr: np.ndarray) -> np.ndarray:
    """uint8 HWC -> float32 CHW in [-1, 1], ADM's normalisation `arr / 127.5 - 1`."""
    return np.transpose(arr.astype(np.float32) / 127.5 - 1, (2, 0, 1))


def hflip(arr: np.ndarray) -> np.ndarray:
    """Mirror an HWC array left-right (ADM's `arr[:, ::-1]`)."""
    return np.ascontiguousarray(arr[:, ::-1])
