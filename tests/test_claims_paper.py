"""Every claim's test on the paper's own published numbers (harness.report.views.paper_view):
it holds wherever the paper's numbers support the statement, says where they contradict it
(CIFAR-10 IS), and says 'no numbers' where the paper shows a figure only. One test per claim."""

from __future__ import annotations

import pytest

from harness.paper import CLAIMS, claim_by_id
from harness.paper.claims import EQUIVALENCE_MARGIN, ITERATION_RATIO
from harness.report.claims import JUDGES
from harness.report.evidence import paper_obs
from harness.report.views import paper_view


def judge(claim_id: str):
    return JUDGES[claim_by_id(claim_id).test](paper_view())


def lines(j) -> str:
    return "\n".join(j.details)


def test_every_claim_has_a_test_here():
    tested = {name[len("test_"):] for name in globals() if name.startswith("test_")}
    assert {c.id for c in CLAIMS} <= tested


def test_ours_beats_constant():
    j = judge("ours_beats_constant")
    assert j.outcome == "supported" and j.decision.counts["supported"] == 18
    assert "ffhq T=1000: Constant − Ours = +4.51" in lines(j)  # 10.864 - 6.354


def test_ours_best_all_steps():
    j = judge("ours_best_all_steps")
    assert j.outcome == "supported" and j.decision.counts["supported"] == 18 * 3
    assert "ffhq T=1000: Min-SNR − Ours = +0.147" in lines(j)  # 6.501 - 6.354, the closest


def test_gain_grows_fewer_steps():
    j = judge("gain_grows_fewer_steps")
    assert j.outcome == "supported"
    # (41.270 - 29.380) - (10.864 - 6.354) = 11.89 - 4.51
    assert "FFHQ gain(T=20) − gain(T=1000), gain = Constant − Ours = +7.38" in lines(j)
    # Stated for FFHQ only, and rightly: on CelebA-HQ the paper's gain shrinks with fewer steps
    # (3.170 at T=100 vs 3.394 at T=1000), so the same test there is contradicted.
    view = paper_view()
    view.steps_ffhq = {w: {s: view.t1[("celebahq", s)][w] for s in (1000, 100)}
                       for w in ("constant", "debias")}
    assert JUDGES["gain_grows_fewer_steps"](view).outcome == "contradicted"


def test_gain_larger_small_datasets():
    j = judge("gain_larger_small_datasets")
    assert j.outcome == "supported" and j.decision.counts["supported"] == 4  # T=1000..100
    # MetFaces (1,336 images) vs FFHQ (70,000): (41.418 - 9.168) - (10.864 - 6.354)
    assert "T=1000: gain(metfaces, 1336 img) − gain(ffhq, 70000 img) = +27.74" in lines(j)


def test_sampling_efficiency():
    j = judge("sampling_efficiency")
    assert j.outcome == "supported" and j.decision.counts["supported"] == 4
    assert "ffhq: Constant(T=1000) − Ours(T=100) = +0.049" in lines(j)  # 10.864 - 10.815


def test_ours_best_fid_table2():
    j = judge("ours_best_fid_table2")
    assert j.outcome == "supported" and j.decision.counts["supported"] == 6
    assert "cifar10: Min-SNR − Ours = +0.57" in lines(j)  # 9.02 - 8.45


def test_ours_best_is_table2():
    """The paper's own Table 2: Min-SNR has the higher IS on CIFAR-10 (8.14 vs 8.13)."""
    j = judge("ours_best_is_table2")
    assert j.outcome == "contradicted"
    assert "cifar10: IS(Ours) − IS(Min-SNR) = -0.01 — published numbers (no interval) → " \
           "contradicted" in lines(j)
    assert "imagenet: IS(Ours) − IS(Min-SNR) = +0.16" in lines(j)  # 13.37 - 13.21


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
    view = paper_view()
    view.fig7a = {"constant": {1_000_000: paper_obs(10.0)},
                  "debias": {400_000: paper_obs(10.0), 1_000_000: paper_obs(6.0)}}
    j = JUDGES["ours_fewer_iterations"](view)
    assert j.outcome == "supported" and "ratio 1000000/400000 = 2.50" in lines(j)
    view.fig7a["debias"] = {401_000: paper_obs(10.0)}
    assert JUDGES["ours_fewer_iterations"](view).outcome == "not run"
    view.fig7a["debias"] = {400_000: paper_obs(11.5)}  # 15% worse: beyond the 10% margin
    assert JUDGES["ours_fewer_iterations"](view).outcome == "contradicted"


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


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_paper_view_outcomes_are_the_paper_words(claim):
    outcome = JUDGES[claim.test](paper_view()).outcome
    assert outcome in ("supported", "contradicted", "no numbers"), (claim.id, outcome)
    assert claim.needs and claim.statement and claim.source
