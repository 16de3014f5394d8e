"""Our UNet against guided-diffusion itself (skipped when the reference is absent)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import torch

from harness.models import create_model

pytestmark = pytest.mark.reference

REF_DIR = Path(os.environ.get("HARNESS_REFERENCE_DIR", "/work/ref/openai+guided-diffusion"))
SMALL = dict(image_size=16, num_channels=32, num_res_blocks=1, channel_mult="1,2")
PAPER = dict(
    image_size=256, num_channels=128, num_res_blocks=1, attention_resolutions="16",
    num_head_channels=64, learn_sigma=True, resblock_updown=True, use_scale_shift_norm=True,
)  # fmt: skip


@pytest.fixture(scope="module")
def reference_create_model():
    if not (REF_DIR / "guided_diffusion" / "unet.py").exists():
        pytest.skip(f"guided-diffusion not found at {REF_DIR} (set HARNESS_REFERENCE_DIR)")
    sys.path.insert(0, str(REF_DIR))
    from guided_diffusion.script_util import create_model

    return create_model


def randomize(model: torch.nn.Module, seed: int) -> None:
    """Random weights everywhere (ADM zero-inits output convs, which would hide errors)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            fan_in = p[0].numel() if p.dim() > 1 else 1
            p.copy_(torch.randn(p.shape, generator=gen) / fan_in**0.5 * (1 if p.dim() > 1 else 0.1))


CASES = {
    "uncond-heads1": dict(SMALL, attention_resolutions="16,8"),
    "uncond-heads2-scaleshift": dict(SMALL, attention_resolutions="8", num_heads=2,
                                     use_scale_shift_norm=True),
    "uncond-headch8-updown": dict(SMALL, attention_resolutions="16", num_head_channels=8,
                                  resblock_updown=True, learn_sigma=True),
    "uncond-neworder-headch16": dict(SMALL, attention_resolutions="16,8", num_head_channels=16,
                                     use_new_attention_order=True, use_scale_shift_norm=True),
    "cond-heads4-up1-updown-scaleshift": dict(
        SMALL, num_res_blocks=2, attention_resolutions="8", num_heads=4, num_heads_upsample=1,
        class_cond=True, resblock_updown=True, use_scale_shift_norm=True, learn_sigma=True),
    "cond-neworder-3levels": dict(SMALL, channel_mult="1,2,2", attention_resolutions="8,4",
                                  num_heads=2, class_cond=True, use_new_attention_order=True),
    "cond-legacy-32px-default-mult": dict(image_size=32, num_channels=32, num_res_blocks=1,
                                          channel_mult="1,2,2,2", attention_resolutions="16",
                                          num_head_channels=16, class_cond=True,
                                          resblock_updown=True, use_scale_shift_norm=True),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CASES))
def test_reference_state_dict_loads_strictly_and_outputs_match(name, reference_create_model):
    kwargs = CASES[name]
    torch.manual_seed(0)
    ref = reference_create_model(**kwargs)
    randomize(ref, seed=len(name))
    ours = create_model(**kwargs)
    ours.load_state_dict(ref.state_dict(), strict=True)
    s = kwargs["image_size"]
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(2, 3, s, s, generator=gen)
    t = torch.tensor([0, 999])
    y = torch.randint(0, 1000, (2,), generator=gen) if kwargs.get("class_cond") else None
    out_ref = ref(x, t, y=y)
    out = ours(x, t, y=y)
    scale = out_ref.abs().max().item()
    torch.testing.assert_close(out, out_ref, rtol=1e-5, atol=1e-5 * scale)
    # Gradients of the same loss agree too (the training step sees the same network).
    out_ref.square().mean().backward()
    out.square().mean().backward()
    ref_grads = {k: p.grad for k, p in ref.named_parameters()}
    # Some gradients are ~1e-10 (cancellations); judge them against the largest gradient.
    atol = 1e-6 * max(g.abs().max().item() for g in ref_grads.values())
    for key, p in ours.named_parameters():
        torch.testing.assert_close(p.grad, ref_grads[key], rtol=1e-4, atol=atol, msg=key)


@pytest.mark.parametrize("class_cond", [False, True])
def test_paper_config_keys_and_shapes_equal_reference(class_cond, reference_create_model):
    with torch.device("meta"):
        ref = reference_create_model(**PAPER, class_cond=class_cond)
        ours = create_model(**PAPER, class_cond=class_cond)
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == [
        (k, v.shape) for k, v in ref.state_dict().items()
    ]


def test_fp16_mode_matches_reference_convert_to_fp16(reference_create_model):
    kwargs = dict(SMALL, attention_resolutions="16,8", num_head_channels=16, class_cond=True,
                  use_scale_shift_norm=True, resblock_updown=True, use_fp16=True)  # fmt: skip
    ref = reference_create_model(**kwargs)
    randomize(ref, seed=5)
    ours = create_model(**kwargs)
    ours.load_state_dict(ref.state_dict(), strict=True)
    ref.convert_to_fp16()
    ours.convert_to_fp16()
    assert {k: v.dtype for k, v in ours.state_dict().items()} == {
        k: v.dtype for k, v in ref.state_dict().items()
    }
    gen = torch.Generator().manual_seed(2)
    x, t, y = torch.randn(2, 3, 16, 16, generator=gen), torch.tensor([3, 800]), torch.tensor([1, 9])
    out_ref, out = ref(x, t, y=y), ours(x, t, y=y)
    assert out.dtype == out_ref.dtype == torch.float32
    # Half-precision torso: agree to fp16 rounding (fp32 vs fp16 differ by ~4e-4 here).
    torch.testing.assert_close(out, out_ref, rtol=0, atol=2e-3 * out_ref.abs().max().item())


def test_plain_reference_state_dict_file_loads_with_load_model(tmp_path, reference_create_model):
    from harness.checkpoint import load_model

    kwargs = CASES["cond-heads4-up1-updown-scaleshift"]
    ref = reference_create_model(**kwargs)
    randomize(ref, seed=11)
    path = tmp_path / "ema_0.9999_000100.pt"
    torch.save(ref.state_dict(), path)
    ours, ckpt = load_model(path, model_config=kwargs)
    assert ckpt.model_config is None
    x, t, y = torch.randn(2, 3, 16, 16), torch.tensor([0, 999]), torch.tensor([5, 7])
    with torch.no_grad():
        out_ref = ref(x, t, y=y)
        torch.testing.assert_close(ours(x, t, y=y), out_ref, rtol=1e-5,
                                   atol=1e-5 * out_ref.abs().max().item())  # fmt: skip
