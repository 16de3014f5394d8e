"""Pieces of the training loop: seeds, per-step batches, EMA, log, options, state files."""

from __future__ import annotations

import csv
import random

import numpy as np
import pytest
import torch

from harness.runtime import seeds
from harness.training.batches import StepBatches, step_draws
from harness.training.config import TrainConfig, differing_options
from harness.training.ema import EMA
from harness.training.log import LossLog
from harness.training.state import (
    capture_rng,
    list_states,
    load_newest_state,
    restore_rng,
    save_state,
)


def test_derived_seeds_are_stable_distinct_and_in_range():
    a = seeds.derive_seed(0, seeds.STEP_NOISE, 0, 5)
    assert a == seeds.derive_seed(0, seeds.STEP_NOISE, 0, 5)
    assert 0 <= a < 2**63
    others = {seeds.derive_seed(0, seeds.STEP_NOISE, 0, s) for s in range(200)}
    assert len(others) == 200
    assert a != seeds.derive_seed(0, seeds.FLIPS, 0, 5) != seeds.derive_seed(1, seeds.FLIPS, 0, 5)
    with pytest.raises(ValueError, match="non-negative"):
        seeds.derive_seed(-1)


def test_step_batches_cover_each_epoch_without_replacement():
    plan = StepBatches(10, 3, seed=1, stop=9)
    assert plan.steps_per_epoch == 3  # 10 // 3, the last image of each epoch is dropped
    epoch0 = [i for s in range(3) for i, _ in plan.items(s)]
    epoch1 = [i for s in range(3, 6) for i, _ in plan.items(s)]
    assert len(set(epoch0)) == 9 and len(set(epoch1)) == 9 and epoch0 != epoch1
    assert list(plan) == [plan.items(s) for s in range(9)]


def test_step_batches_do_not_depend_on_history_and_shard_by_rank():
    fresh = StepBatches(20, 4, seed=3, start=7, stop=8)
    walked = StepBatches(20, 4, seed=3, stop=8)
    assert list(walked)[7] == next(iter(fresh))
    r0 = StepBatches(20, 2, seed=3, rank=0, world_size=2)
    r1 = StepBatches(20, 2, seed=3, rank=1, world_size=2)
    i0 = {i for s in range(5) for i, _ in r0.items(s)}
    i1 = {i for s in range(5) for i, _ in r1.items(s)}
    assert i0 == set(range(0, 20, 2)) and i1 == set(range(1, 20, 2))
    flips = [f for s in range(50) for _, f in walked.items(s)]
    assert 0.3 < np.mean(flips) < 0.7
    assert not any(f for _, f in StepBatches(20, 4, 3, random_flip=False).items(0))


def test_step_batches_refuse_a_batch_larger_than_the_data():
    with pytest.raises(ValueError, match="fewer than the per-process batch size 8"):
        StepBatches(5, 8, seed=0)


def test_step_draws_are_a_function_of_the_step():
    t1, n1 = step_draws(0, 0, 3, (4, 3, 2, 2), 1000)
    t2, n2 = step_draws(0, 0, 3, (4, 3, 2, 2), 1000)
    t3, _ = step_draws(0, 0, 4, (4, 3, 2, 2), 1000)
    assert torch.equal(t1, t2) and torch.equal(n1, n2) and not torch.equal(t1, t3)
    assert t1.min() >= 0 and t1.max() < 1000


def test_ema_update_matches_adm_formula():
    model = torch.nn.Linear(3, 2)
    ema = EMA(model, ["0.9", "0.5"])
    before = [p.detach().clone() for p in model.parameters()]
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    ema.update(model)
    for rate in ("0.9", "0.5"):
        r = float(rate)
        for old, new, shadow in zip(before, model.parameters(), ema.params[rate], strict=True):
            torch.testing.assert_close(shadow, r * old + (1 - r) * new.detach())
    state = ema.state_dict(model, "0.5")
    assert set(state) == set(model.state_dict())
    fresh = EMA(model, ["0.9", "0.5"])
    fresh.load_state(ema.to_state())
    assert all(torch.equal(a, b) for a, b in zip(fresh.params["0.9"], ema.params["0.9"],
                                                 strict=True))


def test_loss_log_quartiles_and_truncation_on_resume(tmp_path):
    path = tmp_path / "log.csv"
    log = LossLog(path, 0, num_timesteps=1000)
    log.add(np.array([0, 300, 600, 999]), {"loss": np.array([1.0, 2.0, 3.0, 4.0]),
                                           "mse": np.ones(4)})
    row = log.write(10, 1e-4, 5.0)
    assert row["loss"] == 2.5 and row["vb"] == ""
    assert [row[f"loss_q{k}"] for k in range(4)] == [1.0, 2.0, 3.0, 4.0]
    log.add(np.array([10]), {"loss": np.array([1.0]), "mse": np.ones(1), "vb": np.zeros(1)})
    log.write(20, 1e-4, 5.0)
    with path.open("a") as f:
        f.write("3")  # a row cut short by SIGKILL
    LossLog(path, 10, num_timesteps=1000)  # resumed from step 10: row 20 goes
    with path.open() as f:
        assert [r["step"] for r in csv.DictReader(f)] == ["10"]


def test_config_validation_and_differences():
    with pytest.raises(ValueError, match="target 'eps2'"):
        TrainConfig(data="d", run_dir="r", image_size=16, max_steps=5, target="eps2")
    with pytest.raises(ValueError, match=r"eval_iterations \[9\]"):
        TrainConfig(data="d", run_dir="r", image_size=16, max_steps=5, eval_iterations=(9,))
    with pytest.raises(ValueError, match=r"eval_iterations \[-1\] are outside 0\.\.max_steps"):
        TrainConfig(data="d", run_dir="r", image_size=16, max_steps=5, eval_iterations=(-1,))
    with pytest.raises(ValueError, match="ema_rate"):
        TrainConfig(data="d", run_dir="r", image_size=16, max_steps=5, ema_rate="1.5")
    a = TrainConfig(data="d", run_dir="r", image_size=16, max_steps=5).options()
    b = TrainConfig(data="d", run_dir="r2", image_size=16, max_steps=50, lr=1e-4).options()
    assert differing_options(a, b) == ["lr: run has 2e-05, asked for 0.0001"]


def test_state_files_keep_two_and_skip_unreadable(tmp_path):
    for step in (5, 10, 15):
        save_state(tmp_path, step, {"x": torch.tensor([step])})
    assert [s for s, _ in list_states(tmp_path)] == [10, 15]
    (tmp_path / "train_state_0000020.pt").write_bytes(b"truncated")
    state = load_newest_state(tmp_path)
    assert state["step"] == 15 and int(state["x"]) == 15


def test_rng_states_round_trip_through_a_state_file(tmp_path):
    torch.manual_seed(1), np.random.seed(2), random.seed(3)
    save_state(tmp_path, 1, {"rng": capture_rng()})
    expect = (torch.rand(2), np.random.rand(2), random.random())
    torch.manual_seed(9), np.random.seed(9), random.seed(9)
    restore_rng(load_newest_state(tmp_path)["rng"])
    got = (torch.rand(2), np.random.rand(2), random.random())
    assert torch.equal(expect[0], got[0]) and np.array_equal(expect[1], got[1])
    assert expect[2] == got[2]
