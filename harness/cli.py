"""`harness <verb>`: thin command-line layer over the library."""

import click

from harness.commands.analyze import analyze_command
from harness.commands.bench import bench
from harness.commands.cell import cell_command
from harness.commands.estimate import estimate_command
from harness.commands.fid import fid_command
from harness.commands.metrics import metrics_command
from harness.commands.prepare import prepare
from harness.commands.refstats import refstats_command
from harness.commands.report import report_command
from harness.commands.sample import sample_command
from harness.commands.train import train_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="harness")
def main() -> None:
    """Reproduce 'Unmasking Bias in Diffusion Model Training' (Yu et al.) end to end."""


# Verbs are registered below, one line each.
main.add_command(prepare)
main.add_command(train_command)
main.add_command(sample_command)
main.add_command(bench)
main.add_command(analyze_command)
main.add_command(report_command)
main.add_command(cell_command)
main.add_command(estimate_command)
main.add_command(fid_command)
main.add_command(refstats_command)
main.add_command(metrics_command)
