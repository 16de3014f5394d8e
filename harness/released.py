"""Released checkpoints (plain guided-diffusion state dicts, such as P2's): fetched once, then
checked before any sampling, and recorded.

`check` refuses, in one line each: a missing file (naming the arm and the path), a digest other
than the config's (naming both), a file whose pickle needs code (only tensors and plain
containers load: weights_only=True), and tensors that do not fit the model flags (naming the
first mismatching key and the flag that most likely explains it). Its record (path, size,
sha256, flags) is what `harness sample --config` reads the flags from and what the metrics and
the report carry as provenance.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

from harness.checkpoint import check_state_dict, load_checkpoint
from harness.metrics.weights import sha256_file
from harness.models import create_model
from harness.models.check import check_model_config
from harness.runtime import save_torch_atomic
from harness.runtime.files import atomic_target
from harness.workflow.released import BUILTIN_RANDOM, builtin_seed

FORMAT = "harness-released/1"
PROVENANCE = ("arm", "path", "size_bytes", "sha256", "source")


def _digest_check(arm: str, path: Path, expected: str | None) -> str:
    digest = sha256_file(path)
    if expected and digest != expected:
        raise ValueError(f"released.{arm}: '{path}' has sha256 {digest}, but released.{arm}."
                         f"sha256 is {expected} (a different file, or an incomplete download)")
    return digest


def random_state_dict(model_config: dict[str, Any], seed: int) -> dict[str, torch.Tensor]:
    """A network of the flags with random weights, in guided-diffusion's layout. The layers ADM
    initialises to zero (output convolutions) are drawn too, so that two seeds give two
    different networks rather than the same zero output."""
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    state = create_model(**model_config).state_dict()
    for key, tensor in state.items():
        if tensor.is_floating_point() and not tensor.any():
            state[key] = torch.randn(tensor.shape, generator=generator) * 0.02
    return state


def fetch(arm: str, source: str, out: str | os.PathLike, model_config: dict[str, Any],
          sha256: str | None = None) -> str:
    """Write an arm's file to `out` once: downloaded from `source` (http(s):// or file://) and
    digest-checked before it is renamed into place, or, for builtin:random, a random network of
    `model_config` seeded by the arm's name. Returns its sha256."""
    out = Path(out)
    if source == BUILTIN_RANDOM:
        save_torch_atomic(out, random_state_dict(model_config, builtin_seed(arm)))
        return _digest_check(arm, out, sha256)
    from torch.hub import download_url_to_file

    with atomic_target(out) as tmp:
        try:
            download_url_to_file(source, str(tmp), progress=False)
        except OSError as err:
            raise ValueError(f"released.{arm}: cannot fetch '{source}': {err}") from None
        digest = _digest_check(arm, tmp, sha256)
    return digest


def check(arm: str, path: str | os.PathLike, model_config: dict[str, Any],
          diffusion_config: dict[str, Any], sha256: str | None = None,
          source: str = "") -> dict:
    """The record of an arm's file (module docstring), or a ValueError / FileNotFoundError
    naming the arm; nothing is sampled before it passes."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"released.{arm}: checkpoint file '{path}' does not exist")
    digest = _digest_check(arm, path, sha256)
    check_model_config(model_config, f"released.{arm}.model")
    try:
        ckpt = load_checkpoint(path, expect_model=model_config,
                               expect_diffusion=diffusion_config)
        with torch.device("meta"):
            model = create_model(**model_config)
        check_state_dict(model, ckpt.state_dict, f"'{path}'")
    except ValueError as err:
        raise ValueError(f"released.{arm}: {err}") from None
    return {"format": FORMAT, "arm": arm, "path": str(path), "size_bytes": path.stat().st_size,
            "sha256": digest, "sha256_expected": sha256, "source": source,
            "tensors": len(ckpt.state_dict),
            "parameters": sum(t.numel() for t in ckpt.state_dict.values()),
            "model_config": model_config, "diffusion_config": diffusion_config}


def provenance_of(record: str | os.PathLike) -> dict:
    """What a metrics JSON records of the released checkpoint its samples came from."""
    data = json.loads(Path(record).read_text())
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"'{record}' is not a record of `harness released check`")
    return {k: data.get(k) for k in PROVENANCE}
