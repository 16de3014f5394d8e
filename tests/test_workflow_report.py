"""`snakemake --report`: Snakemake's own report of a finished run holds the harness report,
every table and figure (each with its caption) and every cell's sample grid."""

from __future__ import annotations

import pytest
from test_workflow import PRESETS, snakemake, stub  # noqa: F401 (stub is a fixture)

from harness import workflow as wp


@pytest.mark.slow
def test_snakemake_report_registers_tables_figures_and_grids(stub):  # noqa: F811
    bindir, work = stub
    smoke = ["--configfile", str(PRESETS / "smoke.yaml")]
    snakemake(["--cores", "2", *smoke], work, bindir)  # the stand-in report writes assets/
    out = snakemake(["--report", "snakemake-report.html", *smoke], work, bindir)
    added = out.stdout + out.stderr
    cells = wp.build_plan(wp.load_config([PRESETS / "smoke.yaml"])).unique_cells()
    assert added.count("Adding ddpm") == len(cells)  # one grid per cell and replicate
    for name in ("report.html", "table1.csv", "fig4_mse.png"):
        assert f"Adding {name} (" in added
    html = (work / "snakemake-report.html").read_text()
    for text in ("Table 1, unconditional generation (FID)",  # captions (workflow/report/)
                 "Fig. 4: MSE between the network's prediction and the noise",
                 "Preview grid of the cell's samples", "Tables", "Figures", "Samples",
                 "The harness reproduces"):
        assert text in html, text
