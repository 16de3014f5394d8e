"""`harness estimate`: GPU-hours per stage of a workflow config, before anything runs."""

from __future__ import annotations

import click

from harness import workflow as wp
from harness.commands.options import Number
from harness.estimate import estimate, format_table
from harness.inputs import check_output_path
from harness.runtime import write_json_atomic


@click.command("estimate")
@click.option("--configfile", "configfiles", multiple=True, type=click.Path(exists=True),
              default=[str(wp.ROOT / "workflow/config/quick.yaml")], show_default=True)
@click.option("--bench-dir", default=str(wp.ROOT / "results/bench"), show_default=True,
              type=click.Path(), help="Bench records to use first (CUDA records only).")
@click.option("--tflops", default=40.0, show_default=True, type=Number(exclusive_minimum=0),
              help="Assumed sustained TFLOP/s per GPU where no measurement exists.")
@click.option("--out", type=click.Path(dir_okay=False), help="Also write the estimate as JSON.")
def estimate_command(configfiles, bench_dir, tflops, out) -> None:
    """GPU-hours per stage (train, sample, metrics, refstats, analysis) for a config, one line
    per stage and basis: the CUDA bench record used (device, batch, and how it differs from
    the config's execution options), or FLOPs at --tflops where none fits."""
    if out:
        check_output_path(out, "--out")
    try:
        result = estimate(wp.load_config(list(configfiles)), bench_dir, tflops)
    except (ValueError, FileNotFoundError) as err:
        raise click.ClickException(str(err)) from err
    click.echo(format_table(result))
    if out:
        write_json_atomic(out, result, sort_keys=False)
