"""`harness report`: tables, figures, claims and report.html from plan.json."""

from __future__ import annotations

import click


@click.command("report")
@click.option("--plan", "plan", required=True, type=click.Path(dir_okay=False),
              help="plan.json written by the workflow (which cell stands for which paper cell).")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="Output HTML file; its assets go to the 'assets' folder beside it.")
@click.option("--svg/--no-svg", default=True, show_default=True,
              help="Also write SVG versions of the plots (--no-svg: PNG only, e.g. for examples).")
def report_command(plan: str, out: str, svg: bool) -> None:
    """Write the HTML report (+ assets/: figures PNG/SVG, tables CSV) for PLAN."""
    from harness.report import build_report  # matplotlib import only when used

    path = build_report(plan, out, svg=svg)
    click.echo(f"report: {path.resolve()}")
