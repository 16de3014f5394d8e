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
@click.option("--require-cuda", is_flag=True,
              help="Inside a SLURM job or where no GPU is visible: check that GPUS CUDA devices "
                   "are usable before running COMMAND, and if not, fail at once (exit status "
                   "69, one line naming the host and CUDA_VISIBLE_DEVICES) instead of letting "
                   "COMMAND run on the CPU.")
@click.option("--unusable-hosts", type=click.Path(file_okay=False), default=None,
              help="With --require-cuda: on failure also record this node in this folder, so "
                   "that the workflow's later SLURM jobs exclude it (sbatch --exclude).")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def on_gpus_command(gpus: int, lock_dir: str, require_cuda: bool, unusable_hosts: str | None,
                    command: tuple[str, ...]) -> None:
    """Run COMMAND with CUDA_VISIBLE_DEVICES set to GPUS devices of its own.

    The devices are those of CUDA_VISIBLE_DEVICES, else all that nvidia-smi lists; a device
    is taken while its lock file in --lock-dir is held, and COMMAND waits until enough are
    free. Inside a SLURM job the devices are SLURM's allocation, and without any GPU there is
    nothing to share: COMMAND then replaces this process (so that it gets the scheduler's
    signals itself), after the --require-cuda check.
    """
    from harness.runtime.gpus import claim_devices, visible_devices

    env = dict(os.environ)
    devices = visible_devices(env)
    if "SLURM_JOB_ID" in env or not devices:
        if require_cuda:
            _require_cuda(gpus, unusable_hosts)
        elif not devices:
            click.echo("on-gpus: no GPU visible; running on the CPU", err=True)
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            os.execvp(command[0], command)
        except OSError as err:
            raise click.ClickException(f"cannot run {command[0]!r}: {err.strerror}") from err
    try:
        with claim_devices(devices, gpus, lock_dir,
                           on_wait=lambda m: click.echo(f"on-gpus: {m}", err=True)) as ids:
            env["CUDA_VISIBLE_DEVICES"] = ",".join(ids)
            click.echo(f"on-gpus: CUDA_VISIBLE_DEVICES={env['CUDA_VISIBLE_DEVICES']}", err=True)
            code = subprocess.run(command, env=env).returncode
    except ValueError as err:
        raise click.ClickException(str(err)) from err
    sys.exit(code)


def _require_cuda(gpus: int, unusable_hosts: str | None) -> None:
    """Raise CudaUnavailableError (exit status 69) unless `gpus` CUDA devices work here."""
    from harness.errors import CudaUnavailableError
    from harness.runtime.device import cuda_problem, no_cuda_message
    from harness.workflow.unusable_hosts import record_unusable_host

    problem = cuda_problem(range(gpus))
    if problem is None:
        return
    message = no_cuda_message(problem)
    if unusable_hosts:
        record = record_unusable_host(unusable_hosts, message)
        message += f"; recorded in {record}, so that later SLURM jobs of the workflow exclude it"
    raise CudaUnavailableError(message)
