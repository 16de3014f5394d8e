"""`harness bench <what>`: timing benchmarks, each writing one JSON record (--out).

Subcommands register on the ``bench`` group below: ``@bench.command("name")``.
"""

from __future__ import annotations

import click

from harness.bench import write_json
from harness.bench.model import PRESETS, bench_model, resolve_config
from harness.commands.options import Number
from harness.inputs import check_output_path


def _check_out(out: str | None) -> None:
    if out is not None:
        check_output_path(out, "--out")  # before the timing, not after


@click.group("bench")
def bench() -> None:
    """Benchmarks of the harness's parts (model, ...), JSON out."""


@bench.command("model")
@click.option("--preset", type=click.Choice(list(PRESETS)), help="Start from a named config.")
@click.option("--image-size", type=click.IntRange(min=1))
@click.option("--num-channels", type=click.IntRange(min=1))
@click.option("--num-res-blocks", type=click.IntRange(min=1))
@click.option("--channel-mult", type=str, help="e.g. '1,2,2,2' ('' = ADM default for the size)")
@click.option("--attention-resolutions", type=str, help="e.g. '32,16,8'")
@click.option("--num-heads", type=click.IntRange(min=1))
@click.option("--num-head-channels", type=int)
@click.option("--num-heads-upsample", type=int)
@click.option("--learn-sigma/--no-learn-sigma", default=None)
@click.option("--class-cond/--no-class-cond", default=None)
@click.option("--num-classes", type=click.IntRange(min=1))
@click.option("--use-scale-shift-norm/--no-use-scale-shift-norm", default=None)
@click.option("--resblock-updown/--no-resblock-updown", default=None)
@click.option("--use-new-attention-order/--no-use-new-attention-order", default=None)
@click.option("--dropout", type=Number(minimum=0, exclusive_maximum=1))
@click.option("--batch-size", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or auto")
@click.option("--bf16", is_flag=True, help="bfloat16 autocast (meant for CUDA).")
@click.option("--channels-last", is_flag=True, help="channels_last memory format.")
@click.option("--compile", "compile_", is_flag=True, help="torch.compile the model.")
@click.option(
    "--train-step",
    is_flag=True,
    help="Also time forward + training_losses + backward + AdamW step.",
)
@click.option("--target", default="eps", show_default=True, help="Diffusion target (train step).")
@click.option(
    "--weighting", default="constant", show_default=True, help="Loss weighting (train step)."
)
@click.option("--warmup", type=click.IntRange(min=0), default=2, show_default=True)
@click.option("--iters", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--threads", type=click.IntRange(min=1),
              help="torch CPU threads (default: torch's choice).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="JSON file (else printed).")
def bench_model_command(
    preset,
    batch_size,
    device,
    bf16,
    channels_last,
    compile_,
    train_step,
    target,
    weighting,
    warmup,
    iters,
    threads,
    seed,
    out,
    **model_args,
):
    """Forward throughput, forward+backward and training-step time of the UNet."""
    _check_out(out)
    import torch

    if threads:
        torch.set_num_threads(threads)
    try:
        config = resolve_config(preset, **model_args)
        record = bench_model(
            config,
            batch_size=batch_size,
            device=device,
            bf16=bf16,
            channels_last=channels_last,
            compile=compile_,
            warmup=warmup,
            iters=iters,
            train_step=train_step,
            diffusion_config={"target": target, "weighting": weighting},
            seed=seed,
        )
    except ValueError as err:
        raise click.UsageError(str(err)) from None
    record["preset"] = preset
    text = write_json(record, out)
    if out is None:
        click.echo(text)
        return
    for key in ("forward", "forward_backward", "train_step"):
        if key in record:
            r = record[key]
            click.echo(
                f"{key}: median {r['median_s']:.4f} s, min {r['min_s']:.4f} s, "
                f"{r['img_per_s']:.1f} img/s"
            )
    click.echo(f"wrote {out}")


def _model_options(func):
    """--preset plus the overrides that matter for speed (see `bench model` for all)."""
    positive = click.IntRange(min=1)
    for flag, kind in reversed((("--image-size", positive), ("--num-channels", positive),
                                ("--num-res-blocks", positive), ("--channel-mult", str),
                                ("--attention-resolutions", str))):
        func = click.option(flag, type=kind, default=None)(func)
    return click.option("--preset", type=click.Choice(list(PRESETS)), default="tiny",
                        show_default=True)(func)


@bench.command("train")
@_model_options
@click.option("--batch-size", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--steps", type=click.IntRange(min=1), default=10, show_default=True,
              help="Timed steps.")
@click.option("--warmup", type=click.IntRange(min=0), default=2, show_default=True)
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or auto")
@click.option("--precision", type=click.Choice(["fp32", "bf16"]), default="fp32")
@click.option("--out", type=click.Path(dir_okay=False), help="JSON file (else printed).")
def bench_train_command(preset, batch_size, steps, warmup, device, precision, out, **model):
    """img/s of the real training loop (`harness train` on random images)."""
    _check_out(out)
    from harness.bench.train import bench_train

    record = bench_train(resolve_config(preset, **model), batch_size=batch_size, steps=steps,
                         warmup=warmup, device=device, precision=precision)
    record["preset"] = preset
    text = write_json(record, out)
    click.echo(text if out is None else f"train: {record['img_per_s']:.2f} img/s; wrote {out}")


@bench.command("sample")
@_model_options
@click.option("--batch-sizes", default="8", show_default=True, help="Comma-separated.")
@click.option("--sampler", type=click.Choice(["ddpm", "ddim"]), default="ddpm")
@click.option("--steps", type=click.IntRange(min=2), default=10, show_default=True)
@click.option("--batches", type=click.IntRange(min=1), default=1, show_default=True,
              help="Timed batches.")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or auto")
@click.option("--out", type=click.Path(dir_okay=False), help="JSON file (else printed).")
def bench_sample_command(preset, batch_sizes, sampler, steps, batches, device, out, **model):
    """img/s of `harness sample` (model load excluded)."""
    _check_out(out)
    from harness.bench.sample import bench_sample

    try:
        sizes = tuple(int(s) for s in batch_sizes.split(","))
    except ValueError:
        raise click.BadParameter(f"{batch_sizes!r} is not a comma-separated list of integers",
                                 param_hint="--batch-sizes") from None
    if min(sizes) < 1:
        raise click.BadParameter(f"batch sizes must be >= 1, got {batch_sizes!r}",
                                 param_hint="--batch-sizes")
    record = bench_sample(resolve_config(preset, **model), batch_sizes=sizes, sampler=sampler,
                          steps=steps, batches=batches, device=device)
    record["preset"] = preset
    text = write_json(record, out)
    rates = ", ".join(f"batch {r['batch_size']}: {r['img_per_s']:.2f} img/s"
                      for r in record["results"])
    click.echo(text if out is None else f"sample: {rates}; wrote {out}")


@bench.command("features")
@click.option("--data", type=click.Path(exists=True), help="Image folder (else generated).")
@click.option("--num-images", type=click.IntRange(min=2), default=64, show_default=True)
@click.option("--image-size", type=click.IntRange(min=1), default=32, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True)
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or auto")
@click.option("--repeats", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--warmup", type=click.IntRange(min=0), default=1, show_default=True)
@click.option("--cleanfid-workers", type=click.IntRange(min=0), default=12, show_default=True,
              help="get_folder_features' num_workers (its default is 12).")
@click.option("--impl", type=click.Choice(["both", "ours", "clean-fid"]), default="both")
@click.option("--inception-weights", type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(dir_okay=False), help="JSON file (else printed).")
def bench_features_command(data, num_images, image_size, batch_size, device, repeats, warmup,
                           cleanfid_workers, impl, inception_weights, out):
    """Inception feature extraction img/s: ours vs clean-fid's get_folder_features."""
    _check_out(out)
    from harness.bench.features import IMPLEMENTATIONS, bench_features
    from harness.metrics.weights import resolve_inception_weights

    weights = resolve_inception_weights(inception_weights, download=False)
    record = bench_features(weights, data=data, num_images=num_images, size=image_size,
                            batch_size=batch_size, device=device, repeats=repeats,
                            warmup=warmup, cleanfid_workers=cleanfid_workers,
                            impls=IMPLEMENTATIONS if impl == "both" else (impl,))
    text = write_json(record, out)
    rates = ", ".join(f"{k}: {v['img_per_s']:.2f} img/s" for k, v in record["results"].items())
    click.echo(text if out is None else f"features: {rates}; wrote {out}")
