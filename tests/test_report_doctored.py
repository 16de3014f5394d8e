"""Rebuild the report from doctored result files and read its verdicts back from the HTML and
assets/claims.json: the verdicts follow the point values (`fid`, `kid`) the files state."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from test_report_helpers import FID, edit_metric, make_results, metrics_path

from harness.cli import main

pytestmark = pytest.mark.slow

TABLE1 = [(ds, steps) for ds, steps in FID]


def verdicts(tmp_path, plan) -> dict[str, str]:
    out = tmp_path / "reports" / "report.html"
    result = CliRunner().invoke(main, ["report", "--plan", str(plan), "--out", str(out),
                                       "--no-svg"])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    rows = dict(re.findall(r'<tr id="claim-([a-z0-9_]+)" data-verdict="([^"]+)"', html))
    record = {c["id"]: c["verdict"] for c in json.loads(
        (out.parent / "assets" / "claims.json").read_text())}
    assert rows == record
    return rows


def doctor_ours(root, seeds: int, kid_offset: float) -> None:
    """Set Ours' point values in every Table 1 cell and seed to Constant's plus an offset."""
    for ds, steps in TABLE1:
        for r in range(seeds):
            if not (root / metrics_path(ds, "constant", steps, r)).exists():
                continue  # a cell outside the replicated subset
            const = json.loads((root / metrics_path(ds, "constant", steps, r)).read_text())
            edit_metric(root, metrics_path(ds, "debias", steps, r),
                        kid=const["kid"] + kid_offset, fid=const["fid"] + 1000 * kid_offset)


@pytest.mark.parametrize("seeds, seed_noise", [(1, 3), (3, 0)])
def test_doctored_point_values_move_the_verdicts(tmp_path, seeds, seed_noise):
    """Three seeds everywhere, or one seed with the replicated subset that estimates the
    training-seed noise the one-seed comparisons add."""
    plan = make_results(tmp_path, seeds=seeds, seed_noise=seed_noise)
    seeds = max(seeds, seed_noise)
    before = verdicts(tmp_path, plan)
    # Ours equal to Constant everywhere: nothing to decide against Constant, but P2 and
    # Min-SNR (better than Constant in every cell) now beat Ours.
    doctor_ours(tmp_path, seeds, 0.0)
    got = verdicts(tmp_path, plan)
    assert got["ours_beats_constant"] == "inconclusive"
    assert got["ours_best_all_steps"] == "contradicted"
    # Ours much worse in every seed: contradicted, and so is "best of all weightings".
    doctor_ours(tmp_path, seeds, 0.05)
    got = verdicts(tmp_path, plan)
    assert got["ours_beats_constant"] == "contradicted"
    assert got["ours_best_all_steps"] == "contradicted"
    assert got["sampling_efficiency"] == "contradicted"
    # Ours much better in every seed again: supported. Claims on other cells never moved.
    doctor_ours(tmp_path, seeds, -0.05)
    got = verdicts(tmp_path, plan)
    assert got["ours_beats_constant"] == "supported"
    # Claims on other cells never moved (with one seed they may: the doctored cells are the
    # replicated ones the seed noise is pooled from).
    for untouched in ("ours_best_fid_table2", "eps_ours_best_table4", "positive_control"):
        assert got[untouched] == before[untouched] or seed_noise, untouched


def test_doctored_aa_control_is_flagged(tmp_path):
    """Edit the control arm's KID far from the main arm's: the calibration section reports the
    false positive; left alone it is inconclusive."""
    plan = make_results(tmp_path, seeds=3)
    out = tmp_path / "reports" / "report.html"
    CliRunner().invoke(main, ["report", "--plan", str(plan), "--out", str(out), "--no-svg"])
    section = out.read_text().split('id="calibration"')[1].split("</section>")[0]
    assert 'data-verdict="inconclusive"' in section and "The sanity check passes" in section
    assert "<b>sanity check</b>, not a calibration: its comparisons come from 3 pair(s)" in section
    assert 'id="aa-warning"' not in out.read_text()
    for steps in (100, 10):  # the control stands at both of Table 1's step counts
        for r in range(3):
            rel = metrics_path("shapes_large", "constant", steps, 1000 + r)
            record = json.loads((tmp_path / rel).read_text())
            edit_metric(tmp_path, rel, kid=record["kid"] + 0.01 + 0.001 * r)
    CliRunner().invoke(main, ["report", "--plan", str(plan), "--out", str(out), "--no-svg"])
    section = out.read_text().split('id="calibration"')[1].split("</section>")[0]
    assert 'data-verdict="supported"' in section and "A false positive" in section
    assert "The sanity check passes" not in section
    summary = out.read_text().split('id="summary"')[1].split("</section>")[0]
    assert 'id="aa-warning"' in summary  # said where the verdicts are read, not only below
