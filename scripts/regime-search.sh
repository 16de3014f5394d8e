#!/usr/bin/env bash
# One row of the positive-control search (results/regime/plan.md): runs the workflow on
# results/regime/configs/ROW.yaml in results/regime/runs/ROW and records its CPU time.
#   scripts/regime-search.sh ROW [CORES]
# Rerunning a finished row does nothing (Snakemake keeps finished jobs); `harness regime-table`
# then rewrites results/regime/search.md from every run directory.
set -euo pipefail
cd "$(dirname "$0")/.."
row=${1:?usage: scripts/regime-search.sh ROW [CORES]}
cores=${2:-2}
config=results/regime/configs/$row.yaml
[ -f "$config" ] || { echo "regime-search: no config '$config'" >&2; exit 2; }
run=results/regime/runs/$row
mkdir -p "$run"
PATH="$PWD/.venv/bin:$PATH" /usr/bin/time -o "$run/time.txt" -f '%U %S %e' \
  snakemake --profile workflow/profiles/local --cores "$cores" \
  --configfile "$PWD/$config" --directory "$run" > "$run/snakemake.log" 2>&1 \
  || { echo "regime-search: row $row failed; see $run/snakemake.log" >&2; exit 1; }
echo "regime-search: $row done ($(cat "$run/time.txt") user sys wall seconds)"
