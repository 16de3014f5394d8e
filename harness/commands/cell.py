"""`harness cell`: recompute one table cell (samples, metrics) and the report, never retraining."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys

import click

from harness import workflow as wp

USES = {"1": "table1", "2": "table2", "3": "table3", "4": "table4", "7a": "fig7a", "7b": "fig7b",
        "released": "released"}


@click.command("cell")
@click.option("--table", "table", required=True, type=click.Choice(sorted(USES)),
              help="Table 1-4, figure 7a / 7b, or released (a released arm's cells).")
@click.option("--dataset", help="Config dataset name or the paper dataset it stands for.")
@click.option("--weighting", help="constant, p2, min_snr, debias, ..., or a weighting the config "
                                   "defines or a plugin registers (default: all).")
@click.option("--steps", type=click.IntRange(min=1),
              help="Sampling steps (default: all of the row).")
@click.option("--target", type=click.Choice(["eps", "x0", "v"]))
@click.option("--iteration", type=click.IntRange(min=0),
              help="Checkpoint iteration (run's or paper's, Table 3; 0: the untrained network).")
@click.option("--sampler", type=click.Choice(["ddpm", "ddim"]))
@click.option("--seed", type=int,
              help="Training seed of one replicate (default: every replicate of the cell).")
@click.option("--configfile", "configfiles", multiple=True, type=click.Path(exists=True),
              default=[str(wp.ROOT / "workflow/config/quick.yaml")], show_default=True)
@click.option("--cores", default="all", show_default=True)
@click.option("--no-report", is_flag=True, help="Recompute the cell only, not reports/report.html.")
@click.option("--dry-run", "-n", is_flag=True, help="Show the jobs without running them.")
@click.argument("snakemake_args", nargs=-1, type=click.UNPROCESSED)
def cell_command(table, dataset, configfiles, cores, no_report, dry_run, snakemake_args,
                 **match) -> None:
    """Rerun a table cell (every replicate, or one with --seed): sampling, metrics, report.

    Training and reference statistics that exist are never redone (mtime triggers only, their
    inputs considered ancient). Extra arguments after `--` go to snakemake (e.g. --profile
    workflow/profiles/slurm).
    """
    try:
        config = wp.load_config(list(configfiles))
        plan = wp.build_plan(config)
        cells = wp.select_cells(plan, USES[table], dataset, **match)
    except (ValueError, FileNotFoundError) as err:
        raise click.ClickException(str(err)) from err
    for c in cells:
        click.echo(f"cell: {c.stem}")
    cmd = wp.cell_command(cells, list(configfiles), cores, report=not no_report,
                          dry_run=dry_run, extra=list(snakemake_args), shards=plan.shards)
    click.echo("$ " + shlex.join(cmd), err=True)
    # The rules call `harness`: if it is not on PATH, use the one running now.
    env = dict(os.environ)
    if not shutil.which("harness"):
        env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    sys.exit(subprocess.run(cmd, env=env).returncode)
