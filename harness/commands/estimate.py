"""`harness estimate`: GPU-hours per stage of a workflow config, before anything runs."""

from __future__ import annotations

import click

from harness import workflow_plan as wp
from harness.commands.options import Number
from harness.estimate import estimate
from harness.inputs import check_output_path
from harness.runtime import write_json_atomic


@click.command("estimate")
@click.option("--configfile", "configfiles", multiple=True, type=click.Path(exists=True),
              default=[str(wp.ROOT / "workflow/config/quick.yaml")], show_default=True)
@click.option("--bench-dir", default="results/bench", show_default=True, type=click.Path(),
              help="`harness bench model --train-step --device cuda` records to use first.")
@click.option("--tflops", default=40.0, show_default=True, type=Number(exclusive_minimum=0),
              help="Assumed sustained TFLOP/s per GPU where no measurement exists.")
@click.option("--out", type=click.Path(dir_okay=False), help="Also write the estimate as JSON.")
def estimate_command(configfiles, bench_dir, tflops, out) -> None:
    """GPU-hours per stage (train, sample, metrics, refstats, analysis) for a config."""
    if out:
        check_output_path(out, "--out")
    try:
        result = estimate(wp.load_config(list(configfiles)), bench_dir, tflops)
    except (ValueError, FileNotFoundError) as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"{'stage':<10}{'jobs':>6}{'GPU-hours':>12}  basis")
    for stage, s in result["stages"].items():
        click.echo(f"{stage:<10}{s['jobs']:>6}{s['gpu_hours']:>12.1f}  {'; '.join(s['basis'])}")
    click.echo(f"{'total':<16}{result['total_gpu_hours']:>12.1f}")
    if out:
        write_json_atomic(out, result, sort_keys=False)
