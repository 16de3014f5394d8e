"""`harness sample`: N samples from an EMA checkpoint into an npz and a preview grid."""

from __future__ import annotations

import click

from harness.commands.options import Number, execution_options, pop_execution
from harness.inputs import read_json
from harness.sampling import SAMPLERS, SampleRequest, sample
from harness.shards import parse_shard


@click.command("sample")
@click.option("--checkpoint", required=True, type=click.Path(),
              help="EMA checkpoint, e.g. RUN/ema_0.9999_000200.pt. A divergence record in its "
                   "place (or, without the file, a 'diverged' RUN/status.json) is propagated: "
                   "0 images, status 'diverged at step N'.")
@click.option("--sampler", required=True, type=click.Choice(SAMPLERS),
              help="ddpm: ancestral (learned variance); ddim: DDIM with --eta.")
@click.option("--steps", required=True, type=click.IntRange(min=2),
              help="Sampling steps (respaced; 2..T).")
@click.option("--num-samples", required=True, type=click.IntRange(min=1))
@click.option("--batch-size", default=64, show_default=True, type=click.IntRange(min=1),
              help="Does not change the samples: sample i has its own seed.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--out", required=True, type=click.Path(), help="Output .npz (ADM's format).")
@click.option("--grid", type=click.Path(),
              help="Preview PNG (first 64); required unless --shard is given.")
@click.option("--eta", default=0.0, show_default=True, type=Number(minimum=0, maximum=1),
              help="DDIM eta in [0, 1] (0: deterministic DDIM; 1: DDPM-like noise).")
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda.")
@click.option("--target", type=click.Choice(["eps", "x0", "v"]), default=None,
              help="Refuse a checkpoint trained for another target.")
@click.option("--learn-sigma/--no-learn-sigma", default=None,
              help="Refuse a checkpoint with another learned-sigma setting.")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False),
              default=None, help="JSON with model_config and diffusion_config (e.g. a "
                                 "RUN/config.json), needed for plain ADM state dicts.")
@click.option("--progress/--no-progress", default=True)
@click.option("--shard", metavar="K/S",
              help="Draw only shard K (0-based) of S: a contiguous range of whole batches of "
                   "the --num-samples (meta 'shard' says which); `harness merge-samples` "
                   "joins the S files into the one --out a single job writes.")
@execution_options
def sample_command(config_path, target, learn_sigma, shard, **options) -> None:
    """Sample images from an EMA checkpoint; resumable (finished batches in OUT.parts/).

    Pixels are quantised as ((x + 1) * 127.5).round().clamp(0, 255) to uint8. SIGTERM or
    SIGUSR1 (a scheduler's notice) stop it at the next network call, finished batches kept:
    exit status 75, and the same command draws the rest. With --device cuda and no usable
    CUDA device it stops at once: exit status 69.
    """
    if shard is not None:
        try:
            options["shard"] = parse_shard(shard)
        except ValueError as err:
            raise click.BadParameter(str(err), param_hint="--shard") from None
    elif not options["grid"]:
        raise click.UsageError("Missing option '--grid' (needed unless --shard is given).")
    expect = {k: v for k, v in (("target", target), ("learn_sigma", learn_sigma))
              if v is not None}
    configs = {}
    if config_path:
        recorded = read_json(config_path, "--config file")
        configs = {k: recorded.get(k) for k in ("model_config", "diffusion_config")}
        for key, value in configs.items():
            if value is not None and not isinstance(value, dict):
                raise click.BadParameter(f"'{config_path}': {key} is not a JSON object",
                                         param_hint="--config")
    execution = pop_execution(options)
    meta = sample(SampleRequest(expect_diffusion=expect or None, execution=execution,
                                **configs, **options))
    click.echo(f"{options['out']}: {meta['num_samples']} samples, status {meta['status']}")
