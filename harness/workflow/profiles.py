"""Which file each `snakemake --profile NAME` of a run is, said in the run's log.

`snakemake --profile slurm` resolves the name in the working directory first (the repository
root holds `slurm`, a link to workflow/profiles/slurm), then in the user's and the system's
Snakemake config folders (~/.config/snakemake, /etc/xdg/snakemake). Snakemake's own log says
only "Using profile slurm", so someone who keeps a profile named slurm of their own could not
tell which one ran; the workflow prints what each name resolved to, the same way Snakemake
resolves it (snakemake.cli.get_profile_dir).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

HARNESS_PROFILES = "workflow/profiles"


def profile_names(argv: Sequence[str], environ: Mapping[str, str]) -> list[str]:
    """The profiles a Snakemake command line gives (`--profile X`, `--profile=X`), else the
    one of $SNAKEMAKE_PROFILE (Snakemake's own variable for it)."""
    names = []
    for i, arg in enumerate(argv):
        if arg == "--profile" and i + 1 < len(argv):
            names.append(argv[i + 1])
        elif arg.startswith("--profile="):
            names.append(arg.split("=", 1)[1])
    if not names and environ.get("SNAKEMAKE_PROFILE"):
        names.append(environ["SNAKEMAKE_PROFILE"])
    return [n for n in names if n != "none"]


def describe_profiles(argv: Sequence[str], environ: Mapping[str, str],
                      basedir: str | os.PathLike) -> list[str]:
    """One line per profile of the command line: the file it resolved to, and whether that is
    one of the harness's own profiles (workflow/profiles/ beside the Snakefile in `basedir`)."""
    from snakemake.cli import get_profile_dir  # Snakemake's own resolution

    ours = (Path(basedir) / HARNESS_PROFILES).resolve()
    lines = []
    for name in profile_names(argv, environ):
        found = get_profile_dir(name)
        if found is None:
            continue  # Snakemake itself stops on it with its own message
        config_file = Path(found[1]).resolve()
        if config_file.parent.parent == ours:
            whose = f"the harness's {config_file.parent.name} profile"
        else:
            whose = (f"not one of the harness's profiles, which are in {ours}; give one by its "
                     f"path, e.g. --profile {HARNESS_PROFILES}/slurm")
        lines.append(f"profile '{name}': {config_file} ({whose})")
    return lines
