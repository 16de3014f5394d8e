"""`harness prepare`: write a dataset once at the training resolution, with a manifest."""

from __future__ import annotations

import json

import click

from harness.data.prepare import FORMATS, prepare_dataset
from harness.data.sources import default_download_dir


@click.command("prepare")
@click.option("--dataset", required=True, help="Dataset name (paper name such as ffhq, or any).")
@click.option(
    "--source",
    default=None,
    help="Folder or .zip path, builtin:colorshapes|shapeclasses|digits|texshapes|photopatches "
    "(photopatches: crops of the photographs scikit-learn and matplotlib ship), or "
    "torchvision:cifar10.",
)
@click.option("--resolution", required=True, type=click.IntRange(min=1), help="Image side (px).")
@click.option("--out", required=True, type=click.Path(), help="Output folder (or .zip).")
@click.option("--count", type=click.IntRange(min=1), default=None, help="Images to keep.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Generator/subset seed.")
@click.option("--class-cond", is_flag=True, help="Write labels as `{label}_{index}.png`.")
@click.option("--num-classes", type=click.IntRange(min=1), default=None, help="Keep classes <K.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="folder", show_default=True)
@click.option(
    "--labels",
    type=click.Choice(["auto", "subfolder", "prefix"]),
    default="auto",
    show_default=True,
    help="Where class labels come from in a folder/zip source.",
)
@click.option("--config-key", default=None, help="Config key named in 'path missing' errors.")
@click.option("--cache-dir", type=click.Path(), default=lambda: str(default_download_dir()),
              show_default="~/.cache/harness/torchvision",
              help="Download folder (torchvision), kept between runs.")
@click.option("--verify", is_flag=True, help="If already prepared, recompute and check hashes.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes decoding/encoding images (same output for any value).")
def prepare(
    dataset, source, resolution, out, count, seed, class_cond, num_classes, fmt, labels,
    config_key, cache_dir, verify, workers,
) -> None:
    """Write DATASET at --resolution to --out (PNGs, ADM centre crop) and --out.json."""
    try:
        manifest = prepare_dataset(
            dataset, source, resolution, out, count=count, seed=seed, class_cond=class_cond,
            num_classes=num_classes, fmt=fmt, config_key=config_key, cache_dir=cache_dir,
            labels=labels, verify=verify, workers=workers,
        )
    except (ValueError, FileNotFoundError) as err:
        raise click.ClickException(str(err)) from err
    summary = {k: manifest[k] for k in ("dataset", "count", "resolution", "num_classes", "sha256")}
    click.echo(json.dumps(summary))
