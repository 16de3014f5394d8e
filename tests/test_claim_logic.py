"""The verdict logic of issue 16 on doctored evidence: each failure the review found, as a
regression test, and each new rule fed the opposite evidence so that the verdict flips."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from test_report_helpers import ITER, make_results, metrics_path

from harness.report import build_report
from harness.report.claims import JUDGES, judge_claims
from harness.report.evidence import Evidence, Obs
from harness.report.mse import range_replicate
from harness.report.tables import build_tables
from harness.report.verdict import printed_against
from harness.report.views import View, paper_view
from harness.stats import Replicate, resample_counts, resample_indices


def _claims(plan):
    ev = Evidence(plan)
    tables = {t.id: t for t in build_tables(ev)}
    return {c.claim.id: c for c in judge_claims(ev, tables)}


def seeds_obs(values: list[float], label: str) -> Obs:
    """A reproduced cell: one value per training seed."""
    return Obs("ok", float(np.mean(values)), None, len(values),
               replicates={r: Replicate(v) for r, v in enumerate(values)}, label=label)


def quick_example_view(ours_at_10: list[float]) -> View:
    """reports/example's numbers before issue 16 (KID, 3 seeds): Ours worse than Constant at
    T=100 (Constant − Ours = -0.047) and at T=10 (-0.014), the 'gain' growing by +0.033."""
    const = {100: [0.100, 0.110, 0.105], 10: [0.150, 0.152, 0.149]}
    ours = {100: [0.147, 0.160, 0.149], 10: ours_at_10}
    view = View()
    view.fig7b = {t: {"constant": seeds_obs(const[t], "eps-constant"),
                      "debias": seeds_obs(ours[t], "eps-debias")} for t in (100, 10)}
    return view


def test_a_growing_negative_gain_is_not_supported():
    """Regression (issue 16, point 1): 'the gain grows with fewer steps' read supported while
    Ours was worse than Constant at both step counts. The gain must exist first."""
    view = quick_example_view([0.160, 0.175, 0.158])  # gain at T=10: -0.014, inconclusive
    j = JUDGES["gain_grows_fewer_steps"](view)
    growth = next(t for t in j.tests if "relative gain(T=10) − relative gain(T=100)" in t.label)
    assert growth.outcome(0.95) == "supported"  # what the old test alone asked
    assert j.outcome == "inconclusive", j.details
    # Ours clearly worse at the favoured end: contradicted, whatever the growth.
    view = quick_example_view([0.180, 0.185, 0.182])
    assert JUDGES["gain_grows_fewer_steps"](view).outcome == "contradicted"
    # The opposite evidence: a real gain at T=10 that exceeds T=100's: supported.
    view = quick_example_view([0.120, 0.121, 0.119])
    view.fig7b[100]["debias"] = seeds_obs([0.090, 0.101, 0.097], "eps-debias")
    assert JUDGES["gain_grows_fewer_steps"](view).outcome == "supported"


def test_a_contradicted_cell_is_not_hidden_by_a_missing_one(tmp_path):
    """Regression (issue 16, point 3): an every-cell claim read 'not run' as soon as one cell
    lacked a result, even when another contradicted it clearly."""
    plan = make_results(tmp_path, seeds=3)
    for r in range(3):
        (tmp_path / metrics_path("shapes_large", "constant", 10, r)).unlink()
        path = tmp_path / metrics_path("shapes_small", "debias", 100, r)
        record = json.loads(path.read_text())
        record.update(kid=record["kid"] + 0.05, fid=record["fid"] + 50)  # Ours far worse
        path.write_text(json.dumps(record))
    claim = _claims(plan)["ours_beats_constant"]
    assert claim.verdict == "contradicted", claim.reproduced.details
    assert "1 not run" in claim.reproduced.details[0]
    assert any("not run (eps-constant: not run)" in line for line in claim.reproduced.details)


def test_claims_on_trained_models_read_the_final_checkpoint_only(tmp_path):
    """Regression (issue 16, point 2): iteration 0 and intermediate checkpoints (Fig. 7a's
    cells at 500, 800, 1000) were pooled into the DDIM and colour-shift claims; doctoring them
    into a contradiction must not move those claims."""
    plan = make_results(tmp_path, seeds=3)
    before = _claims(plan)
    for it in (500, 1000):
        for r in range(3):
            path = tmp_path / metrics_path("shapes_large", "debias", 100, r, iteration=it)
            record = json.loads(path.read_text())
            record["color_shift"]["frechet_mean_rgb"] = 1e6
            path.write_text(json.dumps(record))
    after = _claims(plan)
    for cid in ("color_shift_ours_less", "snr_worst", "ddim_ours_best"):
        assert after[cid].verdict == before[cid].verdict == "supported", cid
        assert all(f"@{ITER}" in d for d in after[cid].reproduced.details if "@" in d), cid
    # Fig. 7a's curve claim does read them, and flips.
    assert after["fig7a_ours_below_constant"].verdict == before[
        "fig7a_ours_below_constant"].verdict  # KID decides it, not colour shift
    for it in (500, 1000):
        for r in range(3):
            path = tmp_path / metrics_path("shapes_large", "debias", 100, r, iteration=it)
            record = json.loads(path.read_text())
            record.update(kid=record["kid"] + 0.05)
            path.write_text(json.dumps(record))
    assert _claims(plan)["fig7a_ours_below_constant"].verdict == "contradicted"


def test_toy_cells_are_labelled_by_their_own_dataset(tmp_path):
    """Regression (issue 16, point 9): claims.json said 'ffhq' for the toy stand-in."""
    claims = _claims(make_results(tmp_path, seeds=3))
    details = "\n".join(claims["ours_beats_constant"].reproduced.details)
    assert "shapes_large (stands for FFHQ) T=100: Constant − Ours" in details
    assert "ffhq T=" not in details


def test_the_positive_control_decides_the_regime_banner(tmp_path):
    """When P2 and Min-SNR do not beat Constant, the summary says at its top that the scale
    does not show the effect the literature agrees on; the same files with P2 and Min-SNR
    better pass the check."""
    plan = make_results(tmp_path, seeds=3)
    out = tmp_path / "reports" / "report.html"
    build_report(plan, out, svg=False)
    summary = out.read_text().split('id="summary"')[1].split("</section>")[0]
    assert 'id="regime" data-shown="yes"' in summary
    for (ds, steps) in (("shapes_large", 100), ("shapes_large", 10), ("shapes_small", 100),
                        ("shapes_small", 10)):
        for w in ("p2", "min_snr"):
            for r in range(3):
                const = json.loads((tmp_path / metrics_path(ds, "constant", steps, r)).read_text())
                path = tmp_path / metrics_path(ds, w, steps, r)
                record = json.loads(path.read_text())
                record.update(kid=const["kid"] + 0.02, fid=const["fid"] + 20)
                path.write_text(json.dumps(record))
    build_report(plan, out, svg=False)
    html = out.read_text()
    summary = html.split('id="summary"')[1].split("</section>")[0]
    assert 'id="regime" data-shown="no"' in summary
    assert summary.index('id="regime"') < summary.index('class="cards"')  # at its top
    assert "supported ones included" in summary
    record = json.loads((out.parent / "assets" / "claims.json").read_text())
    control = next(c for c in record if c["id"] == "positive_control")
    assert control["positive_control"] and control["verdict"] == "contradicted"


def test_a_positive_control_not_run_is_not_called_a_failure(tmp_path):
    """Without P2 cells the control is not run: the banner says nothing shows the effect at
    this scale, not that the scale fails to show it."""
    plan = make_results(tmp_path, seeds=3)
    for path in tmp_path.glob("results/metrics/**/eps-p2/**/*.json"):
        path.unlink()
    out = tmp_path / "reports" / "report.html"
    build_report(plan, out, svg=False)
    summary = out.read_text().split('id="summary"')[1].split("</section>")[0]
    assert 'id="regime" data-shown="no"' in summary
    assert "Nothing shows that this" in summary and "<b>not run</b>" in summary
    assert "does not show the effect" not in summary


def test_the_paper_account_describes_printed_numbers_and_judges_with_noise(tmp_path):
    """Issue 23: the paper's printed numbers get no verdict word of their own. The summary's
    one account gives each claim's verdict at both ends of the prior (CV 1% and 2%), says
    where the evidence separates the claim only at one end, calls IS 'not assessable', and
    describes the comparisons that go against a claim as printed, placed against seed noise."""
    claims = _claims(make_results(tmp_path, seeds=3))
    control, is_claim = claims["positive_control"], claims["ours_best_is_table2"]
    # Table 2's CIFAR-10 Constant − P2 (11.97 - 11.71) stays inside seed noise even at CV 1%.
    assert control.paper_outcomes == {"CV 1%": "inconclusive", "CV 2%": "inconclusive"}
    assert control.paper_separates == "at neither end of the prior"
    eps_best = claims["eps_ours_best_table4"]
    assert eps_best.paper_outcomes == {"CV 1%": "supported", "CV 2%": "inconclusive"}
    assert eps_best.paper_separates == "only at CV 1%"
    assert set(is_claim.paper_outcomes.values()) == {"not assessable"}
    against = printed_against(is_claim)
    assert against == ["as printed, CIFAR-10: IS(Ours) − IS(Min-SNR) = -0.01 (against the "
                       "claim); CV 1%: not assessable (no seed-noise prior for this metric); "
                       "CV 2%: not assessable (no seed-noise prior for this metric)"]
    out = tmp_path / "reports" / "report.html"
    build_report(tmp_path / "results" / "plan.json", out, svg=False)
    html = out.read_text()
    account = html.split('id="paper-account"')[1].split("</div>\n")[0]
    assert "paper-contradicts" not in html and "cannot separate" not in account
    row = account.split('data-claim="positive_control"')[1].split("</tr>")[0]
    assert ('<td data-paper-cv="CV 1%">inconclusive (39 of 40 comparisons beyond seed noise as '
            'claimed)</td>') in row
    assert ('<td data-paper-cv="CV 2%">inconclusive (35 of 40 comparisons beyond seed noise as '
            'claimed)</td>') in row
    assert "at neither end" in row
    eps_row = account.split('data-claim="eps_ours_best_table4"')[1].split("</tr>")[0]
    assert "only at CV 1%" in eps_row
    # A printed comparison inside seed noise carries no verdict word (the account's lines say
    # where it lies against the noise instead), nor do the per-cell counts of the paper's numbers.
    for line in re.findall(r"<li>(as printed, [^<]*)</li>", account):
        assert not re.search(r"\b(supported|contradicted|inconclusive)\b", line), line
    counts = control.paper[0.02].details[0]
    assert counts == ("40 comparisons: 35 beyond training-seed noise, as claimed; 5 inside "
                      "training-seed noise"), counts
    assert "not assessable" in account.split('data-claim="ours_best_is_table2"')[1]


def test_paper_differences_within_seed_noise_are_described_not_decided():
    """P2 − Ours = +0.04 FID at FFHQ T=100 (0.4% of FID) read supported on exact numbers; with
    the prior it lies inside training-seed noise, and the line says so in those words."""
    view = paper_view()
    j = JUDGES["ours_best_per_row"](view)
    line = next(d for d in j.details if "FFHQ T=100: P2 − Ours" in d)
    assert line.endswith("→ inside training-seed noise") and "prior" in line


def test_mse_intervals_resample_the_analysed_images():
    """Issue 16, point 6: a curve's number over a range of t is the mean log of the MSE over
    the images; its bootstrap resamples the images with the shared indices."""
    rng = np.random.default_rng(3)
    images = rng.uniform(0.5, 1.5, (4, 10))  # 4 analysed t, 10 images
    data = {"t": [10, 40, 600, 990], "mse": images.mean(1).tolist(),
            "mse_images": images.tolist()}
    rep = range_replicate(data, lambda t: t < 50, resamples=50)
    assert rep.point == pytest.approx(np.mean(np.log(images[:2].mean(1))), rel=1e-12)
    counts = resample_counts(resample_indices(0, 10, 50))
    want = np.log(images[:2] @ counts.T / 10).mean(0)
    assert rep.n_samples == 10 and np.allclose(rep.boot, want, rtol=1e-12)
    assert range_replicate(data, lambda t: t > 995) is None


def test_calibration_section_counts_aa_decisions_over_every_path(tmp_path):
    plan = make_results(tmp_path, seeds=3)
    out = tmp_path / "reports" / "report.html"
    build_report(plan, out, svg=False)
    section = out.read_text().split('id="calibration"')[1].split("</section>")[0]
    simulated = ("paired t over seeds", "Welch over unpaired seeds",
                 "one seed + pooled seed noise", "equivalence (two one-sided tests)",
                 "difference of differences", "Holm / all cells")
    for path in simulated:  # the real A/A control at T = 100 and 10 goes through every one
        assert f'<tr data-path="{path}">' in section, path
    # Two cells: paired 2, Welch 2, one seed 2 x 3 replicates, equivalence 2, the difference
    # of differences 1, both cells at once 1.
    assert 'id="aa-paths" data-decided="0" data-judged="14"' in section
    rows = section.split('id="calibration-paths"')[1].split("</table>")[0]
    assert all(f'data-path="{p}"' in rows for p in simulated)
    # One row per path, and the equivalence path once more at its margin (a false "similar").
    assert rows.count("<tr data-path=") == len(simulated) + 1
    assert 'data-wrong="at the margin: a false “similar”"' in rows
    # Beside the model the tests assume, the rates under what they do not assume.
    for scenario in ("as the tests assume", "seed CV 2x the pooled, one weighting",
                     "seed shifts t, 3 df", "pooled cells correlated (networks at 2 step "
                     "counts)", "cells of a claim from one network per arm"):
        assert f'data-scenario="{scenario}"' in rows, scenario
    assert rows.count("(misspecified)") == 4
    power = section.split('id="power-table"')[1].split("</table>")[0]
    assert power.count('<tr data-path="one seed + pooled seed noise">') == 3
    assert "Ours vs Constant (Table 1 median)" in power
    # The control's details are cut at 6 lines with the rest counted.
    assert re.search(r"<li>… \d+ more</li>", section.split('id="aa-table"')[1])


def test_an_aa_control_apart_in_opposite_directions_is_decided_by_the_step_paths(tmp_path):
    """The opposite evidence: the control arm far worse at T = 10 and far better at T = 100.
    The difference of differences and the all-cells test (contradicted by the T = 100 cell)
    decide, falsely, as the control is built to show, and the summary says so at its top."""
    plan = make_results(tmp_path, seeds=3)
    for steps, sign in ((10, 1), (100, -1)):
        for r in range(3):
            path = tmp_path / metrics_path("shapes_large", "constant", steps, 1000 + r)
            record = json.loads(path.read_text())
            record.update(kid=record["kid"] + sign * (0.05 + 0.002 * r),
                          fid=record["fid"] + sign * (50 + 2 * r))
            path.write_text(json.dumps(record))
    out = tmp_path / "reports" / "report.html"
    build_report(plan, out, svg=False)
    html = out.read_text()
    table = html.split('id="aa-table"')[1].split("</table>")[0]
    decided = dict(re.findall(r'<tr data-path="([^"]+)"><td>[^<]*</td><td class="num">\d+</td>'
                              r'<td class="num">(\d+)</td>', table))
    assert decided["paired t over seeds"] == "2"
    assert decided["difference of differences"] == "1"
    assert decided["Holm / all cells"] == "1"
    summary = html.split('id="summary"')[1].split("</section>")[0]
    assert 'id="aa-warning"' in summary
    assert "The sanity check passes" not in html.split('id="calibration"')[1]


def test_an_aa_control_apart_at_one_step_count_is_not_called_as_it_should_be(tmp_path):
    """Apart at T = 10 only: the all-cells verdict stays inconclusive, but the section and the
    summary count the decided comparison instead of calling the control a success."""
    plan = make_results(tmp_path, seeds=3)
    for r in range(3):
        path = tmp_path / metrics_path("shapes_large", "constant", 10, 1000 + r)
        record = json.loads(path.read_text())
        record.update(kid=record["kid"] + 0.05 + 0.002 * r, fid=record["fid"] + 50 + 2 * r)
        path.write_text(json.dumps(record))
    out = tmp_path / "reports" / "report.html"
    build_report(plan, out, svg=False)
    html = out.read_text()
    section = html.split('id="calibration"')[1].split("</section>")[0]
    assert 'data-verdict="inconclusive"' in section and "The sanity check passes" not in section
    assert "Over all its cells, but" in section
    assert 'id="aa-warning"' in html.split('id="summary"')[1].split("</section>")[0]


def test_ours_best_of_all_weightings_is_not_supported_on_constant_alone(tmp_path):
    """A plan without P2 and Min-SNR cannot support 'Ours surpasses all existing weighting
    strategies' (the doctored smoke report read supported on Constant alone); a comparison that
    was run still contradicts it."""
    plan = make_results(tmp_path, seeds=3)
    record = json.loads(plan.read_text())
    record["cells"] = [c for c in record["cells"] if c["weighting"] not in ("p2", "min_snr")]
    plan.write_text(json.dumps(record))
    claims = _claims(plan)
    assert claims["ours_beats_constant"].verdict == "supported"  # the helper's Ours is better
    for cid in ("ours_best_all_steps", "ours_best_fid_table2"):
        details = "\n".join(claims[cid].reproduced.details)
        assert claims[cid].verdict == "not run", details
        assert "P2 − Ours: not run (not in plan)" in details
    for ds, steps in (("shapes_large", 100), ("shapes_large", 10)):
        for r in range(3):
            path = tmp_path / metrics_path(ds, "debias", steps, r)
            cell = json.loads(path.read_text())
            cell.update(kid=cell["kid"] + 0.05, fid=cell["fid"] + 50)  # Ours far worse
            path.write_text(json.dumps(cell))
    assert _claims(plan)["ours_best_all_steps"].verdict == "contradicted"
