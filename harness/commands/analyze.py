"""`harness analyze`: per-timestep MSE and one-step x̂0 estimates of a checkpoint."""

from __future__ import annotations

import click


@click.command("analyze")
@click.option("--checkpoint", required=True, type=click.Path(exists=True, dir_okay=False),
              help="Harness checkpoint (EMA weights, with model and diffusion config).")
@click.option("--data", required=True, type=click.Path(exists=True),
              help="Prepared dataset folder or zip (the checkpoint's training data).")
@click.option("--out-mse", required=True, type=click.Path(dir_okay=False),
              help="Output JSON: t, mse (network vs noise), initial (x_t vs noise).")
@click.option("--out-x0", required=True, type=click.Path(dir_okay=False),
              help="Output NPZ: x0, xt, x0_hat (uint8 NHWC) and t for Fig. 3.")
@click.option("--num-images", type=click.IntRange(min=1), default=64, show_default=True,
              help="Images of the fixed, seeded batch.")
@click.option("--stride", type=click.IntRange(min=1), default=10, show_default=True,
              help="Analyse t = 999, 999-stride, ...")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the image choice and of the noise.")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:N.")
def analyze_command(checkpoint, data, out_mse, out_x0, num_images, stride, seed, batch_size,
                    device) -> None:
    """Write --out-mse and --out-x0 for CHECKPOINT on DATA."""
    from harness.analysis.run import analyze

    record = analyze(checkpoint, data, out_mse, out_x0, num_images=num_images, stride=stride,
                     seed=seed, batch_size=batch_size, device=device)
    if "status" in record:
        click.echo(f"no analysis: '{checkpoint}' holds no network ({record['status']}); "
                   f"wrote empty records {out_mse}, {out_x0}")
        return
    click.echo(f"analyzed {len(record['t'])} timesteps on {record['num_images']} images "
               f"({record['wall_time_s']:.1f} s): {out_mse}, {out_x0}")
