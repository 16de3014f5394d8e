"""Checkpoints: atomic save, config round trip, mismatch errors, plain ADM state dicts."""

from __future__ import annotations

import pytest
import torch

from harness.checkpoint import FORMAT, load_checkpoint, load_model, save_checkpoint
from harness.models import create_model

MODEL = dict(
    image_size=16, num_channels=32, num_res_blocks=1, channel_mult="1,2",
    attention_resolutions="8", learn_sigma=True, use_scale_shift_norm=True,
)  # fmt: skip
DIFFUSION = dict(steps=1000, noise_schedule="linear", learn_sigma=True, target="eps",
                 weighting="debias")  # fmt: skip


@pytest.fixture
def model():
    torch.manual_seed(0)
    m = create_model(**MODEL)
    with torch.no_grad():
        for p in m.parameters():
            p.add_(0.01 * torch.randn_like(p))
    return m


def test_round_trip_keeps_weights_configs_and_meta(tmp_path, model):
    path = tmp_path / "run" / "ema_0.9999_000200.pt"
    save_checkpoint(path, model.state_dict(), MODEL, DIFFUSION, step=200, ema_rate=0.9999)
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temp file left
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == FORMAT
    loaded, ckpt = load_model(path, expect_diffusion={"target": "eps", "weighting": "debias"})
    assert ckpt.model_config == MODEL and ckpt.diffusion_config == DIFFUSION
    assert ckpt.meta == {"step": 200, "ema_rate": 0.9999}
    x, t = torch.randn(1, 3, 16, 16), torch.tensor([10])
    torch.testing.assert_close(loaded(x, t), model(x, t), rtol=0, atol=0)


def test_config_mismatch_names_each_differing_key(tmp_path, model):
    path = tmp_path / "ckpt.pt"
    save_checkpoint(path, model.state_dict(), MODEL, dict(DIFFUSION, target="x0"))
    with pytest.raises(ValueError) as err:
        load_checkpoint(
            path,
            expect_model={"learn_sigma": False, "image_size": 16},
            expect_diffusion={"target": "eps", "weighting": "debias"},
        )
    message = str(err.value)
    assert "target: checkpoint has 'x0', asked for 'eps'" in message
    assert "learn_sigma: checkpoint has True, asked for False" in message
    assert "image_size" not in message and "weighting" not in message


def test_keys_absent_from_the_stored_config_compare_with_create_model_defaults(tmp_path, model):
    path = tmp_path / "ckpt.pt"
    save_checkpoint(path, model.state_dict(), MODEL, DIFFUSION)
    load_checkpoint(path, expect_model={"class_cond": False, "channel_mult": "1,2"})
    with pytest.raises(ValueError, match="class_cond: checkpoint has False, asked for True"):
        load_checkpoint(path, expect_model={"class_cond": True})


def test_plain_adm_state_dict_loads_strictly_with_a_model_config(tmp_path, model):
    path = tmp_path / "adm.pt"
    torch.save(model.state_dict(), path)
    ckpt = load_checkpoint(path, expect_model=MODEL, expect_diffusion={"target": "eps"})
    assert ckpt.model_config is None and ckpt.diffusion_config is None
    loaded, _ = load_model(path, model_config=MODEL)
    x, t = torch.randn(1, 3, 16, 16), torch.tensor([999])
    torch.testing.assert_close(loaded(x, t), model(x, t), rtol=0, atol=0)
    with pytest.raises(ValueError, match="plain state dict without a model config"):
        load_model(path)


def test_missing_unexpected_and_misshaped_keys_are_listed(tmp_path, model):
    state = model.state_dict()
    state.pop("out.2.bias")
    state["extra.weight"] = torch.zeros(1)
    path = tmp_path / "bad.pt"
    torch.save(state, path)
    with pytest.raises(ValueError) as err:
        load_model(path, model_config=MODEL)
    message = str(err.value)
    assert "missing keys (1): out.2.bias" in message
    assert "unexpected keys (1): extra.weight" in message
    assert "expected" in message and "time_embed.0.weight" in message
    path2 = tmp_path / "wrong_size.pt"
    torch.save(model.state_dict(), path2)
    with pytest.raises(ValueError, match=r"first mismatching key out\.2\.weight .*; most "
                                         r"likely learn_sigma: expected False, checkpoint has "
                                         r"True \(2 mis-shaped, 0 missing"):
        load_model(path2, model_config=dict(MODEL, learn_sigma=False))


def test_unreadable_payloads_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.pt"):
        load_checkpoint(tmp_path / "nothing.pt")
    path = tmp_path / "list.pt"
    torch.save([1, 2, 3], path)
    with pytest.raises(ValueError, match="neither"):
        load_checkpoint(path)
    with pytest.raises(ValueError, match="JSON"):
        save_checkpoint(tmp_path / "x.pt", {}, {"f": object()}, {})
