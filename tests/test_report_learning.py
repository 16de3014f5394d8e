"""The report's 'trained, not random' line: each run's deciding metric at its last checkpoint
against the same seed's untrained network (iteration 0)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from test_report_helpers import ITER, edit_metric, make_results, metrics_path

from harness.cli import main
from harness.report.evidence import Evidence
from harness.report.learning import learning_ratios


def _with_iteration_zero(root, plan_path, kid_at_zero: dict[str, float]):
    """Give the Fig. 7a runs an iteration-0 cell (copies of their first cell, KID edited)."""
    plan = json.loads(plan_path.read_text())
    extra = []
    for cell in plan["cells"]:
        w = cell["weighting"]
        if "fig7a" in cell["uses"] and cell["iteration"] == 500 and w in kid_at_zero:
            zero = dict(cell, iteration=0,
                        metrics=metrics_path("shapes_large", w, 100, cell["seed"], 0))
            (root / zero["metrics"]).parent.mkdir(parents=True, exist_ok=True)
            (root / zero["metrics"]).write_text((root / cell["metrics"]).read_text())
            edit_metric(root, zero["metrics"], kid=kid_at_zero[w])
            extra.append(zero)
    plan["cells"] += extra
    plan_path.write_text(json.dumps(plan))


def test_ratio_is_final_over_initial_per_run_and_seed(tmp_path):
    plan = make_results(tmp_path, seeds=2)
    _with_iteration_zero(tmp_path, plan, {"constant": 0.4, "debias": 0.2})
    ev = Evidence(plan)
    ratios = {r.run: r for r in learning_ratios(ev)}
    assert len(ratios) == 4  # two weightings x two seeds of the Fig. 7a runs
    for label, r in ratios.items():
        weighting = "constant" if "constant" in label else "debias"
        seed = int(label.split("replicate ")[1].split()[0])
        # The run's last checkpoint at this sampler and step count: Table 1's, at ITER.
        last = json.loads((tmp_path / metrics_path("shapes_large", weighting, 100, seed, ITER))
                          .read_text())["kid"]
        assert r.iteration == ITER
        assert r.initial == {"constant": 0.4, "debias": 0.2}[weighting]
        assert r.ratio == pytest.approx(last / r.initial, rel=1e-12)


def test_report_summary_shows_the_ratio_and_no_line_without_iteration_zero(tmp_path):
    plan = make_results(tmp_path / "a", seeds=1)
    out = tmp_path / "a" / "reports" / "report.html"
    assert CliRunner().invoke(main, ["report", "--plan", str(plan), "--out", str(out),
                                     "--no-svg"]).exit_code == 0
    assert 'id="learning"' not in out.read_text()
    _with_iteration_zero(tmp_path / "a", plan, {"constant": 0.4, "debias": 0.2})
    assert CliRunner().invoke(main, ["report", "--plan", str(plan), "--out", str(out),
                                     "--no-svg"]).exit_code == 0
    line = out.read_text().split('id="learning"')[1].split("</p>")[0]
    assert "mean ratio" in line and "0.4 →" in line and f"at {ITER} it" in line
