"""`harness merge-samples`: a cell's shard files -> its samples file and grid."""

from __future__ import annotations

import click

from harness.inputs import check_output_path
from harness.sampling.merge import merge_shards


@click.command("merge-samples")
@click.argument("shards", nargs=-1, required=True, type=click.Path())
@click.option("--out", required=True, type=click.Path(), help="The cell's samples .npz.")
@click.option("--grid", required=True, type=click.Path(), help="Preview PNG (first 64).")
def merge_samples_command(shards, out, grid) -> None:
    """Join the S files of `harness sample --shard K/S` (any order) into the samples file and
    grid one unsharded `harness sample` writes: the same arrays byte for byte and the same
    meta, plus `shards` (each shard's range, wall time, device). Shards of different requests,
    or with gaps or overlaps, are refused before OUT is written."""
    check_output_path(out, "--out")
    check_output_path(grid, "--grid")
    meta = merge_shards(list(shards), out, grid)
    click.echo(f"{out}: {meta['num_samples']} samples from {len(shards)} shards, "
               f"status {meta['status']}")
