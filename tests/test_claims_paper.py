"""Every claim's test on the paper's own published numbers (harness.report.views.paper_view):
exactly as printed (a description: the judges' comparisons, with no noise to decide with), and
with the literature's training-seed noise at both ends of its range, CV 1% and 2% (the numbers
are single training runs; one network's step counts share its seed shift, or not, and a
verdict stands where both agree). 'no numbers' where the paper shows a figure only; 'not
assessable' for IS, which has no prior. One test per claim."""

from __future__ import annotations

import re

import pytest

from harness.paper import CLAIMS, claim_by_id
from harness.paper.claim import EQUIVALENCE_MARGIN, ITERATION_RATIO
from harness.report.claims import JUDGES
from harness.report.evidence import paper_obs
from harness.report.views import paper_view
from harness.stats import AS_PRINTED


def printed(value: float):
    return paper_obs(value, AS_PRINTED)


def judge(claim_id: str):
    """The claim on the paper's numbers as printed."""
    return JUDGES[claim_by_id(claim_id).test](paper_view(as_printed=True))


def judge_with_noise(claim_id: str, cv: float = 0.02):
    """The claim on the paper's numbers with the FID seed-noise prior (CV 2%, or ``cv``)."""
    return JUDGES[claim_by_id(claim_id).test](paper_view(cv))


def lines(j) -> str:
    return "\n".join(j.details)


def test_every_claim_has_a_test_here():
    tested = {name[len("test_"):] for name in globals() if name.startswith("test_")}
    assert {c.id for c in CLAIMS} <= tested


def test_ours_beats_constant():
    j = judge("ours_beats_constant")
    assert j.outcome == "supported" and j.decision.counts["supported"] == 18
    assert "FFHQ T=1000: Constant − Ours = +4.51" in lines(j)  # 10.864 - 6.354
    # The gains are 3-32 FID: far beyond 2% seed noise on FIDs of 6-42.
    assert judge_with_noise("ours_beats_constant").outcome == "supported"


def test_ours_best_all_steps():
    """Stated in Sec. 5.3 for FFHQ (Fig. 7b): judged on the FFHQ rows."""
    j = judge("ours_best_all_steps")
    assert j.outcome == "supported" and j.decision.counts["supported"] == 6 * 3
    assert "FFHQ T=1000: Min-SNR − Ours = +0.147" in lines(j)  # 6.501 - 6.354, the closest
    # P2 − Ours = +0.04 FID at T=100 (0.4% of FID) cannot be told from seed noise.
    noisy = judge_with_noise("ours_best_all_steps")
    assert noisy.outcome == "inconclusive"
    assert re.search(r"FFHQ T=100: P2 − Ours = \+0\.04 \[-0\.\d+, \+0\.\d+\] — published "
                     r"number \+ training-seed noise prior .* → inside training-seed noise",
                     lines(noisy))
    assert judge_with_noise("ours_best_all_steps", 0.01).outcome == "inconclusive"


def test_ours_best_every_dataset():
    """Sec. 5.2's 'lifts the performance limit across multiple datasets': Ours beats P2 and
    Min-SNR in all 18 Table 1 cells as printed; the closest (P2 at FFHQ T=100, +0.04) is inside
    seed noise at both ends of the prior."""
    j = judge("ours_best_every_dataset")
    assert j.outcome == "supported" and j.decision.counts["supported"] == 18 * 2
    assert "MetFaces T=1000: P2 − Ours = +5.036" in lines(j)  # 14.204 - 9.168
    for cv in (0.01, 0.02):
        assert judge_with_noise("ours_best_every_dataset", cv).outcome == "inconclusive"


def test_positive_control():
    j = judge("positive_control")  # Table 1's 18 cells and Table 2's CIFAR-10 and ImageNet
    assert j.outcome == "supported" and j.decision.counts["supported"] == (18 + 2) * 2
    assert "CIFAR-10 T=1000: Constant − P2 = +0.26" in lines(j)
    # At CV 2%, 5 of 40 are inside seed noise: AFHQ-dog Constant − Min-SNR at T=1000 and 500
    # (18.300 - 17.342 = 0.958, sd of the difference ~0.5), CIFAR-10 Constant − P2
    # (11.97 - 11.71 = 0.26) and both ImageNet T=100 gaps (+3.5, +4.2 at FIDs near 95). At CV
    # 1% only CIFAR-10's +0.26 stays inside (its interval [-0.07, +0.59]).
    noisy = judge_with_noise("positive_control")
    assert noisy.outcome == "inconclusive" and noisy.decision.counts["supported"] == 35
    assert "AFHQ-dog T=1000: Constant − Min-SNR = +0.96" in lines(noisy)
    low = judge_with_noise("positive_control", 0.01)
    assert low.outcome == "inconclusive" and low.decision.counts["supported"] == 39
    assert "CIFAR-10 T=1000: Constant − P2 = +0.26" in lines(low)


def test_gain_grows_fewer_steps():
    """Sec. 5.3 on FFHQ, on the log scale the noise lives on: Ours' relative gain log(Constant /
    Ours) is 0.340 at T=20 and 0.536 at T=1000 (28.8% and 41.5% of Constant's FID), so the
    relative gain shrinks with fewer steps; the absolute gain (11.89 against 4.51) grows only
    because FID itself is 3.8x higher at T=20, and is described beside the verdict."""
    j = judge("gain_grows_fewer_steps")
    assert "FFHQ: relative gain(T=20), gain = log(Constant / Ours) = +0.3398" in lines(j)
    assert "FFHQ: relative gain(T=20) − relative gain(T=1000) = -0.1965" in lines(j)
    assert "absolute gains (Constant − Ours) from the favoured end (described, not tested" \
           in lines(j) and "T=20: +11.9" in lines(j)
    for cv in (0.01, 0.02):
        noisy = judge_with_noise("gain_grows_fewer_steps", cv)
        assert noisy.outcome == "contradicted"
        # gain(20) − gain(1000) = -0.197 with independent shifts: sd 2·CV, z = -4.9 at 2%.
        t = next(t for t in noisy.tests if t.label.endswith("relative gain(T=1000)"))
        alone = t.independent().estimate
        assert alone.value / alone.se == pytest.approx(-0.1965 / (2 * cv), rel=1e-3)
        # Shared by one network, the shift cancels on the log scale: only the printed
        # numbers' own sampling noise (1/3.2 of the seed noise's sd) is left.
        assert t.estimate.se == pytest.approx(2 * cv / 3.2, rel=1e-9)


def test_gain_pronounced_fewer_steps():
    """Sec. 5.2 says it of every dataset. On the relative scale the gain at the fewest steps is
    smaller than at T=1000 on FFHQ, CelebA-HQ and MetFaces: contradicted at both ends of the
    prior. The absolute differences the old test flagged (MetFaces 32.236 vs 32.250, -0.014)
    are only described now."""
    j = judge("gain_pronounced_fewer_steps")
    assert "CelebA-HQ: relative gain(T=100) − relative gain(T=1000) = -0.1429" in lines(j)
    assert "MetFaces: absolute gains (Constant − Ours) from the favoured end (described, not " \
           "tested: noise grows with the level): T=100: +32.2" in lines(j)
    assert "AFHQ-dog: relative gains log(Constant / Ours) from the favoured end (deciding): " \
           "T=100: +0.256, T=250: +0.240, T=500: +0.219, T=1000: +0.204\n" in lines(j) + "\n"
    for cv in (0.01, 0.02):
        assert judge_with_noise("gain_pronounced_fewer_steps", cv).outcome == "contradicted"


def test_gain_larger_small_datasets():
    j = judge("gain_larger_small_datasets")
    assert j.outcome == "supported" and j.decision.counts["supported"] == 4 * 4  # T=1000..100
    # MetFaces (1,336 images) vs FFHQ (70,000): log(41.418 / 9.168) - log(10.864 / 6.354)
    assert "T=1000: relative gain(MetFaces, 1336 img) − relative gain(FFHQ, 70000 img) = " \
           "+0.9716" in lines(j)
    # Carried by MetFaces: among the other three the gain does not shrink with the dataset.
    assert ("T=1000: absolute gains (Constant − Ours) from the favoured end (described, not "
            "tested: noise grows with the level): MetFaces, 1336 img: +32.2, AFHQ-dog, 4739 img: "
            "+3.37, CelebA-HQ, 30000 img: +3.39, FFHQ, 70000 img: +4.51 — not monotone") \
        in lines(j)
    for cv in (0.01, 0.02):
        assert judge_with_noise("gain_larger_small_datasets", cv).outcome == "supported"


def test_sampling_efficiency():
    j = judge("sampling_efficiency")
    assert j.outcome == "supported" and j.decision.counts["supported"] == 4
    assert "FFHQ: Constant(T=1000) − Ours(T=100) = +0.049" in lines(j)  # 10.864 - 10.815
    assert judge_with_noise("sampling_efficiency").outcome == "inconclusive"


def test_ours_best_fid_table2():
    j = judge("ours_best_fid_table2")
    assert j.outcome == "supported" and j.decision.counts["supported"] == 6
    assert "CIFAR-10: Min-SNR − Ours = +0.57" in lines(j)  # 9.02 - 8.45
    assert judge_with_noise("ours_best_fid_table2").outcome == "inconclusive"  # ImageNet


def test_ours_best_is_table2():
    """The paper's own Table 2: Min-SNR has the higher IS on CIFAR-10 (8.14 vs 8.13), as
    printed; with no seed-noise prior for IS, the claim is not assessable on the paper's
    evidence (not 'inconclusive', which would say the noise was weighed)."""
    j = judge("ours_best_is_table2")
    assert "CIFAR-10: IS(Ours) − IS(Min-SNR) = -0.01" in lines(j)
    assert "ImageNet: IS(Ours) − IS(Min-SNR) = +0.16" in lines(j)  # 13.37 - 13.21
    for cv in (0.01, 0.02):
        noisy = judge_with_noise("ours_best_is_table2", cv)
        assert noisy.outcome == "not assessable"
        assert "no interval (no seed-noise prior for this metric)" in lines(noisy)


def test_eps_ours_best_table4():
    """ε(P2) − ε(Ours) = 0.46 FID at FID 9: separated at CV 1%, not at 2% (4 of 5 columns)."""
    j = judge("eps_ours_best_table4")
    assert j.outcome == "supported" and j.decision.counts["supported"] == 5
    assert "eps-p2 − eps-debias = +0.4609" in lines(j)  # 9.2972 - 8.8363
    assert judge_with_noise("eps_ours_best_table4", 0.01).outcome == "supported"
    noisy = judge_with_noise("eps_ours_best_table4")
    assert noisy.outcome == "inconclusive" and noisy.decision.counts["supported"] == 4


def test_eps_similar_x0_v():
    j = judge("eps_similar_x0_v")
    assert j.outcome == "supported"
    # eps 12.0064 vs x0 12.3146 and v 12.2773: within 10% of 12.0064 = 1.2006
    assert "eps − x0 (Constant) = -0.3082, margin ±1.201" in lines(j)
    assert EQUIVALENCE_MARGIN * 12.0064 > 12.3146 - 12.0064
    # The same test on the weightings is contradicted: eps(Constant) vs eps(Ours) is 26% apart.
    view = paper_view()
    view.t4["x0-constant"] = view.t4["eps-debias"]
    assert JUDGES["eps_similar_targets"](view).outcome == "contradicted"


def test_ours_beats_adm_longer_better():
    j = judge("ours_beats_adm_longer_better")
    assert j.outcome == "supported"
    assert "ADM (Constant, 500k) − Ours (500k) = +4.51" in lines(j)  # 10.86 - 6.35
    assert "Ours (500k) − Ours (1000k) = +1.38" in lines(j)  # 6.35 - 4.97
    # One run at two checkpoints: its shift shared, the interval is narrower than with
    # independent shifts; supported both ways.
    t = judge_with_noise("ours_beats_adm_longer_better").tests[1]
    assert t.independent_estimate is not None and t.estimate.se < t.independent_estimate.se
    assert judge_with_noise("ours_beats_adm_longer_better").outcome == "supported"


def test_ours_fewer_iterations():
    """Fig. 7a prints no values: no numbers. On the values the text states (Ours at 400k =
    Constant at 1000k), the ratio test holds, and not with Ours' checkpoint just too late."""
    assert judge("ours_fewer_iterations").outcome == "no numbers"
    assert ITERATION_RATIO == 2.5
    view = paper_view(as_printed=True)
    view.fig7a = {"constant": {1_000_000: printed(10.0)},
                  "debias": {400_000: printed(10.0), 1_000_000: printed(6.0)}}
    j = JUDGES["ours_fewer_iterations"](view)
    assert j.outcome == "supported" and "ratio 1000000/400000 = 2.50" in lines(j)
    view.fig7a["debias"] = {401_000: printed(10.0)}
    assert JUDGES["ours_fewer_iterations"](view).outcome == "not run"
    view.fig7a["debias"] = {400_000: printed(11.5)}  # 15% worse: beyond the 10% margin
    j = JUDGES["ours_fewer_iterations"](view)
    assert j.outcome == "contradicted"
    # The line prints the difference itself beside its bound, not margin − difference.
    assert "Ours(400000 it) − Constant(1000000 it) = +1.5, bound < +1 " in lines(j)


def test_fig7a_ours_below_constant():
    assert judge("fig7a_ours_below_constant").outcome == "no numbers"  # Fig. 7a: a plot


def test_ddim_ours_best():
    assert judge("ddim_ours_best").outcome == "no numbers"  # Fig. 8: samples only


def test_color_shift_ours_less():
    assert judge("color_shift_ours_less").outcome == "no numbers"  # pictures only


def test_color_shift_few_steps():
    assert judge("color_shift_few_steps").outcome == "no numbers"  # Fig. 1: pictures only


def test_snr_worst():
    assert judge("snr_worst").outcome == "no numbers"  # Fig. 11: samples, no FID


def test_mse_above_initial():
    assert judge("mse_above_initial").outcome == "no numbers"  # Fig. 4: a plot


def test_snr_mse_modes():
    assert judge("snr_mse_modes").outcome == "no numbers"  # Fig. 10: a plot


def test_fig10_ours_lowest_mse():
    assert judge("fig10_ours_lowest_mse").outcome == "no numbers"  # Fig. 10's caption: a plot


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_printed_numbers_are_described_never_given_a_verdict_word(claim):
    """As printed the numbers carry no noise: each comparison is described (as claimed, against
    the claim, a tie, within or beyond a margin), never supported or contradicted."""
    j = JUDGES[claim.test](paper_view(as_printed=True))
    for line in j.details:
        if "published numbers (no interval)" in line:
            assert re.search(r"→ as printed: (as claimed|against the claim|a tie|within the "
                             r"margin|beyond the margin|below the bound|above the bound)$", line)
            assert not re.search(r"→ (supported|contradicted|inconclusive)", line), line
    assert claim.needs and claim.statement and claim.source


def test_weighting_footprint():
    """The harness's own mechanism check: the paper prints no MSE values, so no numbers."""
    for j in (judge("weighting_footprint"), judge_with_noise("weighting_footprint")):
        assert j.outcome == "no numbers" and "prints no MSE values" in lines(j)
