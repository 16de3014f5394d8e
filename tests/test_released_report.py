"""The report's released section and the claims on released networks, on result files laid out
as the workflow writes them for P2's FFHQ arms at T = 1000 (the numbers are made up around
P2's published ones, so that each verdict can be turned by doctoring one file)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from harness.report import build_report
from harness.report.claims import judge_claims
from harness.report.evidence import Evidence
from harness.report.tables import build_tables

ARMS = {"base_ffhq": ("constant", "p2/ffhq_baseline.pt"), "p2_ffhq": ("p2", "p2/ffhq_p2.pt")}


def metrics_record(fid: float, kid: float, samples: int, seed: int, mode: str = "clean",
                   modes: dict | None = None) -> dict:
    """A metrics JSON with bootstrap replicates spread by ~1% of the value."""
    rng = np.random.default_rng(seed)
    boot = {"resamples": 200, "seed": 0, "samples": samples, "color_shift": None,
            "fid": (fid + 0.01 * fid * rng.standard_normal(200)).tolist(),
            "kid": (kid + 0.01 * kid * rng.standard_normal(200)).tolist()}
    return {"status": "ok", "fid": fid, "kid": kid, "kid_std": 0.0001, "color_shift": None,
            "bootstrap": boot, "intervals": None, "inception_score": None,
            "modes": modes or {},
            "protocol": {"mode": mode, "modes": [mode, *(modes or {})],
                         "num_generated": samples, "inception_sha256": "ab" * 32},
            "provenance": {"code_commit": "abc", "config_hash": "c", "device": "cuda"}}


def write_results(root: Path, fid: dict, kid: dict, samples: int = 50_000,
                  published: str = "p2") -> Path:
    cells, released = [], {}
    for i, (arm, (weighting, path)) in enumerate(ARMS.items()):
        metrics = f"results/metrics/ffhq/released/{arm}/ddpm1000.json"
        cells.append({"uses": ["released"], "released": arm, "paper_dataset": "ffhq",
                      "dataset": "ffhq", "target": "eps", "weighting": weighting, "seed": None,
                      "iteration": None, "sampler": "ddpm", "steps": 1000, "replicate": 0,
                      "arm": "main", "metrics": metrics,
                      "grid": f"results/samples/ffhq/released/{arm}/ddpm1000.png"})
        (root / metrics).parent.mkdir(parents=True, exist_ok=True)
        result = metrics_record(fid[arm], kid[arm], samples, i)
        result["provenance"]["released"] = {"arm": arm, "path": f"/data/{path}"}
        result["cell"] = {k: cells[-1][k] for k in ("dataset", "target", "weighting",
                                                   "iteration", "sampler", "steps")}
        (root / metrics).write_text(json.dumps(result))
        record = f"results/released/{arm}.json"
        (root / record).parent.mkdir(parents=True, exist_ok=True)
        (root / record).write_text(json.dumps({
            "format": "harness-released/1", "arm": arm, "path": f"/data/{path}",
            "size_bytes": 374_000_000 + i, "sha256": f"{i}" * 64, "source": "P2"}))
        released[arm] = {"dataset": "ffhq", "weighting": weighting, "target": "eps",
                         "path": path, "file": f"/data/{path}", "sha256": None,
                         "source": "Choi et al. 2022", "published": published,
                         "record": record}
    plan = {"preset": "released", "scale": "paper", "cells": cells, "released": released,
            "datasets": {"ffhq": {"stands_for": "ffhq", "count": 70000, "resolution": 256,
                                  "class_cond": False, "source": "folder"}},
            "statistics": {"metric": "fid", "confidence": 0.95, "bootstrap": 200}}
    (root / "results" / "plan.json").write_text(json.dumps(plan))
    return root / "results" / "plan.json"


P2_NUMBERS = ({"base_ffhq": 7.9, "p2_ffhq": 6.95}, {"base_ffhq": 0.00386, "p2_ffhq": 0.00345})


def claims_of(plan: Path) -> dict:
    ev = Evidence(plan)
    return {c.claim.id: c for c in judge_claims(ev, {t.id: t for t in build_tables(ev)})}


def test_the_released_section_sets_ours_beside_p2s_numbers(tmp_path):
    plan = write_results(tmp_path, *P2_NUMBERS)
    html = build_report(plan, tmp_path / "reports" / "report.html").read_text()
    section = html[html.index('<section id="released">'):]
    section = section[:section.index("</section>")]
    rows = re.findall(r'<tr data-arm="(\w+)" data-steps="(\d+)">(.*?)</tr>', section, re.S)
    assert [(a, s) for a, s, _ in rows] == [("base_ffhq", "1000"), ("p2_ffhq", "1000")]
    base, p2 = rows[0][2], rows[1][2]
    assert '<td class="num" data-published="fid">7.86' in base and ">3.85<" in base
    assert '<td class="num" data-published="fid">6.92' in p2 and ">3.46<" in p2
    assert "6.950" in p2 and "3.450" in p2  # ours; KID x 10^3 as published
    assert "P2 Table 1: clean-fid, clean mode, 50k samples" in p2
    assert "Δ +0.03" in p2 and "across protocols" not in p2
    assert "/data/p2/ffhq_p2.pt" in section and "374,000,001 bytes" in section
    assert "1" * 64 in section
    assert "<code>ffhq/released/p2_ffhq/ddpm/1000</code>" in html  # provenance: every file
    csv = (tmp_path / "reports" / "assets" / "released.csv").read_text().splitlines()
    assert csv[0].startswith("arm,dataset,weighting") and len(csv) == 3
    claims = json.loads((tmp_path / "reports" / "assets" / "claims.json").read_text())
    verdicts = {c["id"]: c["verdict"] for c in claims}
    assert verdicts["released_reproduces"] == "supported"
    assert verdicts["released_positive_control"] == "supported"
    # No trained positive control ran: the summary opens with the one on released networks.
    assert 'id="regime" data-shown="yes"' in html and "P2&#39;s released networks" in html


def test_numbers_far_from_the_published_ones_contradict_the_reproduction(tmp_path):
    fid, kid = dict(P2_NUMBERS[0]), dict(P2_NUMBERS[1])
    fid["p2_ffhq"], kid["p2_ffhq"] = 9.5, 0.0060  # 37% and 73% above P2's
    claim = claims_of(write_results(tmp_path, fid, kid))["released_reproduces"]
    assert claim.verdict == "contradicted", claim.reproduced.details
    assert any(line.startswith("ffhq p2_ffhq T=1000: FID ours − published (P2 Table 1) = +2.58")
               for line in claim.reproduced.details)
    assert claim.in_paper.outcome == "no numbers"


def test_the_positive_control_between_released_networks_adds_the_seed_prior(tmp_path):
    fid = {"base_ffhq": 7.0, "p2_ffhq": 6.9}  # apart by far more than sampling noise ...
    claim = claims_of(write_results(tmp_path, fid, P2_NUMBERS[1]))["released_positive_control"]
    assert claim.verdict == "inconclusive", claim.reproduced.details  # ... not seed noise
    assert "training-seed noise prior" in claim.reproduced.details[0]
    assert claim.in_paper.outcome == "supported"  # P2's own numbers, with the same prior
    swapped = {"base_ffhq": 6.9, "p2_ffhq": 7.9}
    claim = claims_of(write_results(tmp_path, swapped, P2_NUMBERS[1]))
    assert claim["released_positive_control"].verdict == "contradicted"


def test_fewer_samples_compare_kid_only(tmp_path):
    claim = claims_of(write_results(tmp_path, *P2_NUMBERS, samples=10_000))[
        "released_reproduces"]
    labels = [t.label for t in claim.reproduced.tests]
    assert labels == ["ffhq base_ffhq T=1000: KID ours − published (P2 Table 1)",
                      "ffhq p2_ffhq T=1000: KID ours − published (P2 Table 1)"]
    assert any("FID at 10,000 samples is not compared with FID-50k" in n
               for n in claim.reproduced.notes)


def test_another_protocol_is_labelled_and_not_judged(tmp_path):
    """Numbers published by the Debias paper (TensorFlow evaluator): ours in legacy_tensorflow
    where computed, the comparison labelled as one across protocols."""
    plan = write_results(tmp_path, *P2_NUMBERS, published="debias")
    path = tmp_path / "results/metrics/ffhq/released/p2_ffhq/ddpm1000.json"
    record = json.loads(path.read_text())
    record["modes"] = {"legacy_tensorflow": {**metrics_record(6.6, 0.0034, 50_000, 9),
                                             "refstats_file": "x"}}
    record["protocol"]["modes"] = ["clean", "legacy_tensorflow"]
    path.write_text(json.dumps(record))
    html = build_report(plan, tmp_path / "reports" / "report.html").read_text()
    row = re.search(r'<tr data-arm="p2_ffhq".*?</tr>', html, re.S).group(0)
    assert "6.600" in row and "clean-fid legacy_tensorflow (of clean, legacy_tensorflow)" in row
    assert "Debias Table 1" in row and "6.517" in row  # the paper's P2 column at T=1000
    assert "across protocols: ours clean-fid legacy_tensorflow mode" in row
    claim = claims_of(plan)["released_reproduces"]
    assert claim.verdict == "not run" and "across protocols" in claim.reproduced.details[-1]


@pytest.mark.parametrize("table", ["table1", "table2", "table3", "table4"])
def test_every_paper_table_names_the_protocols_it_compares(tmp_path, table):
    plan = write_results(tmp_path, *P2_NUMBERS)
    caption = {t.id: t.caption for t in build_tables(Evidence(plan))}[table]
    assert "Paper numbers: guided-diffusion's TensorFlow evaluator, 50k samples" in caption
    assert "P2*: clean-fid, clean mode" in caption and "across protocols" in caption
