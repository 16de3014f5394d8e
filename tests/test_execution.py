"""How the UNet is run (harness.runtime.execution): precision, TF32, compile, memory format,
determinism; their records in config.json, the samples' meta and the metrics' provenance."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from harness.cli import main
from harness.models import create_model
from harness.runtime import Execution, Network, numerics
from harness.runtime import execution as execution_module
from harness.sampling import SampleRequest, sample
from harness.training import TrainConfig, train

TINY_MODEL = dict(image_size=16, num_channels=32, num_res_blocks=1, channel_mult="1,2",
                  attention_resolutions="8", num_head_channels=32, learn_sigma=True,
                  resblock_updown=True, use_scale_shift_norm=True)
CPU = torch.device("cpu")
# float32: 24-bit mantissa, unit roundoff 2^-24 = 6e-8. Two evaluations of the same network
# that sum in a different order (another batch size, memory layout or a fused kernel) differ
# by a few roundoffs per operation, growing with depth and reduction length (3x3x64 = 576
# terms per convolution output): relative 1e-5 is ~170 roundoffs, far above that noise and
# far below any real change (bf16 rounding alone is ~4e-3).
FP32_RTOL = 1e-5


def informative_model(seed: int = 0) -> torch.nn.Module:
    """The tiny UNet with its zero-initialised output layers perturbed, so outputs are not 0."""
    torch.manual_seed(seed)
    model = create_model(**TINY_MODEL)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return model.eval()


def inputs(batch: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.randn(batch, 3, 16, 16, generator=g), torch.randint(0, 1000, (batch,),
                                                                      generator=g)


def relative(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).norm() / b.norm()).item()


def test_execution_validates_and_labels():
    with pytest.raises(ValueError, match="precision 'fp16'"):
        Execution(precision="fp16")
    with pytest.raises(ValueError, match="compile_mode 'max'"):
        Execution(compile_mode="max")
    assert Execution().label() == "fp32"
    path = Execution(precision="bf16", compile=True, compile_mode="reduce-overhead",
                     channels_last=True, deterministic=True)
    assert path.label() == "bf16+compile-cudagraphs+channels_last+deterministic"
    assert TrainConfig(data="d", run_dir="r", image_size=16, max_steps=1, precision="bf16",
                       compile=True, deterministic=True).execution().label() == (
        "bf16+compile+deterministic")


def test_numerics_sets_then_restores_backend_switches(monkeypatch):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    before = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
              torch.backends.cudnn.deterministic, torch.are_deterministic_algorithms_enabled())
    with numerics(Execution(tf32=True, deterministic=True)):
        assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    with numerics(Execution()):  # the exact fp32 reference: no TF32 anywhere
        assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32
    assert before == (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
                      torch.backends.cudnn.deterministic,
                      torch.are_deterministic_algorithms_enabled())
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":0:0")
    with (pytest.raises(ValueError, match="CUBLAS_WORKSPACE_CONFIG is ':0:0'"),
          numerics(Execution(deterministic=True))):
        pass


def test_fp32_network_is_the_model_itself():
    model = informative_model()
    x, t = inputs()
    with torch.no_grad():
        assert torch.equal(Network(model, Execution(), CPU)(x, t), model(x, t))


def test_bf16_network_rounds_like_bf16_and_returns_fp32():
    model = informative_model()
    x, t = inputs()
    with torch.no_grad():
        ref, out = model(x, t), Network(model, Execution(precision="bf16"), CPU)(x, t)
    assert out.dtype == torch.float32
    # bf16 keeps 8 mantissa bits: unit roundoff 2^-9 = 2e-3 per rounded operand. Through the
    # network's ~20 rounded layers the relative error lands in [2e-3, 5e-2]; above 5e-2 means
    # something else changed, below 2e-4 that no bf16 rounding happened at all.
    assert 2e-4 < relative(out, ref) < 5e-2


def test_short_batches_are_padded_to_the_static_batch():
    model = informative_model()
    x, t = inputs(3)
    calls = []
    model.register_forward_pre_hook(lambda _, args: calls.append(args[0].shape[0]))
    with torch.no_grad():
        out = Network(model, Execution(), CPU, static_batch=5)(x, t)
        ref = model(x, t)
    assert calls == [5, 3] and out.shape == ref.shape
    assert relative(out, ref) < FP32_RTOL


def test_channels_last_gives_the_same_outputs():
    model = informative_model()
    x, t = inputs()
    with torch.no_grad():
        ref = model(x, t)
        cl = execution_module.memory_format(model, Execution(channels_last=True))
        out = Network(cl, Execution(channels_last=True), CPU)(x, t)
    assert relative(out, ref) < FP32_RTOL


def test_compile_unavailable_is_an_error_unless_the_fallback_is_allowed(monkeypatch, capsys):
    monkeypatch.setattr(execution_module, "compile_unavailable",
                        lambda device_type: "RuntimeError: no C++ compiler")
    with pytest.raises(ValueError, match="unavailable on cpu .*compiler.*--compile-fallback"):
        Network(informative_model(), Execution(compile=True), CPU)
    net = Network(informative_model(), Execution(compile=True, compile_fallback=True), CPU)
    err = capsys.readouterr().err.strip().splitlines()
    assert not net.compiled and len(err) == 1
    assert "torch.compile is unavailable on cpu" in err[0] and "no C++ compiler" in err[0]
    assert Network(informative_model(), Execution(compile_fallback=True), CPU).compiled is False


@pytest.mark.slow
def test_compiled_training_step_gives_the_eager_loss():
    """Two AdamW steps through torch.compile against eager, from the same weights and draws."""
    from harness.bench.model import TrainingStep

    x, t = inputs(4)
    losses = {}
    for compiled in (False, True):
        torch.manual_seed(0)
        model = create_model(**TINY_MODEL).train()
        net = Network(model, Execution(compile=compiled), CPU)
        assert net.compiled == compiled
        step = TrainingStep(model, net, x, t, {}, TINY_MODEL, {"weighting": "debias"})
        losses[compiled] = torch.stack([step() for _ in range(2)])
        params = torch.cat([p.detach().flatten() for p in model.parameters()])
        losses[f"params{compiled}"] = params
    # The loss is a mean over 4 x 3 x 16 x 16 terms of quantities computed with float32
    # reductions in another order (FP32_RTOL, derived above); the second loss also sees the
    # first step's update, which inherits the same relative noise.
    torch.testing.assert_close(losses[True], losses[False], rtol=FP32_RTOL, atol=0)
    # AdamW's first steps move each weight by ~lr * sign(grad) = 1e-4: weights agree to
    # far better than that unless a gradient's sign differs.
    torch.testing.assert_close(losses["paramsTrue"], losses["paramsFalse"], rtol=0, atol=2e-5)


def _images(folder, count=12, seed=0):
    from PIL import Image

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    for i in range(count):
        Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(
            folder / f"{i:03d}.png")
    return folder


TRAIN_ARGS = ["--image-size", "16", "--num-channels", "32", "--num-res-blocks", "1",
              "--channel-mult", "1,2", "--attention-resolutions", "", "--batch-size", "4",
              "--device", "cpu", "--no-progress", "--max-steps", "2", "--eval-iterations", "2"]


def test_train_without_a_compiler_stops_before_any_work_unless_eager_is_allowed(tmp_path,
                                                                              monkeypatch):
    monkeypatch.setattr(execution_module, "compile_unavailable",
                        lambda device_type: "RuntimeError: no C++ compiler")
    data, run = _images(tmp_path / "data"), tmp_path / "run"
    args = ["train", "--data", str(data), "--run-dir", str(run), *TRAIN_ARGS, "--compile"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 1 and not run.exists()
    [line] = res.output.strip().splitlines()
    assert "torch.compile is unavailable on cpu" in line and "--compile-fallback" in line
    res = CliRunner().invoke(main, [*args, "--compile-fallback"])
    assert res.exit_code == 0, res.output
    meta = torch.load(run / "ema_0.9999_000002.pt", weights_only=True)["meta"]
    assert meta["compiled_steps"] == 0 and "running eager (compile_fallback)" in res.output


def test_train_records_execution_and_refuses_other_numerics(tmp_path):
    data, run = _images(tmp_path / "data"), tmp_path / "run"
    args = ["train", "--data", str(data), "--run-dir", str(run), *TRAIN_ARGS]
    res = CliRunner().invoke(main, [*args, "--precision", "bf16", "--deterministic",
                                    "--channels-last", "--fused-optimizer"])
    assert res.exit_code == 0, res.output
    options = json.loads((run / "config.json").read_text())["options"]
    assert options["precision"] == "bf16" and options["deterministic"] is True
    assert options["channels_last"] is True and options["fused_optimizer"] is True
    assert options["tf32"] is False and options["compile"] is False
    # Schedule options may change on a rerun; numerics may not.
    res = CliRunner().invoke(main, [*args, "--precision", "bf16", "--deterministic",
                                    "--no-channels-last"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(main, [*args, "--deterministic"])
    assert res.exit_code != 0 and "precision: run has 'bf16', asked for 'fp32'" in res.output
    res = CliRunner().invoke(main, [*args, "--precision", "bf16"])
    assert res.exit_code != 0 and "deterministic: run has True" in res.output

    # A run recorded before these options existed counts as having their defaults.
    old = tmp_path / "old"
    config = TrainConfig(data=str(data), run_dir=str(old), image_size=16, max_steps=2,
                         num_channels=32, num_res_blocks=1, channel_mult="1,2",
                         attention_resolutions="", batch_size=4, device="cpu", progress=False)
    train(config)
    recorded = json.loads((old / "config.json").read_text())
    for name in ("tf32", "deterministic", "compile", "channels_last", "fused_optimizer"):
        del recorded["options"][name]
    (old / "config.json").write_text(json.dumps(recorded))
    assert train(config)["status"] == "completed"


def test_sample_meta_and_metrics_provenance_record_execution(tmp_path):
    data, run = _images(tmp_path / "data"), tmp_path / "run"
    res = CliRunner().invoke(main, ["train", "--data", str(data), "--run-dir", str(run),
                                    *TRAIN_ARGS, "--precision", "bf16"])
    assert res.exit_code == 0, res.output
    out = tmp_path / "s.npz"
    res = CliRunner().invoke(main, ["sample", "--checkpoint", str(run / "ema_0.9999_000002.pt"),
                                    "--sampler", "ddpm", "--steps", "3", "--num-samples", "3",
                                    "--batch-size", "2", "--out", str(out), "--grid",
                                    str(tmp_path / "s.png"), "--device", "cpu", "--precision",
                                    "bf16", "--deterministic", "--no-progress"])
    assert res.exit_code == 0, res.output
    meta = json.loads(str(np.load(out)["meta"]))
    assert meta["execution"] == {**Execution(precision="bf16", deterministic=True).as_dict(),
                                 "compiled": False}
    assert meta["training_execution"]["precision"] == "bf16"
    # Training's own record: how many of the checkpoint's steps ran compiled (eager here).
    trained = meta["training_execution"]
    assert (trained["steps"], trained["compiled_steps"], trained["compile"]) == (2, 0, False)

    # The metrics JSON carries both (the diverged path needs no Inception network).
    from harness.metrics.cell import cell_metrics
    from harness.metrics.features import FeatureStats
    from harness.metrics.refstats import save_stats
    from harness.metrics.weights import InceptionWeights

    meta.update(status="diverged at step 1", num_samples=0)
    empty = tmp_path / "empty.npz"
    np.savez(empty, arr_0=np.zeros((0, 16, 16, 3), np.uint8), meta=np.array(json.dumps(meta)))
    feats = np.random.default_rng(0).normal(size=(4, 2048)).astype(np.float32)
    stats = FeatureStats(4, feats.mean(0), np.cov(feats, rowvar=False), feats, np.arange(4),
                         np.zeros((4, 3)), np.zeros(3), np.eye(3), (16, 16))
    save_stats(tmp_path / "ref.npz", stats, {"count": 4, "resolution": 16, "mode": "clean"})
    cell = {"dataset": "d", "target": "eps", "weighting": "constant", "iteration": 2,
            "sampler": "ddpm", "steps": 3}
    record = cell_metrics(empty, tmp_path / "ref.npz", cell,
                          InceptionWeights(path="none", sha256="0" * 64, kind="fid-helper",
                                           source="test", description="unused"),
                          device="cpu", progress=False)
    assert record["provenance"]["sampling_execution"] == meta["execution"]
    assert record["provenance"]["training_execution"] == meta["training_execution"]


def test_sampling_chunks_of_another_precision_are_not_mixed(tmp_path, monkeypatch):
    from harness.bench.sample import sampling_checkpoint
    from harness.sampling.chunks import ChunkStore

    ckpt = sampling_checkpoint(tmp_path, TINY_MODEL, perturb=0.05)

    def run(name: str, precision: str) -> np.ndarray:
        sample(SampleRequest(checkpoint=str(ckpt), sampler="ddpm", steps=3, num_samples=4,
                             batch_size=2, seed=0, out=str(tmp_path / f"{name}.npz"),
                             grid=str(tmp_path / f"{name}.png"), device="cpu", progress=False,
                             execution=Execution(precision=precision)))
        return np.load(tmp_path / f"{name}.npz")["arr_0"]

    fp32, bf16 = run("fp32", "fp32"), run("bf16", "bf16")
    assert not np.array_equal(fp32, bf16)  # bf16 rounding moves some pixels by a level or more
    original = ChunkStore.merge

    def die(self, *args, **kwargs):
        raise KeyboardInterrupt("interrupted after the last chunk")

    monkeypatch.setattr(ChunkStore, "merge", die)
    with pytest.raises(KeyboardInterrupt):
        run("mixed", "fp32")  # leaves every fp32 chunk behind
    monkeypatch.setattr(ChunkStore, "merge", original)
    np.testing.assert_array_equal(run("mixed", "bf16"), bf16)
