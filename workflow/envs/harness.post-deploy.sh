#!/usr/bin/env bash
# Run by Snakemake inside a freshly created workflow/envs/harness.yaml environment, in the
# workflow's working directory: installs this checkout's harness package (its dependencies
# are already there, with the same pins).
set -euo pipefail
if ! grep -qs '^name = "harness"$' pyproject.toml; then
    echo "harness.post-deploy.sh: $(pwd) is not the harness repository; run snakemake" \
         "--software-deployment-method conda from the repository root" >&2
    exit 1
fi
python -m pip install --no-deps -e .
