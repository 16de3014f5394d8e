"""`harness regime-table`: the positive-control search's rows (results/regime/plan.md), read
from each run directory, written into the search document's table block and drawn."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("regime-table")
@click.option("--runs", type=click.Path(file_okay=False, path_type=Path),
              default=Path("results/regime/runs"), show_default=True,
              help="Run directories of scripts/regime-search.sh, one per row.")
@click.option("--configs", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=Path("results/regime/configs"), show_default=True,
              help="The rows' config files (ROW.yaml).")
@click.option("--out", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=Path("results/regime/search.md"), show_default=True,
              help="The search document; its '<!-- search:table -->' block is rewritten.")
@click.option("--figure", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("results/regime/search.png"), show_default=True,
              help="The figure of every row's differences (PNG).")
def regime_table_command(runs: Path, configs: Path, out: Path, figure: Path) -> None:
    """Rewrite the search table from the run directories (rows not run yet are left out;
    a run without a report is a failed row naming why)."""
    from harness.inputs import check_output_path
    from harness.regime import draw, markdown_table, read_rows, replace_block

    document = out.read_text()
    try:
        replace_block(document, "")
    except ValueError as err:
        raise click.BadParameter(f"{out}: {err}", param_hint="--out") from None
    check_output_path(figure, "--figure")
    rows = read_rows(runs, configs)
    out.write_text(replace_block(document, markdown_table(rows)))
    draw(rows, figure)
    click.echo(f"{len(rows)} rows -> {out}, {figure}")
