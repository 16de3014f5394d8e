"""`harness weightings`: the loss weightings there are (built-in, a config's, plugins'), with
formula, space and source; their curves drawn to a file on request."""

from __future__ import annotations

from pathlib import Path

import click

from harness import workflow as wp
from harness.diffusion import SCHEDULES
from harness.inputs import check_output_path


def _line(entry: dict) -> str:
    if entry.get("problem"):
        return f"{entry['name']:<14} {entry['kind']:<9} {'':<5} ({entry['problem']})"
    params = ", ".join(f"{k}={v:g}" for k, v in entry["params"].items())
    density = f"; t drawn from p(t) ∝ {entry['density']}" if entry["density"] else ""
    return (f"{entry['name']:<14} {entry['kind']:<9} {entry['space']:<5} {entry['formula']}"
            f"{f' [{params}]' if params else ''}{density} — {entry['source']}")


@click.command("weightings")
@click.option("--configfile", "configfiles", multiple=True, type=click.Path(exists=True),
              help="Workflow config(s) whose `weightings:` to list too (merged in order, "
                   "validated as the workflow does); also sets T, the schedule and the "
                   "built-ins' parameters of the curves.")
@click.option("--plot", type=click.Path(dir_okay=False),
              help="Draw the weight curves (one panel per target: eps, x0, v) into this PNG.")
@click.option("--name", "names", multiple=True,
              help="Only these weightings (repeatable; default: all listed).")
@click.option("--steps", type=click.IntRange(min=2), default=1000, show_default=True,
              help="T of the curves without --configfile.")
@click.option("--noise-schedule", type=click.Choice(SCHEDULES), default="linear",
              show_default=True, help="Schedule of the curves without --configfile.")
def weightings_command(configfiles, plot, names, steps, noise_schedule) -> None:
    """List the weightings: name, kind (built-in, formula from a config, plugin), space (the MSE
    the formula multiplies), formula and source. A bad config weighting fails naming its key."""
    if plot:
        check_output_path(plot, "--plot")
        if Path(plot).suffix != ".png":
            raise click.BadParameter("the file name must end in .png", param_hint="--plot")
    config = wp.load_config(list(configfiles)) if configfiles else None
    entries = wp.catalog(config)
    if names:
        unknown = sorted(set(names) - {e["name"] for e in entries})
        if unknown:
            raise click.BadParameter(f"unknown weighting(s) {unknown}; listed: "
                                     f"{[e['name'] for e in entries]}", param_hint="--name")
        entries = [e for e in entries if e["name"] in names]
    click.echo(f"{'name':<14} {'kind':<9} {'space':<5} formula — source")
    for entry in entries:
        click.echo(_line(entry))
    if plot:
        from harness.report.weightings import curves_figure  # matplotlib: only when drawing

        if config:
            steps, noise_schedule = (config["diffusion"]["steps"],
                                     config["diffusion"]["noise_schedule"])
        drawable = [e for e in entries if not e.get("problem")]
        _, notes = curves_figure(drawable, steps, noise_schedule, Path(plot), svg=False)
        for note in notes:
            click.echo(f"warning: {note}", err=True)
        click.echo(f"curves: {plot}")
