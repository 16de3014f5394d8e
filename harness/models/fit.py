"""Which create_model flag a state dict contradicts: the flags its tensors show, read off the key
layout and shapes guided-diffusion gives every UNet, compared with the flags asked for.

The tensors show num_channels (the time embedding's input width), learn_sigma (the output
channels), class_cond and num_classes (the label embedding), use_scale_shift_norm (the
embedding projection's width), resblock_updown (residual or convolutional resampling),
num_res_blocks and channel_mult (the blocks per level and their widths) and the levels with
attention. num_heads, num_head_channels, dropout and use_fp16 leave no trace in them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# The order in which a mismatch is blamed on a flag: the plainest explanation first.
FLAG_ORDER = ("num_channels", "learn_sigma", "class_cond", "num_classes", "use_scale_shift_norm",
              "resblock_updown", "num_res_blocks", "channel_mult", "attention_resolutions")


def _blocks(keys: list[str], part: str) -> dict[int, set[str]]:
    """`part` block index -> the key suffixes under it (input_blocks.3.0.op.weight -> 0.op...)."""
    out: dict[int, set[str]] = {}
    for key in keys:
        m = re.match(rf"{part}\.(\d+)\.(.*)$", key)
        if m:
            out.setdefault(int(m.group(1)), set()).add(m.group(2))
    return out


def shown_flags(state_dict: Mapping[str, Any]) -> dict[str, Any] | None:
    """The flags the tensors of an ADM UNet state dict show (module docstring); None when its
    keys are not an ADM UNet's. Attention is given as the downsampling rates that have it."""
    keys = list(state_dict)
    try:
        num_channels = int(state_dict["time_embed.0.weight"].shape[1])
        out_channels = int(state_dict["out.2.weight"].shape[0])
        inputs, outputs = _blocks(keys, "input_blocks"), _blocks(keys, "output_blocks")
        downs = [i for i, parts in inputs.items() if "0.op.weight" in parts]
        ups = [k for k, parts in outputs.items()
               if any(re.match(r"[12]\.(in_layers|conv)\.", p) for p in parts)]
        levels = len(ups) + 1
        per_level = len(outputs) // levels  # num_res_blocks + 1 blocks per level
        widths = [int(state_dict[f"input_blocks.{1 + level * per_level}.0.out_layers.3.weight"]
                      .shape[0]) for level in range(levels)]
        emb = state_dict["input_blocks.1.0.emb_layers.1.weight"].shape[0]
    except (KeyError, IndexError, AttributeError, ZeroDivisionError):
        return None
    attention = sorted({2 ** ((i - 1) // per_level) for i, parts in inputs.items()
                        if i > 0 and "1.qkv.weight" in parts})
    label = state_dict.get("label_emb.weight")
    return {
        "num_channels": num_channels,
        "learn_sigma": out_channels == 6,
        "class_cond": label is not None,
        "num_classes": None if label is None else int(label.shape[0]),
        "use_scale_shift_norm": int(emb) == 2 * widths[0],
        "resblock_updown": levels > 1 and not downs,
        "num_res_blocks": per_level - 1,
        "channel_mult": ",".join(f"{w / num_channels:g}" for w in widths),
        "attention_rates": attention,
    }


def _resolutions(rates: list[int], image_size: int) -> str:
    return ",".join(str(image_size // r) for r in sorted(rates))


def likely_flag(expected: Mapping[str, Any], found: Mapping[str, Any],
                image_size: int) -> str | None:
    """'flag: expected X, checkpoint has Y' for the first flag (FLAG_ORDER) in which two
    `shown_flags` results differ; None when they agree."""
    for flag in FLAG_ORDER:
        if flag == "attention_resolutions":
            want = _resolutions(expected["attention_rates"], image_size)
            have = _resolutions(found["attention_rates"], image_size)
            want, have = repr(want), repr(have)
        else:
            want, have = expected[flag], found[flag]
            if flag == "num_classes" and not (expected["class_cond"] and found["class_cond"]):
                continue
            if flag == "channel_mult":
                want, have = repr(want), repr(have)
        if want != have:
            return f"{flag}: expected {want}, checkpoint has {have}"
    return None
