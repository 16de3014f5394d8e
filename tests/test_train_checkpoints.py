"""The EMA checkpoints a training job owes its workflow: rebuilt from the training state after
a kill that lost them, trained in segments that resume each other, and divergence records for
iterations a diverged run never reaches."""

from __future__ import annotations

import pytest
from test_train import make_images, tensors_equal

from harness.checkpoint import divergence_of, load_checkpoint, load_model
from harness.training import TrainConfig, train


def config(tmp_path, **kw) -> TrainConfig:
    common = {"data": str(tmp_path / "data"), "run_dir": str(tmp_path / "run"),
              "image_size": 16, "num_channels": 32, "num_res_blocks": 1, "channel_mult": "1,2",
              "attention_resolutions": "", "batch_size": 4, "lr": 1e-3, "device": "cpu",
              "progress": False, "save_every": 100, "ema_rate": "0.9"}
    return TrainConfig(**{**common, **kw})


def test_checkpoint_lost_after_the_last_state_is_rebuilt_bitwise(tmp_path):
    make_images(tmp_path / "data")
    cfg = config(tmp_path, max_steps=6, eval_iterations=(3, 6))
    train(cfg)
    ckpt = tmp_path / "run" / "ema_0.9_000006.pt"
    original = load_checkpoint(ckpt)
    ckpt.unlink()  # what Snakemake does to the outputs of a job killed before it exited
    assert train(cfg) == {"status": "completed", "step": 6}
    rebuilt = load_checkpoint(ckpt)
    assert tensors_equal(rebuilt.state_dict, original.state_dict)
    assert rebuilt.meta == original.meta and rebuilt.model_config == original.model_config


def test_segments_that_resume_each_other_equal_one_run(tmp_path):
    """One workflow job per checkpoint: max_steps 3 then 6 == one run to 6, bitwise."""
    make_images(tmp_path / "data")
    train(config(tmp_path, max_steps=3, eval_iterations=(3,)))
    train(config(tmp_path, max_steps=6, eval_iterations=(3, 6)))
    whole = config(tmp_path, run_dir=str(tmp_path / "whole"), max_steps=6, eval_iterations=(3, 6))
    train(whole)
    for name in ("ema_0.9_000003.pt", "ema_0.9_000006.pt"):
        assert tensors_equal(load_checkpoint(tmp_path / "run" / name).state_dict,
                             load_checkpoint(tmp_path / "whole" / name).state_dict), name


def test_a_diverged_run_writes_records_for_every_iteration_it_never_reaches(tmp_path):
    make_images(tmp_path / "data")
    first = config(tmp_path, max_steps=4, eval_iterations=(2, 4), fail_at_step=3)
    assert train(first)["status"] == "diverged"
    run = tmp_path / "run"
    assert divergence_of(run / "ema_0.9_000002.pt") is None  # reached before step 3
    assert divergence_of(run / "ema_0.9_000004.pt") == "diverged at step 3"
    with pytest.raises(ValueError, match="holds no weights: its training run diverged at step 3"):
        load_model(run / "ema_0.9_000004.pt")
    # The next segment trains nothing and owes a record too.
    later = config(tmp_path, max_steps=8, eval_iterations=(2, 4, 8), fail_at_step=3)
    assert train(later)["status"] == "diverged"
    assert divergence_of(run / "ema_0.9_000008.pt") == "diverged at step 3"
    assert not (run / "train_state_0000008.pt").exists()
