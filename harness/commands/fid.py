"""`harness fid A B`: FID, KID and colour shift between two image sets; prints one JSON."""

from __future__ import annotations

import json

import click

from harness.commands.options import fid_impl_option, inception_network_options


@click.command("fid")
@click.argument("a", type=click.Path(exists=True))
@click.argument("b", type=click.Path(exists=True))
@click.option("--mode", type=click.Choice(["clean", "legacy_tensorflow"]), default="clean",
              show_default=True, help="clean-fid mode.")
@click.option("--kid-subset-size", type=click.IntRange(min=2), default=1000, show_default=True)
@click.option("--kid-num-subsets", type=click.IntRange(min=1), default=100, show_default=True)
@fid_impl_option
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of KID's subsets.")
@click.option("--progress/--no-progress", default=True, show_default=True,
              help="Progress bars on stderr.")
@inception_network_options
def fid_command(a, b, batch_size, device, inception_weights, mode, kid_subset_size,
                kid_num_subsets, fid_impl, seed, download, progress) -> None:
    """FID/KID of A against B; each a folder, zip, samples .npz or statistics .npz."""
    from harness.metrics.compare import compare
    from harness.metrics.weights import resolve_inception_weights

    weights = resolve_inception_weights(inception_weights, download=download)
    result = compare(a, b, weights, mode=mode, batch_size=batch_size, device=device,
                     kid_subset_size=kid_subset_size, kid_num_subsets=kid_num_subsets,
                     seed=seed, fid_impl=fid_impl, progress=progress)
    click.echo(json.dumps(result))
