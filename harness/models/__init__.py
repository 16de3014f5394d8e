"""The ADM UNet, built from guided-diffusion's ``create_model`` arguments."""

from __future__ import annotations

from harness.inputs import check_number
from harness.models.unet import UNetModel

# ADM's default channel multipliers per image size (guided-diffusion script_util, plus the
# 32 px entry of the authors' Debias fork used for CIFAR-10).
DEFAULT_CHANNEL_MULT: dict[int, tuple[float, ...]] = {
    512: (0.5, 1, 1, 2, 2, 4, 4),
    256: (1, 1, 2, 2, 4, 4),
    128: (1, 1, 2, 3, 4),
    64: (1, 2, 3, 4),
    32: (1, 2, 2, 2),
}


def parse_channel_mult(image_size: int, channel_mult: str | tuple = "") -> tuple[float, ...]:
    """Channel multipliers: the default for ``image_size`` when "", else "1,2,2" parsed."""
    if isinstance(channel_mult, tuple | list):
        return tuple(channel_mult)
    if channel_mult == "":
        if image_size not in DEFAULT_CHANNEL_MULT:
            sizes = ", ".join(str(s) for s in DEFAULT_CHANNEL_MULT)
            raise ValueError(
                f"unsupported image size: {image_size} has no default channel_mult; "
                f"choose one of {sizes} or pass channel_mult explicitly (e.g. '1,2,2')"
            )
        return DEFAULT_CHANNEL_MULT[image_size]
    try:
        return tuple(int(m) for m in channel_mult.split(","))
    except ValueError:
        raise ValueError(
            f"channel_mult must be comma-separated integers like '1,2,2,2', got {channel_mult!r}"
        ) from None


def attention_rates(image_size: int, attention_resolutions: str) -> tuple[int, ...]:
    """Convert resolutions "16,8" into ADM's downsampling rates (image_size // res)."""
    if attention_resolutions.strip() == "":
        return ()
    try:
        return tuple(image_size // int(r) for r in attention_resolutions.split(","))
    except ValueError:
        raise ValueError(
            "attention_resolutions must be comma-separated integers like '32,16,8', "
            f"got {attention_resolutions!r}"
        ) from None


def create_model(
    image_size: int,
    num_channels: int,
    num_res_blocks: int,
    channel_mult: str = "",
    learn_sigma: bool = False,
    class_cond: bool = False,
    num_classes: int = 1000,
    attention_resolutions: str = "16",
    num_heads: int = 1,
    num_head_channels: int = -1,
    num_heads_upsample: int = -1,
    use_scale_shift_norm: bool = False,
    dropout: float = 0.0,
    resblock_updown: bool = False,
    use_fp16: bool = False,
    use_new_attention_order: bool = False,
    use_checkpoint: bool = False,
) -> UNetModel:
    """ADM's UNet for RGB images, with guided-diffusion's arguments and state-dict keys.

    ``learn_sigma`` doubles the output channels (mean and variance interpolation);
    ``use_fp16`` marks the torso as half precision: call ``model.convert_to_fp16()`` after
    loading weights, as ADM's trainer does. ``use_checkpoint`` trades compute for memory.
    Out-of-range sizes are a ValueError naming the argument (harness.models.check builds the
    whole network on the meta device to find impossible shapes).
    """
    for name, value, least in (("image_size", image_size, 1), ("num_channels", num_channels, 1),
                               ("num_res_blocks", num_res_blocks, 1), ("num_heads", num_heads, 1),
                               ("num_classes", num_classes if class_cond else 1, 1),
                               ("num_head_channels", num_head_channels, -1),
                               ("num_heads_upsample", num_heads_upsample, -1)):
        check_number(name, value, integer=True, minimum=least)
        if least == -1 and value == 0:
            raise ValueError(f"{name} must be -1 (derive from num_heads) or >= 1, got 0")
    check_number("dropout", dropout, minimum=0, exclusive_maximum=1)
    return UNetModel(
        image_size=image_size,
        in_channels=3,
        model_channels=num_channels,
        out_channels=6 if learn_sigma else 3,
        num_res_blocks=num_res_blocks,
        attention_resolutions=attention_rates(image_size, attention_resolutions),
        dropout=dropout,
        channel_mult=parse_channel_mult(image_size, channel_mult),
        num_classes=num_classes if class_cond else None,
        use_checkpoint=use_checkpoint,
        use_fp16=use_fp16,
        num_heads=num_heads,
        num_head_channels=num_head_channels,
        num_heads_upsample=num_heads_upsample,
        use_scale_shift_norm=use_scale_shift_norm,
        resblock_updown=resblock_updown,
        use_new_attention_order=use_new_attention_order,
    )


__all__ = ["DEFAULT_CHANNEL_MULT", "UNetModel", "create_model", "parse_channel_mult"]
