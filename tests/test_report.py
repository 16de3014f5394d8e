"""The report from synthetic result files (real JSON/NPZ/PNG through the real code path)."""

import csv
import json

import pytest
from click.testing import CliRunner
from test_report_helpers import make_results

from harness.cli import main
from harness.report import build_report
from harness.report.claims import judge_claims, paper_view
from harness.report.evidence import Evidence
from harness.report.tables import build_tables

T1_CONSTANT_T20 = "results/metrics/shapes_large/eps-constant/2000/ddpm20.json"


def _claims(plan):
    ev = Evidence(plan)
    tables = {t.id: t for t in build_tables(ev)}
    return ev, tables, {c.claim.id: c for c in judge_claims(ev, tables)}


def _csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_claims_reproduced_on_synthetic_evidence(tmp_path):
    plan = make_results(tmp_path, seeds=3)
    _, tables, claims = _claims(plan)
    for cid in ("ours_beats_constant", "ours_best_all_steps", "gain_grows_fewer_steps",
                "gain_larger_small_datasets", "ours_best_fid_table2", "ours_best_is_table2",
                "eps_ours_best_table4",
                "ours_beats_adm_longer_better", "snr_worst", "mse_above_initial",
                "ours_fewer_iterations"):
        assert claims[cid].verdict == "reproduced", (cid, claims[cid].reproduced.details)
        assert claims[cid].verdict_text == "reproduced at toy scale"
    # mean ± std over the three seeds of one cell (24.0, 24.5, 25.0)
    row = next(r for r in tables["table1"].rows if r.key == ("ffhq", 100))
    obs = row.cells["debias"].obs
    assert obs.n == 3 and obs.value == pytest.approx(24.5) and obs.std == pytest.approx(0.5)
    assert row.cells["debias"].paper == 10.815
    assert row.cells["debias"].difference == pytest.approx(24.5 - 10.815)
    assert row.cells["debias"].best_repro and row.cells["debias"].best_paper
    assert not row.cells["constant"].best_repro
    # rows the plan never asked for are shown with the paper's value and "not run"
    row = next(r for r in tables["table1"].rows if r.key == ("celebahq", 1000))
    assert row.cells["constant"].obs.status == "not run" and row.cells["constant"].paper == 9.374


def test_deleted_cell_is_not_run_and_its_claims_too(tmp_path):
    plan = make_results(tmp_path)
    (tmp_path / T1_CONSTANT_T20).unlink()
    _, tables, claims = _claims(plan)
    row = next(r for r in tables["table1"].rows if r.key == ("ffhq", 20))
    assert row.cells["constant"].obs.status == "not run"
    for cid in ("ours_beats_constant", "ours_best_all_steps", "gain_grows_fewer_steps",
                "gain_larger_small_datasets"):
        assert claims[cid].verdict == "not run", cid
        assert any("not run" in d for d in claims[cid].reproduced.details)
    assert claims["ours_best_fid_table2"].verdict == "reproduced"


def test_offline_is_leaves_only_the_is_claim_not_run(tmp_path):
    """Offline there are no classifier logits: IS is null, FID still decides its own claim."""
    plan = make_results(tmp_path)
    for path in (tmp_path / "results/metrics/shapes_classes").rglob("*.json"):
        record = json.loads(path.read_text())
        record.update(inception_score=None, inception_score_note="no classifier weights")
        path.write_text(json.dumps(record))
    _, _, claims = _claims(plan)
    assert claims["ours_best_fid_table2"].verdict == "reproduced"
    assert claims["ours_best_is_table2"].verdict == "not run"
    assert "why: no classifier weights" in claims["ours_best_is_table2"].reproduced.details


def test_diverged_and_contradicted(tmp_path):
    plan = make_results(tmp_path)
    path = tmp_path / "results/metrics/shapes_large/eps-debias/2000/ddpm20.json"
    record = json.loads(path.read_text())
    record.update(status="diverged at step 700", fid=None)
    path.write_text(json.dumps(record))
    status = tmp_path / "results/train/shapes_large/eps-snr/status.json"
    status.write_text(json.dumps({"status": "diverged", "step": 123,
                                  "message": "diverged at step 123"}))
    _, tables, claims = _claims(plan)
    row = next(r for r in tables["table1"].rows if r.key == ("ffhq", 20))
    assert row.cells["debias"].obs.status == "diverged at step 700"
    assert claims["ours_beats_constant"].verdict == "not reproduced"
    assert claims["ours_beats_constant"].verdict_text == "not reproduced at toy scale"
    assert claims["snr_worst"].verdict == "reproduced"
    assert "diverged at step 123" in claims["snr_worst"].reproduced.details[0]


def test_paper_numbers_self_check():
    from harness.report.claims import JUDGES

    view = paper_view()
    assert JUDGES["ours_beats_constant"](view).outcome == "supported"
    # The paper's own Table 1 does not show the gain growing in CelebA-HQ and MetFaces,
    # and Min-SNR has the higher IS on CIFAR-10 (8.14 vs 8.13).
    assert JUDGES["gain_grows_fewer_steps"](view).outcome == "contradicted"
    assert JUDGES["ours_best_table2_is"](view).outcome == "contradicted"
    assert JUDGES["ours_best_table2_fid"](view).outcome == "supported"
    assert JUDGES["gain_larger_small_datasets"](view).outcome == "supported"
    assert JUDGES["mse_above_initial"](view).outcome == "no numbers"


def test_missing_plan_names_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="plan.json"):
        Evidence(tmp_path / "plan.json")
    (tmp_path / "plan.json").write_text("{}")
    with pytest.raises(ValueError, match="cells"):
        Evidence(tmp_path / "plan.json")


@pytest.mark.slow
def test_full_report_with_a_deleted_cell(tmp_path):
    plan = make_results(tmp_path, seeds=2)
    (tmp_path / T1_CONSTANT_T20).unlink()
    out = tmp_path / "reports" / "report.html"
    result = CliRunner().invoke(main, ["report", "--plan", str(plan), "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    for anchor in ('id="summary"', 'id="claims"', 'id="table1"', 'id="table2"', 'id="table3"',
                   'id="table4"', 'id="fig4"', 'id="fig7a"', 'id="fig7b"', 'id="fig2"',
                   'id="fig5"', 'id="fig10"', 'id="provenance"'):
        assert anchor in html, anchor
    assert "not run" in html and "± 0.354 (n=2)" in html and "toy scale" in html
    assets = out.parent / "assets"
    for name in ("fig2_snr", "fig4_mse", "fig5_weightings", "fig7a_iterations", "fig7b_steps",
                 "fig10_mse_all", "fig3_x0_shapes_large", "grid_shapes_large_ddpm"):
        assert (assets / f"{name}.png").stat().st_size > 1000
        assert (assets / f"{name}.svg").exists() == (not name.startswith(("fig3", "grid")))
    rows = _csv(assets / "table1.csv")
    gone = [r for r in rows if r["row"] == "FFHQ, T=20" and r["column"] == "Constant"]
    assert gone[0]["status"] == "not run" and gone[0]["paper"] == "41.2700"
    assert "<script" not in html and "http://" not in html and "https://" not in html


@pytest.mark.slow
def test_report_from_the_workflow_plan_before_anything_ran(tmp_path, monkeypatch):
    """The quick preset's real plan.json with no result files: everything 'not run', no crash."""
    from pathlib import Path

    from harness import workflow_plan as wp

    config = Path(__file__).resolve().parents[1] / "workflow" / "config" / "quick.yaml"
    cfg = wp.load_config([config])
    doc = wp.plan_json(cfg, wp.build_plan(cfg, check_paths=False), "deadbeef")
    plan = tmp_path / "results" / "plan.json"
    plan.parent.mkdir()
    plan.write_text(json.dumps(doc))
    monkeypatch.chdir(tmp_path)
    ev, tables, claims = _claims(plan)
    assert all(c.verdict == "not run" for c in claims.values())
    out = build_report(plan, tmp_path / "reports" / "report.html")
    html = out.read_text()
    assert "cells planned" in html and html.count("not run") > 20
    rows = _csv(out.parent / "assets" / "table4.csv")
    assert {r["status"] for r in rows} == {"not run"}


def test_claims_use_only_the_weightings_the_plan_has(tmp_path):
    plan = make_results(tmp_path)
    doc = json.loads(plan.read_text())
    doc["cells"] = [c for c in doc["cells"] if c["weighting"] in ("constant", "debias")]
    plan.write_text(json.dumps(doc))
    _, tables, claims = _claims(plan)
    best = claims["ours_best_all_steps"]
    assert best.verdict == "reproduced"
    assert "not in plan: P2, Min-SNR" in best.reproduced.details[0]
    row = next(r for r in tables["table1"].rows if r.key == ("ffhq", 100))
    assert row.cells["p2"].obs.status == "not run" and not row.cells["p2"].planned
    assert claims["ours_best_fid_table2"].verdict == "reproduced"


def test_training_time_from_status_or_log_throughput(tmp_path):
    from harness.report.provenance import _training_seconds

    run = tmp_path / "run"
    run.mkdir()
    (run / "status.json").write_text('{"status": "completed", "step": 20}')
    (run / "config.json").write_text('{"options": {"batch_size": 4, "device": "cuda"}}')
    (run / "log.csv").write_text("step,loss,samples_per_s\n10,1.0,8.0\n20,0.5,4.0\n")
    # 10 steps x 4 images / 8 img/s + 10 x 4 / 4 = 5 s + 10 s
    assert _training_seconds(run) == (15.0, "cuda")
    (run / "status.json").write_text('{"status": "completed", "step": 20, "wall_time_s": 7}')
    assert _training_seconds(run) == (7.0, "cuda")
