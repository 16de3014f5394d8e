"""bf16 and compiled sampling give the fp32 FID within the FID's own sampling noise, on a
toy model trained on CPU (where autocast and torch.compile run too)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from harness.metrics.cell import cell_metrics
from harness.metrics.refstats import compute_refstats
from harness.metrics.weights import resolve_inception_weights
from harness.runtime import Execution
from harness.sampling import SampleRequest, sample
from harness.training import TrainConfig, train

NUM_SAMPLES = 64
STEPS = 20


def squares(folder: Path, count: int = 64) -> Path:
    """16 px images: a random background colour with a square in the opposite colour."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for i in range(count):
        colour = rng.integers(0, 256, 3)
        arr = np.tile(colour, (16, 16, 1)).astype(np.uint8)
        lo = rng.integers(1, 7)
        arr[lo:lo + 8, lo:lo + 8] = 255 - colour
        Image.fromarray(arr).save(folder / f"{i:03d}.png")
    return folder


@pytest.mark.slow
def test_bf16_and_compiled_sampling_keep_the_fp32_fid(tmp_path):
    data = squares(tmp_path / "data")
    run = tmp_path / "run"
    status = train(TrainConfig(data=str(data), run_dir=str(run), image_size=16, max_steps=300,
                               num_channels=32, num_res_blocks=1, channel_mult="1,2",
                               attention_resolutions="8", num_head_channels=32, lr=1e-3,
                               batch_size=8, ema_rate="0.95", eval_iterations=(300,),
                               device="cpu", progress=False))
    assert status["status"] == "completed"
    weights = resolve_inception_weights(None, download=False)
    compute_refstats(data, tmp_path / "ref.npz", weights, device="cpu", progress=False)

    def fid(name: str, seed: int, execution: Execution) -> tuple[float, dict]:
        out = tmp_path / f"{name}.npz"
        sample(SampleRequest(checkpoint=str(run / "ema_0.95_000300.pt"), sampler="ddpm",
                             steps=STEPS, num_samples=NUM_SAMPLES, batch_size=32, seed=seed,
                             out=str(out), grid=str(tmp_path / f"{name}.png"), device="cpu",
                             progress=False, execution=execution))
        cell = {"dataset": "squares", "target": "eps", "weighting": "constant",
                "iteration": 300, "sampler": "ddpm", "steps": STEPS}
        record = cell_metrics(out, tmp_path / "ref.npz", cell, weights, kid_subset_size=32,
                              device="cpu", fid_impl="eigh", progress=False)
        return record["fid"], record["provenance"]

    fp32 = {seed: fid(f"fp32_{seed}", seed, Execution())[0] for seed in (0, 1, 2)}
    # The noise of the FID itself at this sample count: how far it moves when only the
    # samples' seeds change (same model, same protocol).
    noise = max(abs(a - b) for a, b in itertools.combinations(fp32.values(), 2))
    assert noise > 0
    for name, execution in (("bf16", Execution(precision="bf16")),
                            ("bf16_compiled", Execution(precision="bf16", compile=True))):
        value, provenance = fid(name, 0, execution)
        print(f"FID fp32 by seed {fp32}, noise {noise:.2f}; {name} seed 0: {value:.2f}")
        assert provenance["sampling_execution"]["precision"] == "bf16"
        assert provenance["sampling_execution"]["compiled"] == execution.compile
        assert abs(value - fp32[0]) < noise, (name, value, fp32)
