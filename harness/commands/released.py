"""`harness released fetch|check`: a released checkpoint fetched once, and checked before any
sampling (harness.released); the workflow runs both for every arm of `experiments.released`."""

from __future__ import annotations

import json

import click

from harness.inputs import check_output_path


def _mapping(value: str, option: str) -> dict:
    try:
        parsed = json.loads(value)
    except ValueError as err:
        raise click.BadParameter(f"not JSON: {err}", param_hint=option) from None
    if not isinstance(parsed, dict):
        raise click.BadParameter("must be a JSON object", param_hint=option)
    return parsed


arm_option = click.option("--arm", required=True, help="The arm's name (key of `released`).")
model_option = click.option("--model", "model_json", required=True,
                            help="create_model flags as a JSON object (image_size included).")
sha256_option = click.option("--sha256", default=None,
                             help="Expected SHA-256 (hex); another digest is refused.")


@click.group("released")
def released() -> None:
    """Released checkpoints (plain guided-diffusion state dicts, e.g. P2's) as workflow arms."""


@released.command("fetch")
@arm_option
@click.option("--source", required=True,
              help="http(s):// or file:// URL, or builtin:random (random weights of --model).")
@model_option
@sha256_option
@click.option("--out", required=True, type=click.Path(dir_okay=False))
def fetch_command(arm, source, model_json, sha256, out) -> None:
    """Write --out once: a download (renamed into place only after its digest is checked), or
    a random network of the flags seeded by the arm's name."""
    from harness.released import fetch

    check_output_path(out, "--out")
    digest = fetch(arm, source, out, _mapping(model_json, "--model"), sha256)
    click.echo(f"{out}: sha256 {digest} (from {source})")


@released.command("check")
@arm_option
@click.option("--checkpoint", required=True, type=click.Path(dir_okay=False),
              help="The file (a plain state dict, or a harness checkpoint).")
@model_option
@click.option("--diffusion", "diffusion_json", required=True,
              help="create_diffusion flags as a JSON object (steps, noise_schedule, target, ...).")
@sha256_option
@click.option("--source", default="", help="Where the file comes from, in words (recorded).")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="The record (JSON): path, size, sha256 and flags.")
def check_command(arm, checkpoint, model_json, diffusion_json, sha256, source, out) -> None:
    """Refuse the file (one line naming the arm) if it is missing, has another digest, needs
    code to load or does not fit the flags; else write its record to --out."""
    from harness.released import check
    from harness.runtime import write_json_atomic

    check_output_path(out, "--out")
    record = check(arm, checkpoint, _mapping(model_json, "--model"),
                   _mapping(diffusion_json, "--diffusion"), sha256, source)
    write_json_atomic(out, record, sort_keys=False)
    click.echo(f"released.{arm}: {record['path']} fits the flags ({record['tensors']} tensors, "
               f"{record['parameters']:,} parameters, {record['size_bytes']:,} bytes, sha256 "
               f"{record['sha256']})")
