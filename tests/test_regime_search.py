"""The positive-control search's table: rows read from what a run wrote (claims.json's tests,
table1.csv, time.txt); a run without a report is a failed row naming why."""

import json

import pytest
import yaml

from harness.regime import markdown_table, read_rows, replace_block

CONFIG = {
    "replicates": 3, "datasets": {"p": {"source": "builtin:photopatches", "resolution": 32,
                                        "count": 300}},
    "model": {"num_channels": 32}, "training": {"iterations": 400, "seed": 0},
    "sampling": {"sampler": "ddim", "num_samples": 100},
    "experiments": {"table1": {"rows": [{"dataset": "p", "steps": [100]}]}},
}


def _run(tmp_path, name, tests, verdict="supported"):
    (tmp_path / "configs").mkdir(exist_ok=True)
    (tmp_path / "configs" / f"{name}.yaml").write_text(yaml.safe_dump(CONFIG))
    run = tmp_path / "runs" / name
    assets = run / "reports" / "assets"
    assets.mkdir(parents=True)
    (run / "time.txt").write_text("100.0 20.0 70.5\n")
    claims = [{"id": "other", "verdict": "contradicted", "tests": []},
              {"id": "positive_control", "verdict": verdict, "tests": tests}]
    (assets / "claims.json").write_text(json.dumps(claims))
    for w, kids in (("constant", (0.11, 0.12, 0.13)), ("p2", (0.08, 0.07, 0.09))):
        for seed, kid in enumerate(kids):
            cell = run / "results" / "metrics" / "p" / f"eps-{w}" / f"seed{seed}" / "400"
            cell.mkdir(parents=True)
            (cell / "ddim100.json").write_text(json.dumps({"kid": kid, "fid": 300.0}))


def _test(label, value, se):
    return {"label": f"p (stands for FFHQ) T=100: Constant − {label}", "value": value,
            "se": se, "df": 2, "interval": [value - 4.3 * se, value + 4.3 * se],
            "outcome": "supported"}


def test_rows_read_the_reports_own_tests_as_weighting_minus_constant(tmp_path):
    _run(tmp_path, "s1-a", [_test("P2", 0.04, 0.005), _test("Min-SNR", 0.03, 0.01)])
    _run(tmp_path, "s10-b", [_test("P2", 0.01, 0.01)], verdict="inconclusive")
    (tmp_path / "configs" / "s2-c.yaml").write_text(yaml.safe_dump(CONFIG))
    (tmp_path / "runs" / "s2-c").mkdir()
    (tmp_path / "runs" / "s2-c" / "time.txt").write_text("Command exited with non-zero status 1"
                                                         "\n5.0 1.0 7.0\n")
    (tmp_path / "runs" / "s2-c" / "snakemake.log").write_text("...\nError in rule train\n")
    (tmp_path / "configs" / "s3-d.yaml").write_text(yaml.safe_dump(CONFIG))
    (tmp_path / "runs" / "s3-d").mkdir()  # started, neither finished nor failed
    (tmp_path / "runs" / "s3-d" / "time.txt").write_text("")
    _run(tmp_path, "c1-e", [_test("P2", 0.04, 0.005), _test("Min-SNR", 0.03, 0.01)])
    rows = read_rows(tmp_path / "runs", tmp_path / "configs")
    # search rows in numeric order, then confirmations
    assert [r.name for r in rows] == ["s1-a", "s2-c", "s3-d", "s10-b", "c1-e"]
    first, failed, running, partial, _ = rows
    assert running.verdict == "not finished"
    assert first.cpu_seconds == 120.0 and first.verdict == "supported"
    p2 = first.differences["p2"]
    assert (p2.value, p2.t) == (-0.04, -8.0) and p2.low == pytest.approx(-0.04 - 4.3 * 0.005)
    assert first.weaker_t == 3.0  # Min-SNR's 0.03 / 0.01 is the weaker arm
    mean, low, high = first.kid["Constant"]  # 0.12 ± t(0.975, 2) · 0.01 / √3
    assert mean == pytest.approx(0.12) and high - mean == pytest.approx(4.3027 * 0.01 / 3 ** 0.5,
                                                                          rel=1e-4)
    assert first.kid["P2"][0] == pytest.approx(0.08) and "Min-SNR" not in first.kid
    assert failed.verdict == "failed" and failed.why == "no report: Error in rule train"
    assert partial.weaker_t is None
    table = markdown_table(rows)
    assert "| s1-a | photopatches 32 px (300 images), width 32, 400 it, DDIM 100" in table
    assert "-0.0400 [" in table and "failed (no report: Error in rule train)" in table


def test_the_table_block_is_replaced_and_a_document_without_it_refused():
    doc = "head\n<!-- search:table -->\nold\n<!-- /search:table -->\ntail\n"
    assert replace_block(doc, "new\n") == (
        "head\n<!-- search:table -->\nnew\n<!-- /search:table -->\ntail\n")
    with pytest.raises(ValueError, match="no '<!-- search:table -->'"):
        replace_block("nothing here", "new\n")
