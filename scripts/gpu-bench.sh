#!/usr/bin/env bash
# Every GPU check of the project in one run (`harness bench suite`; README "Speed on GPUs").
# Usage: scripts/gpu-bench.sh OUT [DEBIAS_DIR] [BUDGET_S]
#   OUT         folder for the records (DEVICE-DATE-suite.json + one file per check); copy them into
#               results/bench/ for `harness estimate`
#   DEBIAS_DIR  a checkout of github.com/yuhuUSTC/Debias (the authors' code, fetched by you;
#               default .ref/debias, git-ignored); absent: their side is skipped
#   BUDGET_S    seconds after which no further check starts (default 400, ~7 min on an H200)
# Needs only torch, numpy, click, pillow, tqdm and pyyaml (no jsonschema, clean-fid, snakemake).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/gpu-bench.sh OUT [DEBIAS_DIR] [BUDGET_S]}
mkdir -p "$out"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
python3 -m harness.cli bench suite --device cuda --reference "${2:-.ref/debias}" \
    --budget "${3:-400}" --out "$out" 2>&1 | tee "$out/log.txt"
