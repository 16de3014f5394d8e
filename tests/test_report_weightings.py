"""The report's weightings section on synthetic result files: the list, the curves, the ranking
with intervals, and the verdicts of a user weighting against Constant and Ours, corrected for
the number of comparisons."""

from __future__ import annotations

import json
import math
import re
import zlib

import pytest
from test_report_helpers import FID, ITER, STANDS_FOR, _cell_json, make_results, metrics_path

from harness.diffusion import WEIGHTINGS
from harness.diffusion.user_weighting import describe, from_config
from harness.report import build_report
from harness.report.evidence import Evidence
from harness.report.judgement import Judgement
from harness.report.tables import build_tables
from harness.report.weightings import family_outcomes, weightings_section
from harness.stats import direction
from harness.stats.estimate import Estimate

MINE = {"space": "eps", "formula": "1/sqrt(1 + snr)", "label": "Ours capped"}


def _with_user_weighting(root, seeds: int):
    """make_results plus a user weighting `mine` in every Table 1 row, between Constant and
    Ours (FID = their mean): better than Constant, worse than Ours."""
    plan_path = make_results(root, seeds=seeds)
    plan = json.loads(plan_path.read_text())
    for (ds, steps), fids in FID.items():
        fid = (fids["constant"] + fids["debias"]) / 2
        cell = {"dataset": ds, "target": "eps", "weighting": "mine", "iteration": ITER,
                "sampler": "ddpm", "steps": steps}
        for r in range(seeds):
            path = metrics_path(ds, "mine-0123abcd", steps, r)
            _cell_json(root / path, cell, fid + 0.5 * r, r, salt=zlib.crc32(path.encode()))
            plan["cells"].append({"uses": ["table1"], "paper_dataset": STANDS_FOR[ds], **cell,
                                  "seed": r, "sample_seed": r, "replicate": r, "arm": "main",
                                  "metrics": path, "grid": path.replace(".json", ".png")})
    entries = [describe(WEIGHTINGS[n]) for n in ("constant", "p2", "min_snr", "debias", "snr")]
    entries.append(describe(from_config("mine", MINE)))
    plan["weightings"] = {"steps": 1000, "noise_schedule": "linear",
                          "entries": [dict(e, folder=e["name"]) for e in entries]}
    plan_path.write_text(json.dumps(plan))
    return plan_path


def test_section_lists_draws_ranks_and_judges(tmp_path):
    plan = _with_user_weighting(tmp_path, seeds=3)
    html = build_report(plan, tmp_path / "reports" / "report.html").read_text()
    section = html.split('<section id="weightings">')[1].split("</section>")[0]
    row = re.search(r'<tr data-weighting="mine" data-kind="formula">(.*?)</tr>', section).group(1)
    assert "Ours capped" in row and "1/sqrt(1 + snr)" in row and ">eps<" in row
    assert ">config<" in row
    assert "(as an eps weight)" in section  # Min-SNR's formula is written as an eps weight
    assert (tmp_path / "reports/assets/weightings_curves.png").read_bytes()[:4] == b"\x89PNG"
    record = json.loads((tmp_path / "reports/assets/weightings.json").read_text())
    # Ranking per dataset and step count: Ours, then mine, then P2/Min-SNR/Constant order.
    ranks = {r["where"]: [row["weighting"] for row in r["rows"]] for r in record["rankings"]}
    first = ranks["shapes_large ddpm100 @2000"]
    assert first.index("debias") < first.index("mine") < first.index("constant")
    assert all(row["ci"][0] < row["value"] < row["ci"][1] for r in record["rankings"]
               for row in r["rows"] if row["value"] is not None and row["ci"])
    verdicts = {(c["weighting"], c["baseline"]): c for c in record["comparisons"]}
    assert verdicts[("mine", "constant")]["verdict"] == "supported"
    assert verdicts[("mine", "debias")]["verdict"] == "contradicted"
    assert verdicts[("mine", "constant")]["verdict_text"] == "supported at toy scale"
    assert 'data-verdict="supported"' in section and 'data-verdict="contradicted"' in section
    details = "\n".join(verdicts[("mine", "debias")]["details"])
    assert "shapes_small ddpm10 @2000: Ours − Ours capped = " in details  # its KID, paired t
    assert "paired t over 3 training seeds" in details


def test_without_user_weightings_only_built_ins_are_listed_and_ranked(tmp_path):
    plan_path = make_results(tmp_path)
    plan = json.loads(plan_path.read_text())
    plan["weightings"] = {"steps": 1000, "noise_schedule": "linear", "entries": [
        dict(describe(WEIGHTINGS[n]), folder=n) for n in ("constant", "debias")]}
    plan_path.write_text(json.dumps(plan))
    ev = Evidence(plan_path)
    section = weightings_section(ev, {t.id: t for t in build_tables(ev)}, tmp_path / "assets")
    assert [e["display"] for e in section.entries] == ["Constant", "Ours"]
    assert section.user == [] and section.comparisons == []
    assert section.rankings and section.figure.png == "weightings_curves.png"


def _judgement(*z: float) -> Judgement:
    """A comparison whose cells have normal test statistics ``z`` (p_support = sf(z))."""
    tests = [direction(f"cell {i}", Estimate(value, 1.0)) for i, value in enumerate(z)]
    return Judgement("inconclusive", tests)


@pytest.mark.parametrize("zs, expected", [
    # One-sided p: z=2.2 -> 0.0139, z=2.1 -> 0.0179, both < 0.025 but Holm over two comparisons
    # needs the smaller below 0.0125: neither is supported.
    ((2.2, 2.1), ["inconclusive", "inconclusive"]),
    # z=3.0 -> 0.00135 < 0.0125, then 0.0179 < 0.025: both.
    ((3.0, 2.1), ["supported", "supported"]),
    ((3.0, 1.5), ["supported", "inconclusive"]),
    # The contradicted comparison stays in the family: 0.0179 is not below 0.0125.
    ((-3.0, 2.1), ["contradicted", "inconclusive"]),
    ((-3.0, 3.0), ["contradicted", "supported"]),
])
def test_family_outcomes_correct_for_the_number_of_comparisons(zs, expected):
    judgements = [_judgement(z) for z in zs]
    assert family_outcomes(judgements, 0.95) == expected
    # A comparison is supported only when every one of its cells is.
    assert family_outcomes([_judgement(4.0, 0.5)], 0.95) == ["inconclusive"]
    # A cell without a result: not run (as for the paper's claims), still one of the family;
    # it never hides a contradiction.
    missing = Judgement("not run", [direction("cell", None, why="not run")])
    assert family_outcomes([missing, _judgement(3.0)], 0.95) == ["not run", "supported"]
    assert family_outcomes([missing, _judgement(2.1)], 0.95) == ["not run", "inconclusive"]
    partly = Judgement("contradicted", [direction("a", None, why="not run"),
                                        direction("b", Estimate(-3.0, 1.0))])
    assert family_outcomes([partly], 0.95) == ["contradicted"]
    assert math.isclose(_judgement(2.2).tests[0].p_support, 0.0139, abs_tol=1e-4)
