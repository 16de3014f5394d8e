#!/usr/bin/env bash
# CI: bring up the localhost SLURM cluster with fake GPUs (root or passwordless sudo), run the
# smoke preset through `--profile workflow/profiles/slurm` end to end, one stage on a GPU
# (tests/test_slurm.py), then stop the daemons again.
# Fails when the end-to-end test skips: in CI a missing cluster is an error, not a skip.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_=()
[[ $(id -u) -eq 0 ]] || sudo_=(sudo)
trap '"${sudo_[@]}" scripts/slurm/teardown-localhost-cluster.sh' EXIT

t0=$SECONDS
"${sudo_[@]}" scripts/slurm/setup-localhost-cluster.sh "$(id -un)"
echo "ci-slurm: cluster setup took $((SECONDS - t0)) s"

t1=$SECONDS
log=$(mktemp)
.venv/bin/pytest -q -rs tests/test_slurm.py 2>&1 | tee "$log"
echo "ci-slurm: SLURM tests took $((SECONDS - t1)) s"
if grep -q SKIPPED "$log"; then
    echo "ci-slurm: the SLURM end-to-end test was skipped; failing" >&2
    exit 1
fi
