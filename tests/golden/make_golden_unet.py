"""Regenerate tests/golden/unet_outputs.npz from guided-diffusion (the reference UNet).

Usage (from the repo root):
    HARNESS_REFERENCE_DIR=/path/to/openai+guided-diffusion \
        .venv/bin/python tests/golden/make_golden_unet.py

For each small config in CONFIGS the reference model is built with guided-diffusion's
``create_model``; its parameters are overwritten by ``fill_params(model, seed)``, a
deterministic numpy PCG64 stream (seed = CONFIGS index + 1000) so that no weights need
storing; inputs come from ``make_inputs(config, seed)``. The npz stores, per config name,
the inputs, the float32 CPU outputs, and the state-dict keys and shapes as JSON, so tests
check key compatibility and numerics without the reference.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

GOLDEN = Path(__file__).with_name("unet_outputs.npz")
BASE = dict(image_size=16, num_channels=32, num_res_blocks=1, channel_mult="1,2")
CONFIGS: dict[str, dict] = {
    "uncond_heads2_attn16_8": dict(BASE, attention_resolutions="16,8", num_heads=2),
    "uncond_headch16_updown_scaleshift_sigma": dict(
        BASE,
        attention_resolutions="8",
        num_head_channels=16,
        learn_sigma=True,
        use_scale_shift_norm=True,
        resblock_updown=True,
    ),
    "cond_headch8_neworder_scaleshift": dict(
        BASE,
        channel_mult="1,1,2",
        attention_resolutions="16,8,4",
        num_head_channels=8,
        class_cond=True,
        use_scale_shift_norm=True,
        use_new_attention_order=True,
    ),
    "cond_heads4_up2_neworder_updown_2res": dict(
        BASE,
        num_res_blocks=2,
        attention_resolutions="8",
        num_heads=4,
        num_heads_upsample=2,
        class_cond=True,
        learn_sigma=True,
        resblock_updown=True,
        use_new_attention_order=True,
    ),
    "uncond_heads4_legacy_2res_attn4": dict(
        BASE,
        channel_mult="1,2,2",
        num_res_blocks=2,
        attention_resolutions="16,4",
        num_heads=4,
        use_scale_shift_norm=True,
    ),
}


def seed_of(name: str) -> int:
    """Seed used for a config's weights and inputs."""
    return 1000 + list(CONFIGS).index(name)


def fill_params(model: torch.nn.Module, seed: int) -> None:
    """Overwrite every parameter with N(0, 1/fan_in) weights, ~1 norm gains, ~0.1 biases.

    ADM zero-initialises output convs; random values make every parameter matter.
    """
    rng = np.random.Generator(np.random.PCG64(seed))
    state = model.state_dict()
    for key in sorted(state):
        shape = tuple(state[key].shape)
        z = rng.standard_normal(shape)
        if len(shape) > 1:
            value = z / np.sqrt(np.prod(shape[1:]))
        elif key.endswith("weight"):
            value = 1.0 + 0.1 * z
        else:
            value = 0.1 * z
        state[key] = torch.from_numpy(value.astype(np.float32))
    model.load_state_dict(state, strict=True)


def make_inputs(config: dict, seed: int, batch: int = 2) -> dict[str, np.ndarray]:
    """Inputs x [B,3,S,S], integer timesteps t, labels y (class-conditional configs only)."""
    rng = np.random.Generator(np.random.PCG64(seed + 1))
    s = config["image_size"]
    out = {
        "x": rng.standard_normal((batch, 3, s, s)).astype(np.float32),
        "t": rng.integers(0, 1000, size=batch).astype(np.int64),
    }
    if config.get("class_cond"):
        out["y"] = rng.integers(0, config.get("num_classes", 1000), size=batch).astype(np.int64)
    return out


def run(model: torch.nn.Module, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """Float32 CPU forward pass of ``model`` on ``inputs``."""
    kwargs = {"y": torch.from_numpy(inputs["y"])} if "y" in inputs else {}
    with torch.no_grad():
        return model(torch.from_numpy(inputs["x"]), torch.from_numpy(inputs["t"]), **kwargs).numpy()


def main() -> None:
    ref_dir = os.environ.get("HARNESS_REFERENCE_DIR", "/work/ref/openai+guided-diffusion")
    sys.path.insert(0, ref_dir)
    from guided_diffusion.script_util import create_model as reference_create_model

    arrays: dict[str, np.ndarray] = {}
    for name, config in CONFIGS.items():
        torch.manual_seed(0)
        model = reference_create_model(**config).eval()
        fill_params(model, seed_of(name))
        inputs = make_inputs(config, seed_of(name))
        for k, v in inputs.items():
            arrays[f"{name}/{k}"] = v
        arrays[f"{name}/out"] = run(model, inputs)
        shapes = {k: list(v.shape) for k, v in model.state_dict().items()}
        arrays[f"{name}/keys"] = np.array(json.dumps(shapes))
    arrays["meta"] = np.array(
        json.dumps(
            {
                "reference": ref_dir,
                "torch": torch.__version__,
                "configs": CONFIGS,
            }
        )
    )
    np.savez_compressed(GOLDEN, **arrays)
    print(f"wrote {GOLDEN} ({GOLDEN.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
