"""`harness <verb>`: thin command-line layer over the library.

Each verb lives in its own module under `harness.commands` and is imported only when it is
run, so light verbs (report, cell, estimate, prepare) do not pay for importing torch.
"""

import importlib

import click

VERBS: dict[str, tuple[str, str]] = {
    "prepare": ("harness.commands.prepare", "prepare"),
    "refstats": ("harness.commands.refstats", "refstats_command"),
    "train": ("harness.commands.train", "train_command"),
    "sample": ("harness.commands.sample", "sample_command"),
    "metrics": ("harness.commands.metrics", "metrics_command"),
    "fid": ("harness.commands.fid", "fid_command"),
    "analyze": ("harness.commands.analyze", "analyze_command"),
    "report": ("harness.commands.report", "report_command"),
    "cell": ("harness.commands.cell", "cell_command"),
    "estimate": ("harness.commands.estimate", "estimate_command"),
    "bench": ("harness.commands.bench", "bench"),
    "on-gpus": ("harness.commands.on_gpus", "on_gpus_command"),
}


class LazyGroup(click.Group):
    """A click group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(VERBS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in VERBS:
            return None
        module, attribute = VERBS[cmd_name]
        return getattr(importlib.import_module(module), attribute)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="harness")
def main() -> None:
    """Reproduce 'Unmasking Bias in Diffusion Model Training' (Yu et al.) end to end."""


if __name__ == "__main__":
    main()
