"""End to end: the smoke preset through the real `harness` verbs, into a temporary directory."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_smoke_preset_end_to_end(tmp_path):
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env["PATH"]
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
           "--profile", str(ROOT / "workflow/profiles/local"), "--cores", "2",
           "--configfile", str(ROOT / "workflow/config/smoke.yaml")]
    out = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-5000:]
    assert (tmp_path / "reports/report.html").stat().st_size > 0
    plan = json.loads((tmp_path / "results/plan.json").read_text())
    assert plan["preset"] == "smoke"
    for cell in plan["cells"]:
        result = json.loads((tmp_path / cell["metrics"]).read_text())
        assert result["cell"] == {k: cell[k] for k in ("dataset", "target", "weighting",
                                                       "iteration", "sampler", "steps")}
        assert result["status"] == "ok" or result["status"].startswith("diverged")
        assert (tmp_path / cell["grid"]).exists()
    for item in plan["analysis"]:
        assert json.loads((tmp_path / item["mse"]).read_text())
    # The released arms (random networks in guided-diffusion's layout): checked, sampled and
    # measured, their file's digest carried into every cell, and their section in the report.
    released = [c for c in plan["cells"] if c.get("released")]
    assert sorted(c["released"] for c in released) == ["base_tiny", "p2_tiny"]
    for cell in released:
        file = tmp_path / "results" / "released" / f"{cell['released']}.pt"
        digest = hashlib.sha256(file.read_bytes()).hexdigest()
        provenance = json.loads((tmp_path / cell["metrics"]).read_text())["provenance"]
        assert provenance["released"]["sha256"] == digest
        assert provenance["released"]["size_bytes"] == file.stat().st_size
    html = (tmp_path / "reports/report.html").read_text()
    section = html[html.index('<section id="released">'):]
    section = section[:section.index("</section>")]
    assert 'data-arm="base_tiny" data-steps="4"' in section and "p2_tiny (P2)" in section
    claims = json.loads((tmp_path / "reports/assets/claims.json").read_text())
    assert {"released_reproduces", "released_positive_control"} <= {c["id"] for c in claims}
    # Nothing left to do: a second run is a no-op.
    again = subprocess.run(cmd + ["--dry-run"], cwd=tmp_path, env=env, capture_output=True,
                           text=True)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr
