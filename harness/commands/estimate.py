"""`harness estimate`: GPU-hours per stage of a workflow config, and with --gpus the hours to
the report, before anything runs."""

from __future__ import annotations

import click

from harness import workflow as wp
from harness.commands.options import Number
from harness.estimate import estimate, format_table
from harness.inputs import check_output_path
from harness.makespan import format_makespan, makespan
from harness.runtime import write_json_atomic


@click.command("estimate")
@click.option("--configfile", "configfiles", multiple=True, type=click.Path(exists=True),
              default=[str(wp.ROOT / "workflow/config/quick.yaml")], show_default=True)
@click.option("--bench-dir", default=str(wp.ROOT / "results/bench"), show_default=True,
              type=click.Path(), help="Bench records to use first (CUDA records only).")
@click.option("--tflops", default=40.0, show_default=True, type=Number(exclusive_minimum=0),
              help="Assumed sustained TFLOP/s per GPU where no measurement exists.")
@click.option("--gpus", "gpu_counts", multiple=True, type=click.IntRange(min=1),
              help="Also print the makespan (hours to the report) on this many GPUs "
                   "(repeatable), and every job longer than runtime x (retries + 1).")
@click.option("--out", type=click.Path(dir_okay=False), help="Also write the estimate as JSON.")
def estimate_command(configfiles, bench_dir, tflops, gpu_counts, out) -> None:
    """GPU-hours per stage (train, sample, metrics, refstats, analysis) for a config, one line
    per stage and basis: the CUDA bench record used (device, batch, and how it differs from
    the config's execution options), or FLOPs at --tflops where none fits.

    With --gpus G: the DAG's jobs (training segments, sample shards, metrics, refstats,
    analyses, the report) scheduled on G GPUs with their dependencies, critical path first;
    the makespan never beats the critical path, nor G GPUs' share of the work."""
    if out:
        check_output_path(out, "--out")
    try:
        config = wp.load_config(list(configfiles))
        result = estimate(config, bench_dir, tflops)
        if gpu_counts:
            result["makespan"] = makespan(result, config["resources"], gpu_counts)
    except (ValueError, FileNotFoundError) as err:
        raise click.ClickException(str(err)) from err
    click.echo(format_table(result))
    if gpu_counts:
        click.echo(format_makespan(result["makespan"]))
    if out:
        write_json_atomic(out, result, sort_keys=False)
