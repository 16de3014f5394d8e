"""Regenerate tests/golden/diffusion_reference.npz from the reference implementations.

    HARNESS_REFERENCE_DIR=/path/to/guided-diffusion .venv/bin/python \
        tests/golden/make_golden_diffusion.py

The values come from the authors' fork (yuhuUSTC/Debias, expected next to
HARNESS_REFERENCE_DIR as `yuhuUSTC+Debias`), which adds the v target and the weightings
(steered through its hard-coded weight line, see diffusion_cases.RefImpl); every case that
plain ADM can run is checked against HARNESS_REFERENCE_DIR itself before anything is written.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import diffusion_cases as cases  # noqa: E402

OUT = HERE / "diffusion_reference.npz"


def _commit(root: Path) -> str:
    try:
        return subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], check=True,
                              capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    adm_dir, fork_dir = cases.reference_dirs()
    values = cases.compute(cases.RefImpl(fork_dir, fork=True))
    adm = cases.compute(cases.RefImpl(adm_dir, fork=False), only_adm=True)
    for key, v in adm.items():  # the fork must not have drifted from ADM on shared cases
        np.testing.assert_allclose(values[key], v, rtol=1e-6, atol=1e-7, err_msg=key)
    meta = {"fork": str(fork_dir), "fork_commit": _commit(fork_dir), "adm": str(adm_dir),
            "adm_commit": _commit(adm_dir), "cases": "tests/golden/diffusion_cases.py"}
    np.savez_compressed(OUT, __meta__=np.array(json.dumps(meta)), **values)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(values)} arrays)")


if __name__ == "__main__":
    main()
