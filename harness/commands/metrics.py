"""`harness metrics`: one cell's metrics JSON (FID, KID, IS, colour shift, protocol)."""

from __future__ import annotations

import click

from harness.commands.options import fid_impl_option, inception_network_options
from harness.inputs import check_output_path
from harness.workflow import weighting_name


@click.command("metrics")
@click.option("--samples", required=True, type=click.Path(exists=True, dir_okay=False),
              help="Samples .npz written by `harness sample`.")
@click.option("--refstats", required=True, multiple=True,
              type=click.Path(exists=True, dir_okay=False),
              help="Reference statistics .npz written by `harness refstats`; repeated for more "
                   "clean-fid modes (the first decides; the others go under `modes`).")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Cell JSON.")
@click.option("--dataset", required=True)
@click.option("--target", required=True)
@click.option("--weighting", required=True,
              help="The weighting's name; a user weighting's run folder part (name-digest) is "
                   "recorded as its name (the definition comes from the samples' checkpoint).")
@click.option("--iteration", type=click.IntRange(min=0), default=None,
              help="The checkpoint's training iteration (none for a released checkpoint).")
@click.option("--released", "released_record", type=click.Path(exists=True, dir_okay=False),
              help="A released checkpoint's record (`harness released check`): recorded as "
                   "the cell's provenance.")
@click.option("--sampler", required=True)
@click.option("--steps", required=True, type=click.IntRange(min=1))
@click.option("--kid-subset-size", type=click.IntRange(min=2), default=100, show_default=True)
@click.option("--kid-num-subsets", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--is-weights", type=click.Path(dir_okay=False),
              help="torch-fidelity Inception weights (with logits) for IS; else IS is "
                   "downloaded by torch-fidelity when online, or recorded as not available.")
@click.option("--config-hash", default=None, help="Hash of the workflow config (recorded).")
@fid_impl_option
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of KID's subsets and of the bootstrap's resample indices.")
@click.option("--bootstrap", type=click.IntRange(min=0), default=200, show_default=True,
              help="Bootstrap resamples of the generated samples for the intervals of FID, KID "
                   "and colour shift (0: none). Resample b depends only on (seed, N, b), so "
                   "cells with the same sample count share their index sets.")
@inception_network_options
def metrics_command(samples, refstats, out, dataset, target, weighting, iteration,
                    released_record, sampler, steps, kid_subset_size, kid_num_subsets,
                    inception_weights, is_weights, config_hash, fid_impl, seed, bootstrap,
                    batch_size, device, download) -> None:
    """Write --out for one cell; diverged samples give a record with nulls (exit 0)."""
    from harness.metrics.cell import cell_metrics
    from harness.metrics.inception_score import resolve_is_weights
    from harness.metrics.weights import resolve_inception_weights
    from harness.released import provenance_of
    from harness.runtime import write_json_atomic

    check_output_path(out, "--out")
    cell = {"dataset": dataset, "target": target, "weighting": weighting_name(weighting),
            "iteration": iteration, "sampler": sampler, "steps": steps}
    weights = resolve_inception_weights(inception_weights, download=download)
    is_w = resolve_is_weights(is_weights, download=download)
    record = cell_metrics(samples, refstats[0], cell, weights, is_weights=is_w,
                          kid_subset_size=kid_subset_size, kid_num_subsets=kid_num_subsets,
                          seed=seed, config_hash=config_hash, batch_size=batch_size,
                          device=device, fid_impl=fid_impl, bootstrap=bootstrap,
                          extra_refstats=refstats[1:],
                          released=provenance_of(released_record) if released_record else None)
    write_json_atomic(out, record, sort_keys=False)
    fid = "null" if record["fid"] is None else f"{record['fid']:.4f}"
    click.echo(f"{record['status']}: FID {fid} on {record['protocol']['num_generated']} "
               f"samples -> {out}")
