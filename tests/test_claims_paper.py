"""Every claim's test on the paper's own published numbers (harness.report.views.paper_view),
twice: exactly as printed, where it holds wherever the numbers support the statement and says
where they go against it (CIFAR-10 IS, Sec. 5.2's steps statement on CelebA-HQ and MetFaces),
and with the literature's training-seed noise (the numbers are single training runs), where
small published differences are inconclusive. 'no numbers' where the paper shows a figure
only. One test per claim."""

from __future__ import annotations

import re

import pytest

from harness.paper import CLAIMS, claim_by_id
from harness.paper.claims import EQUIVALENCE_MARGIN, ITERATION_RATIO
from harness.report.claims import JUDGES
from harness.report.evidence import paper_obs
from harness.report.views import paper_view
from harness.stats import AS_PRINTED


def printed(value: float):
    return paper_obs(value, AS_PRINTED)


def judge(claim_id: str):
    """The claim on the paper's numbers as printed."""
    return JUDGES[claim_by_id(claim_id).test](paper_view(as_printed=True))


def judge_with_noise(claim_id: str):
    """The claim on the paper's numbers with the FID seed-noise prior (CV 2%)."""
    return JUDGES[claim_by_id(claim_id).test](paper_view())


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
                     r"number \+ training-seed noise prior .* → inconclusive", lines(noisy))


def test_positive_control():
    j = judge("positive_control")  # Table 1's 18 cells and Table 2's CIFAR-10 and ImageNet
    assert j.outcome == "supported" and j.decision.counts["supported"] == (18 + 2) * 2
    assert "CIFAR-10 T=1000: Constant − P2 = +0.26" in lines(j)
    # AFHQ-dog T=1000: Constant − Min-SNR = 18.300 - 17.342 = 0.958, within seed noise.
    noisy = judge_with_noise("positive_control")
    assert noisy.outcome == "inconclusive"
    assert "AFHQ-dog T=1000: Constant − Min-SNR = +0.96" in lines(noisy)


def test_gain_grows_fewer_steps():
    """Sec. 5.3 on FFHQ: the gain at T=20 (11.89) exists and exceeds every other step's."""
    j = judge("gain_grows_fewer_steps")
    assert j.outcome == "supported" and j.decision.counts["supported"] == 6
    # (41.270 - 29.380) - (10.864 - 6.354) = 11.89 - 4.51
    assert "FFHQ: gain(T=20) − gain(T=1000) = +7.38" in lines(j)
    assert "FFHQ: gain(T=20), gain = Constant − Ours = +11.89" in lines(j)
    assert judge_with_noise("gain_grows_fewer_steps").outcome == "supported"


def test_gain_pronounced_fewer_steps():
    """Sec. 5.2 says it of every dataset: the printed numbers go against it on CelebA-HQ
    (3.170 at T=100 vs 3.394 at T=1000) and MetFaces (32.236 vs 32.250), within seed noise."""
    j = judge("gain_pronounced_fewer_steps")
    assert j.outcome == "contradicted"
    assert "CelebA-HQ: gain(T=100) − gain(T=1000) = -0.224 — published numbers (no interval) → " \
           "contradicted" in lines(j)
    assert "MetFaces: gain(T=100) − gain(T=1000) = -0.014" in lines(j)
    assert "FFHQ: gain(T=20) − gain(T=1000) = +7.38" in lines(j)
    assert judge_with_noise("gain_pronounced_fewer_steps").outcome == "inconclusive"


def test_gain_larger_small_datasets():
    j = judge("gain_larger_small_datasets")
    assert j.outcome == "supported" and j.decision.counts["supported"] == 4 * 4  # T=1000..100
    # MetFaces (1,336 images) vs FFHQ (70,000): (41.418 - 9.168) - (10.864 - 6.354)
    assert "T=1000: gain(MetFaces, 1336 img) − gain(FFHQ, 70000 img) = +27.74" in lines(j)
    # Carried by MetFaces: among the other three the gain does not shrink with the dataset.
    assert ("T=1000: gains (Constant − Ours) from the favoured end: MetFaces, 1336 img: +32.250, "
            "AFHQ-dog, 4739 img: +3.372, CelebA-HQ, 30000 img: +3.394, FFHQ, 70000 img: +4.510 "
            "— not monotone") in lines(j)


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
    """The paper's own Table 2: Min-SNR has the higher IS on CIFAR-10 (8.14 vs 8.13); with no
    seed-noise prior for IS, none of the IS differences can be judged against seed noise."""
    j = judge("ours_best_is_table2")
    assert j.outcome == "contradicted"
    assert "CIFAR-10: IS(Ours) − IS(Min-SNR) = -0.01 — published numbers (no interval) → " \
           "contradicted" in lines(j)
    assert "ImageNet: IS(Ours) − IS(Min-SNR) = +0.16" in lines(j)  # 13.37 - 13.21
    noisy = judge_with_noise("ours_best_is_table2")
    assert noisy.outcome == "inconclusive" and "no estimate of training-seed noise" in lines(noisy)


def test_eps_ours_best_table4():
    j = judge("eps_ours_best_table4")
    assert j.outcome == "supported" and j.decision.counts["supported"] == 5
    assert "eps-p2 − eps-debias = +0.4609" in lines(j)  # 9.2972 - 8.8363


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
    assert JUDGES["ours_fewer_iterations"](view).outcome == "contradicted"


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
def test_paper_view_outcomes_are_the_paper_words(claim):
    """As printed the numbers are exact: a plain comparison, never inconclusive."""
    outcome = JUDGES[claim.test](paper_view(as_printed=True)).outcome
    assert outcome in ("supported", "contradicted", "no numbers"), (claim.id, outcome)
    assert claim.needs and claim.statement and claim.source


def test_weighting_footprint():
    """The harness's own mechanism check: the paper prints no MSE values, so no numbers."""
    for j in (judge("weighting_footprint"), judge_with_noise("weighting_footprint")):
        assert j.outcome == "no numbers" and "prints no MSE values" in lines(j)
