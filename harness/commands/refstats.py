"""`harness refstats`: Inception reference statistics of a whole prepared dataset."""

from __future__ import annotations

import click

from harness.commands.options import inception_network_options


@click.command("refstats")
@click.option("--data", required=True, type=click.Path(exists=True),
              help="Prepared dataset folder or zip (its manifest DIR.json is recorded if present).")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Output .npz.")
@click.option("--mode", type=click.Choice(["clean", "legacy_tensorflow"]), default="clean",
              show_default=True, help="clean-fid mode.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the image subset whose features are kept for KID (>50k images).")
@inception_network_options
def refstats_command(data, out, batch_size, device, inception_weights, mode, download,
                     seed) -> None:
    """Write --out: mu, sigma, KID features and colour statistics of every image in --data."""
    from harness.metrics.refstats import compute_refstats
    from harness.metrics.weights import resolve_inception_weights

    weights = resolve_inception_weights(inception_weights, download=download)
    meta = compute_refstats(data, out, weights, mode=mode, batch_size=batch_size,
                            device=device, seed=seed)
    click.echo(f"refstats of {meta['count']} images at {meta['resolution']} px ({weights.kind} "
               f"weights {weights.sha256[:12]}, {meta['wall_time_s']:.1f} s): {out}")
