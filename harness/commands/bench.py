"""`harness bench <what>`: timing benchmarks, each writing one JSON record (--out).

Subcommands register on the ``bench`` group below: ``@bench.command("name")``.
"""

from __future__ import annotations

import click

from harness.bench import write_json
from harness.bench.model import PRESETS, bench_model, resolve_config
from harness.commands.options import Number, execution_options, pop_execution
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
@execution_options
@click.option("--fused-optimizer", is_flag=True, help="AdamW's fused implementation.")
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
    fused_optimizer,
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
    """Forward throughput, forward+backward and training-step time of the UNet, with model
    FLOP utilisation against a bf16 matmul peak measured in the same run."""
    _check_out(out)
    import torch

    execution = pop_execution(model_args)
    if threads:
        torch.set_num_threads(threads)
    try:
        config = resolve_config(preset, **model_args)
        record = bench_model(
            config,
            batch_size=batch_size,
            device=device,
            execution=execution,
            fused_optimizer=fused_optimizer,
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
                f"{r['img_per_s']:.1f} img/s, MFU {_percent(r['mfu'])}"
            )
    click.echo(f"wrote {out}")


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


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
@execution_options
@click.option("--fused-optimizer", is_flag=True, help="AdamW's fused implementation.")
@click.option("--num-workers", type=click.IntRange(min=-1), default=-1, show_default=True,
              help="DataLoader workers (-1: harness train's default).")
@click.option("--out", type=click.Path(dir_okay=False), help="JSON file (else printed).")
def bench_train_command(preset, batch_size, steps, warmup, device, fused_optimizer,
                        num_workers, out, **model):
    """img/s and MFU of the real training loop (`harness train` on random images)."""
    _check_out(out)
    from harness.bench.train import bench_train

    execution = pop_execution(model)
    record = bench_train(resolve_config(preset, **model), batch_size=batch_size, steps=steps,
                         warmup=warmup, device=device, execution=execution,
                         fused_optimizer=fused_optimizer, num_workers=num_workers)
    record["preset"] = preset
    text = write_json(record, out)
    click.echo(text if out is None else f"train: {record['img_per_s']:.2f} img/s, MFU "
                                        f"{_percent(record['mfu'])}; wrote {out}")


@bench.command("sample")
@_model_options
@click.option("--batch-sizes", default="8", show_default=True, help="Comma-separated.")
@click.option("--sampler", type=click.Choice(["ddpm", "ddim"]), default="ddpm")
@click.option("--steps", type=click.IntRange(min=2), default=10, show_default=True)
@click.option("--batches", type=click.IntRange(min=1), default=1, show_default=True,
              help="Timed batches.")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or auto")
@execution_options
@click.option("--out", type=click.Path(dir_okay=False), help="JSON file (else printed).")
def bench_sample_command(preset, batch_sizes, sampler, steps, batches, device, out, **model):
    """img/s and MFU of `harness sample` (model load excluded)."""
    _check_out(out)
    from harness.bench.sample import bench_sample

    execution = pop_execution(model)
    try:
        sizes = tuple(int(s) for s in batch_sizes.split(","))
    except ValueError:
        raise click.BadParameter(f"{batch_sizes!r} is not a comma-separated list of integers",
                                 param_hint="--batch-sizes") from None
    if min(sizes) < 1:
        raise click.BadParameter(f"batch sizes must be >= 1, got {batch_sizes!r}",
                                 param_hint="--batch-sizes")
    record = bench_sample(resolve_config(preset, **model), batch_sizes=sizes, sampler=sampler,
                          steps=steps, batches=batches, device=device, execution=execution)
    record["preset"] = preset
    text = write_json(record, out)
    rates = ", ".join(f"batch {r['batch_size']}: {r['img_per_s']:.2f} img/s, MFU "
                      f"{_percent(r['mfu'])}" for r in record["results"])
    click.echo(text if out is None else f"sample: {rates}; wrote {out}")


def _suite_options(func):
    options = [
        click.option("--reference", type=click.Path(file_okay=False),
                     help="A checkout of the authors' code (github.com/yuhuUSTC/Debias: the "
                          "folder holding guided_diffusion/); without it their side is "
                          "skipped with a message."),
        click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda"),
        click.option("--out", required=True, type=click.Path(file_okay=False),
                     help="Folder for the records: PREFIX-suite.json and one PREFIX-CHECK.json "
                          "per check."),
        click.option("--prefix", default=None,
                     help="File-name prefix (default: the device's name and the date)."),
        click.option("--no-compile", "no_compile", is_flag=True,
                     help="Leave torch.compile out (a machine without a compiler)."),
        click.option("--smoke", is_flag=True,
                     help="The same code on CPU at toy size (checks the suite itself)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _run_suite(settings) -> None:
    from harness.bench.suite import Suite, verdicts

    try:
        summary = Suite(settings).run()
    except (ValueError, FileNotFoundError) as err:
        raise click.ClickException(str(err)) from err
    click.echo("\n".join(f"{name:<24} {c['status'][:60]:<60} {c.get('seconds', 0):7.1f} s"
                          for name, c in summary["checks"].items()))
    click.echo("\n".join(verdicts(summary)))
    click.echo(f"wrote {settings.out}/{summary['files_prefix']}-*.json "
               f"({summary['elapsed_s']:.0f} s)")


@bench.command("suite")
@_suite_options
@click.option("--budget", type=Number(exclusive_minimum=0), default=420.0, show_default=True,
              help="Seconds: a check starts only if its estimated cost fits what is left.")
@click.option("--checks", default="", help="Comma-separated subset (default: all, in order).")
def bench_suite_command(reference, device, out, prefix, no_compile, smoke, budget, checks):
    """Every GPU check in one run, most valuable first, within a time budget: sampling and
    the training step side by side with the authors' code, the real loop, --deterministic
    (run to run, stopped and killed resumes), and more if time is left."""
    from pathlib import Path

    from harness.bench.suite import Settings

    _run_suite(Settings(out=Path(out), reference=reference, budget_s=budget, smoke=smoke,
                        device=device, compile=not no_compile, prefix=prefix,
                        checks=tuple(c for c in checks.split(",") if c) or None))


@bench.command("versus")
@_suite_options
@click.option("--preset", type=click.Choice(list(PRESETS)), default=None,
              help="Model config (default: paper; tiny with --smoke).")
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help="Default: 64 (4 with --smoke).")
@click.option("--steps", type=click.IntRange(min=2), default=None,
              help="Sampling steps (default: 10).")
def bench_versus_command(reference, device, out, prefix, no_compile, smoke, preset, batch_size,
                         steps):
    """Ours against the authors' code on the same config, batch, inputs and device: UNet
    forward, training step and 10-step DDPM sampling, their fp32 and fp16 paths against ours
    (fp32, fp32+TF32, bf16, and the presets' bf16+compile path), with img/s and MFU."""
    from pathlib import Path

    from harness.bench.suite import Settings

    _run_suite(Settings(out=Path(out), reference=reference, budget_s=float("inf"), smoke=smoke,
                        device=device, compile=not no_compile, checks=("sample", "model"),
                        preset=preset, batch_size=batch_size, steps=steps, prefix=prefix))


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
