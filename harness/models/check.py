"""A model configuration checked before anything is written: the UNet is built on the meta
device (no memory, no arithmetic) and one image's shapes are pushed through it, so that a
channel count, head size, channel_mult or image size that cannot work fails in a second, as a
ValueError naming the configuration, instead of after a run directory exists."""

from __future__ import annotations

import warnings
from typing import Any

import torch

from harness.models import create_model


def check_model_config(config: dict[str, Any], what: str = "model config") -> None:
    """ValueError (naming `what` and the reason) unless `config` builds a working UNet."""
    try:
        with warnings.catch_warnings(), torch.device("meta"):
            warnings.simplefilter("ignore")  # "zero-element tensors" and the like, on meta
            model = create_model(**config)
            size = int(config["image_size"])
            y = torch.zeros(1, dtype=torch.long) if config.get("class_cond") else None
            out = model(torch.empty(1, 3, size, size), torch.zeros(1, dtype=torch.long), y=y)
    except ValueError as err:
        raise ValueError(f"{what}: {err}") from None
    except (TypeError, KeyError) as err:
        raise ValueError(f"{what} is not a set of create_model arguments: {err}") from None
    except Exception as err:  # noqa: BLE001 - whatever the layers say about impossible shapes
        raise ValueError(f"{what} does not make a working UNet "
                         f"({type(err).__name__}: {err}); check image_size, channel_mult, "
                         "num_channels and the attention heads") from None
    if tuple(out.shape[2:]) != (size, size):
        raise ValueError(f"{what}: the UNet maps {size} px inputs to {tuple(out.shape[2:])}; "
                         "check image_size against channel_mult")
