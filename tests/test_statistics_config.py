"""The `statistics` config block: schema defaults and errors, and its way into plan.json."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness import workflow as wp

PRESETS = Path(__file__).resolve().parents[1] / "workflow" / "config"


@pytest.mark.parametrize("preset, metric", [("smoke", "kid"), ("quick", "kid"),
                                            ("paper", "fid")])
def test_plan_json_carries_the_resolved_statistics(preset, metric):
    config = wp.load_config([PRESETS / f"{preset}.yaml"])
    doc = wp.plan_json(config, wp.build_plan(config), "deadbeef")
    assert doc["statistics"] == {"metric": metric, "confidence": 0.95, "bootstrap": 200}


def test_statistics_overrides_and_bad_values_name_the_key():
    quick = PRESETS / "quick.yaml"
    config = wp.load_config([quick], {"statistics": {"metric": "fid", "bootstrap": 0,
                                                     "confidence": 0.9}})
    assert wp.statistics_settings(config) == {"metric": "fid", "confidence": 0.9,
                                              "bootstrap": 0}
    for bad, key in (({"metric": "is"}, "statistics.metric"),
                     ({"confidence": 1.0}, "statistics.confidence"),
                     ({"bootstrap": -1}, "statistics.bootstrap")):
        with pytest.raises(ValueError, match=f"config key {key}"):
            wp.load_config([quick], {"statistics": bad})


def test_metrics_jobs_get_the_bootstrap_count(tmp_path):
    """A dry run of the smoke DAG prints every metrics job with statistics.bootstrap."""
    override = tmp_path / "over.yaml"
    override.write_text("statistics: {bootstrap: 17}\n")
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(wp.ROOT / "Snakefile"), "-n",
           "-p", "--configfile", str(PRESETS / "smoke.yaml"), str(override)]
    out = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    jobs = [line for line in out.stdout.splitlines() if "harness metrics " in line]
    assert jobs and all("--bootstrap 17" in line for line in jobs), jobs[:2]
