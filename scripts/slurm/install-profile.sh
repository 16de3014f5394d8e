#!/usr/bin/env bash
# Make `snakemake --profile slurm` find this repo's SLURM profile: link
# ~/.config/snakemake/slurm (or $XDG_CONFIG_HOME/snakemake/slurm, where Snakemake looks for
# profiles by name) to workflow/profiles/slurm. Refuses to replace a profile that is not
# already such a link. Undo with: rm ~/.config/snakemake/slurm
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
profile=$repo/workflow/profiles/slurm
dest=${XDG_CONFIG_HOME:-$HOME/.config}/snakemake/slurm
if [[ -e $dest && ! -L $dest ]]; then
    echo "install-profile: $dest exists and is not a link; move it away first" >&2
    exit 1
fi
mkdir -p "$(dirname "$dest")"
ln -sfn "$profile" "$dest"
echo "install-profile: $dest -> $profile"
