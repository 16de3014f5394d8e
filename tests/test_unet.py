"""The ADM UNet: parameter counts, guided-diffusion key layout, golden outputs, errors."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from harness.models import DEFAULT_CHANNEL_MULT, create_model
from harness.models.layers import timestep_embedding

GOLDEN_DIR = Path(__file__).parent / "golden"
PAPER = dict(
    image_size=256,
    num_channels=128,
    num_res_blocks=1,
    attention_resolutions="16",
    num_head_channels=64,
    learn_sigma=True,
    resblock_updown=True,
    use_scale_shift_norm=True,
)


def load_golden_module():
    spec = importlib.util.spec_from_file_location(
        "make_golden_unet", GOLDEN_DIR / "make_golden_unet.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


golden = load_golden_module()
GOLDEN = np.load(GOLDEN_DIR / "unet_outputs.npz")


def count(**kwargs) -> int:
    with torch.device("meta"):
        model = create_model(**kwargs)
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (PAPER, 93_563_910),
        (dict(PAPER, class_cond=True), 94_075_910),
        (dict(PAPER, image_size=32, class_cond=True, num_classes=10), 30_473_990),
    ],
    ids=["paper-256", "imagenet-256-cond", "cifar-32-cond"],
)
def test_parameter_counts_match_the_paper_configs(kwargs, expected):
    assert count(**kwargs) == expected


@pytest.mark.parametrize("name", list(golden.CONFIGS))
def test_state_dict_keys_and_shapes_equal_guided_diffusion(name):
    expected = json.loads(str(GOLDEN[f"{name}/keys"]))
    model = create_model(**golden.CONFIGS[name])
    ours = {k: list(v.shape) for k, v in model.state_dict().items()}
    assert list(ours) == list(expected)
    assert ours == expected


@pytest.mark.parametrize("name", list(golden.CONFIGS))
def test_outputs_equal_golden_values_from_the_reference(name):
    config = golden.CONFIGS[name]
    model = create_model(**config).eval()
    golden.fill_params(model, golden.seed_of(name))
    inputs = {k: GOLDEN[f"{name}/{k}"] for k in ("x", "t", "y") if f"{name}/{k}" in GOLDEN}
    np.testing.assert_array_equal(
        inputs["x"], golden.make_inputs(config, golden.seed_of(name))["x"]
    )
    out = golden.run(model, inputs)
    ref = GOLDEN[f"{name}/out"]
    assert out.shape == ref.shape == (2, 6 if config.get("learn_sigma") else 3, 16, 16)
    # rtol 1e-5 plus an atol of 1e-5 of the output scale for entries near zero.
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())


def test_learn_sigma_doubles_output_channels_and_fresh_model_outputs_zero():
    model = create_model(16, 32, 1, channel_mult="1,2", attention_resolutions="8", learn_sigma=True)
    out = model(torch.randn(2, 3, 16, 16), torch.tensor([1, 500]))
    assert out.shape == (2, 6, 16, 16)
    assert torch.count_nonzero(out) == 0  # ADM zero-initialises the output conv


def test_timestep_embedding_is_cos_then_sin_of_geometric_frequencies():
    t = torch.tensor([0.0, 3.0, 999.0])
    emb = timestep_embedding(t, 8)
    freqs = [math.exp(-math.log(10000) * i / 4) for i in range(4)]
    expected = [[math.cos(s * f) for f in freqs] + [math.sin(s * f) for f in freqs] for s in t]
    # float32 angles: 999 * f carries ~1e-4 absolute rounding
    np.testing.assert_allclose(emb.numpy(), np.array(expected), rtol=0, atol=2e-4)
    assert timestep_embedding(t, 7).shape == (3, 7)
    assert torch.all(timestep_embedding(t, 7)[:, -1] == 0)


def test_default_channel_mult_covers_adm_sizes_and_rejects_others():
    assert set(DEFAULT_CHANNEL_MULT) == {32, 64, 128, 256, 512}
    with pytest.raises(ValueError, match=r"unsupported image size: 48.*512, 256, 128, 64, 32"):
        create_model(48, 32, 1)
    with pytest.raises(ValueError, match="channel_mult"):
        create_model(32, 32, 1, channel_mult="1,x")


def test_labels_must_match_class_conditioning():
    cond = create_model(
        16, 32, 1, channel_mult="1,2", attention_resolutions="8", class_cond=True, num_classes=4
    )
    x, t = torch.randn(2, 3, 16, 16), torch.tensor([3, 7])
    with pytest.raises(ValueError, match="class-conditional"):
        cond(x, t)
    with pytest.raises(ValueError, match="shape"):
        cond(x, t, y=torch.tensor([1]))
    assert cond(x, t, y=torch.tensor([0, 3])).shape == (2, 3, 16, 16)
    uncond = create_model(16, 32, 1, channel_mult="1,2", attention_resolutions="8")
    with pytest.raises(ValueError, match="class-conditional"):
        uncond(x, t, y=torch.tensor([0, 1]))


def test_bad_head_split_is_rejected():
    with pytest.raises(ValueError, match="num_head_channels 24"):
        create_model(16, 32, 1, channel_mult="1,2", attention_resolutions="8", num_head_channels=24)


def test_gradient_checkpointing_gives_the_same_gradients():
    kwargs = dict(
        image_size=16,
        num_channels=32,
        num_res_blocks=1,
        channel_mult="1,2",
        attention_resolutions="8",
        use_scale_shift_norm=True,
    )
    plain, ckpt = create_model(**kwargs), create_model(**kwargs, use_checkpoint=True)
    golden.fill_params(plain, 7)
    ckpt.load_state_dict(plain.state_dict())
    x, t = torch.randn(2, 3, 16, 16), torch.tensor([10, 900])
    for model in (plain, ckpt):
        model(x, t).square().mean().backward()
    for (name, a), (_, b) in zip(plain.named_parameters(), ckpt.named_parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-5, atol=1e-6, msg=name)


def test_fp16_torso_keeps_fp32_interface():
    model = create_model(16, 32, 1, channel_mult="1,2", attention_resolutions="8", use_fp16=True)
    golden.fill_params(model, 3)
    model.convert_to_fp16(torch.bfloat16)  # bf16 convs run on every CPU
    x = torch.randn(1, 3, 16, 16)
    out = model(x, torch.tensor([5]))
    assert out.dtype == torch.float32
    assert model.input_blocks[0][0].weight.dtype == torch.bfloat16
    assert model.time_embed[0].weight.dtype == torch.float32
    model.convert_to_fp32()
    ref = model(x, torch.tensor([5]))
    assert torch.allclose(out, ref, rtol=0.1, atol=0.1 * ref.abs().max().item())
