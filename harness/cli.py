"""`harness <verb>`: thin command-line layer over the library.

Each verb lives in its own module under `harness.commands` and is imported only when it is
run, so light verbs (report, cell, estimate, prepare) do not pay for importing torch.

One error boundary for every verb: a user error (harness.errors) is printed as one line,
`Error: ...`, naming the file, key or value; any other exception is a defect, whose full
traceback goes to a file that the one line names (`harness --debug <verb>` prints it instead).
Both exit with status 1 (a missing GPU: 69); usage errors keep click's status 2. A job that
stopped on request (SIGTERM/SIGUSR1, harness.runtime.stop) says where, and exits with 75 (see
harness.errors for why these statuses).
"""

import importlib
import os
import sys
import tempfile
import traceback

import click

from harness.errors import Interrupted, flatten, is_user_error, one_line

VERBS: dict[str, tuple[str, str]] = {
    "prepare": ("harness.commands.prepare", "prepare"),
    "refstats": ("harness.commands.refstats", "refstats_command"),
    "train": ("harness.commands.train", "train_command"),
    "sample": ("harness.commands.sample", "sample_command"),
    "merge-samples": ("harness.commands.merge_samples", "merge_samples_command"),
    "metrics": ("harness.commands.metrics", "metrics_command"),
    "fid": ("harness.commands.fid", "fid_command"),
    "analyze": ("harness.commands.analyze", "analyze_command"),
    "released": ("harness.commands.released", "released"),
    "report": ("harness.commands.report", "report_command"),
    "cell": ("harness.commands.cell", "cell_command"),
    "estimate": ("harness.commands.estimate", "estimate_command"),
    "weightings": ("harness.commands.weightings", "weightings_command"),
    "bench": ("harness.commands.bench", "bench"),
    "on-gpus": ("harness.commands.on_gpus", "on_gpus_command"),
    "regime-table": ("harness.commands.regime", "regime_table_command"),
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

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.UsageError:
            raise
        except click.ClickException as err:
            err.message = flatten(err.message)
            raise
        except (click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Interrupted as err:
            click.echo(one_line(err), err=True)
            ctx.exit(err.exit_code)
        except Exception as err:
            if ctx.params.get("debug"):
                raise
            if is_user_error(err):
                error = click.ClickException(one_line(err))
                error.exit_code = getattr(err, "exit_code", 1)
                raise error from None
            raise click.ClickException(_report_defect(err, ctx)) from None


def _report_defect(err: Exception, ctx: click.Context) -> str:
    """Write the traceback to a new file; the one line that says where."""
    text = f"command: {' '.join(sys.argv)}\n" + "".join(traceback.format_exception(err))
    try:
        fd, path = tempfile.mkstemp(prefix="harness-traceback-", suffix=".txt")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        where = f"full traceback in {path}"
    except OSError as write_error:
        where = f"the traceback could not be written ({write_error})"
    return (f"unexpected {type(err).__name__}: {one_line(err)[:300]} -- this is a defect of "
            f"the harness, not of your input; {where} (or rerun with `harness --debug ...`)")


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="harness")
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of one-line errors.")
def main(debug: bool) -> None:
    """Reproduce 'Unmasking Bias in Diffusion Model Training' (Yu et al.) end to end."""


if __name__ == "__main__":
    main()
