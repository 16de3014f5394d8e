"""`harness on-gpus`: run a command on GPUs no other job of this machine is using."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click

DEFAULT_LOCK_DIR = Path("/tmp") / f"harness-gpu-locks-{os.getuid()}"


@click.command("on-gpus", context_settings={"allow_interspersed_args": False})
@click.option("--gpus", type=click.IntRange(min=1), required=True,
              help="Devices the command needs.")
@click.option("--lock-dir", type=click.Path(file_okay=False), default=str(DEFAULT_LOCK_DIR),
              show_default=True, help="One lock file per device, shared by this user's jobs.")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def on_gpus_command(gpus: int, lock_dir: str, command: tuple[str, ...]) -> None:
    """Run COMMAND with CUDA_VISIBLE_DEVICES set to GPUS devices of its own.

    The devices are those of CUDA_VISIBLE_DEVICES, else all that nvidia-smi lists; a device
    is taken while its lock file in --lock-dir is held, and COMMAND waits until enough are
    free. Inside a SLURM job the devices are SLURM's allocation and COMMAND runs as it is;
    without any GPU it runs as it is (on the CPU).
    """
    from harness.runtime.gpus import claim_devices, visible_devices

    env = dict(os.environ)
    devices = visible_devices(env)
    if "SLURM_JOB_ID" in env or not devices:
        if not devices:
            click.echo("on-gpus: no GPU visible; running on the CPU", err=True)
        sys.exit(subprocess.run(command, env=env).returncode)
    try:
        with claim_devices(devices, gpus, lock_dir,
                           on_wait=lambda m: click.echo(f"on-gpus: {m}", err=True)) as ids:
            env["CUDA_VISIBLE_DEVICES"] = ",".join(ids)
            click.echo(f"on-gpus: CUDA_VISIBLE_DEVICES={env['CUDA_VISIBLE_DEVICES']}", err=True)
            code = subprocess.run(command, env=env).returncode
    except ValueError as err:
        raise click.ClickException(str(err)) from err
    sys.exit(code)
