"""Checkpoints that carry their model and diffusion config; plain ADM state dicts load too.

File format (``torch.save`` of plain containers, loadable with ``weights_only=True``)::

    {"format": "harness-checkpoint/1", "model_config": {create_model kwargs},
     "diffusion_config": {create_diffusion kwargs}, "state_dict": {...}, "meta": {...}}

A file holding only a state dict (guided-diffusion, P2 and Debias releases) loads with
both configs ``None``.
"""

from __future__ import annotations

import inspect
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from harness.models import UNetModel, create_model
from harness.models.fit import likely_flag, shown_flags
from harness.runtime import save_torch_atomic

FORMAT = "harness-checkpoint/1"
_SHOWN = 5  # how many offending keys an error lists


@dataclass
class Checkpoint:
    """What a checkpoint file holds; configs are None for plain ADM state dicts."""

    state_dict: dict[str, torch.Tensor]
    model_config: dict[str, Any] | None = None
    diffusion_config: dict[str, Any] | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def _plain(config: dict[str, Any], what: str) -> dict[str, Any]:
    """A JSON-able copy (tuples become lists), so it loads under weights_only and compares."""
    try:
        return json.loads(json.dumps(dict(config)))
    except TypeError as err:
        raise ValueError(f"{what} must hold only JSON values: {err}") from None


def save_checkpoint(
    path: str | os.PathLike,
    state_dict: dict[str, torch.Tensor],
    model_config: dict[str, Any],
    diffusion_config: dict[str, Any],
    **meta: Any,
) -> None:
    """Write a checkpoint atomically (temporary file in the same folder, then os.replace)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "model_config": _plain(model_config, "model_config"),
        "diffusion_config": _plain(diffusion_config, "diffusion_config"),
        "state_dict": {k: v.detach().cpu() for k, v in state_dict.items()},
        "meta": _plain(meta, "meta"),
    }
    save_torch_atomic(path, payload)


def save_divergence_record(
    path: str | os.PathLike,
    model_config: dict[str, Any],
    diffusion_config: dict[str, Any],
    step: int,
    message: str,
) -> None:
    """Write, in place of the EMA checkpoint of `step`, a checkpoint without weights whose meta
    says why there are none (e.g. "diverged at step 120"): the run will never reach `step`, and
    a workflow that declared the file as an output still gets it."""
    save_checkpoint(path, {}, model_config, diffusion_config, step=int(step), status=message)


def _read(path: Path, mmap: bool = False) -> Any:
    """torch.load on CPU with weights_only; a missing or unreadable file is an error naming it."""
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except MemoryError:
        raise
    except Exception as err:  # noqa: BLE001 - truncated, garbage, or a pickle with code in it
        needs = re.search(r"GLOBAL ([\w.]+)", str(err))
        if needs:  # weights_only's unpickler met a Python object: loading it would run code
            raise ValueError(f"checkpoint '{path}' is refused: its pickle needs Python code "
                             f"({needs.group(1)}) to load, and the harness loads only tensors "
                             "and plain containers (torch.load weights_only=True), never code "
                             "from a file") from None
        reason = " ".join(str(err).split()).split(". ")[0][:200] or type(err).__name__
        raise ValueError(f"checkpoint '{path}' cannot be read as a torch file of tensors "
                         f"(weights_only=True): {reason}") from None


def divergence_of(path: str | os.PathLike) -> str | None:
    """The message of a divergence record (see save_divergence_record), or None for a
    checkpoint with weights. Memory-maps the file, so a large checkpoint is not read."""
    data = _read(Path(path), mmap=True)
    if isinstance(data, dict) and data.get("format") == FORMAT and not data.get("state_dict"):
        return data.get("meta", {}).get("status") or "holds no weights"
    return None


def _defaults(factory: Any) -> dict[str, Any]:
    return {
        name: p.default
        for name, p in inspect.signature(factory).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


def _diffusion_defaults() -> dict[str, Any]:
    try:
        from harness.diffusion import create_diffusion
    except ImportError:  # diffusion package not importable: compare stored keys only
        return {}
    return _defaults(create_diffusion)


def config_differences(
    stored: dict[str, Any], asked: dict[str, Any], defaults: dict[str, Any]
) -> list[str]:
    """Lines "key: checkpoint has X, asked for Y" for every asked key that differs.

    A key missing from the stored config counts as its factory default.
    """
    stored, asked = _plain(stored, "stored config"), _plain(asked, "asked config")
    defaults = _plain({k: v for k, v in defaults.items() if k in asked}, "defaults")
    lines = []
    for key, want in asked.items():
        if key in stored:
            have = stored[key]
        elif key in defaults:
            have = defaults[key]
        else:
            lines.append(f"{key}: checkpoint has no value, asked for {want!r}")
            continue
        if have != want:
            lines.append(f"{key}: checkpoint has {have!r}, asked for {want!r}")
    return lines


def load_checkpoint(
    path: str | os.PathLike,
    expect_model: dict[str, Any] | None = None,
    expect_diffusion: dict[str, Any] | None = None,
) -> Checkpoint:
    """Load a checkpoint on CPU (weights_only) and check it against the configs asked for.

    Raises ValueError naming each differing key. Plain state dicts carry no config, so
    only the state dict is checked later, when loaded into a model.
    """
    path = Path(path)
    data = _read(path)
    if isinstance(data, dict) and data.get("format") == FORMAT:
        bad = [k for k, kind in (("state_dict", dict), ("model_config", dict),
                                 ("diffusion_config", dict), ("meta", dict))
               if not isinstance(data.get(k, {}), kind) or k not in data and k != "meta"]
        if bad:
            raise ValueError(f"checkpoint '{path}' is a damaged {FORMAT} file: "
                             f"{', '.join(bad)} missing or not a mapping")
        if not data["state_dict"]:
            status = data.get("meta", {}).get("status", "no status recorded")
            raise ValueError(f"{path} holds no weights: its training run {status} before "
                             f"iteration {data.get('meta', {}).get('step')}")
        ckpt = Checkpoint(
            state_dict=data["state_dict"],
            model_config=data["model_config"],
            diffusion_config=data["diffusion_config"],
            meta=data.get("meta", {}),
        )
    elif (
        isinstance(data, dict)
        and data
        and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in data.items())
    ):
        ckpt = Checkpoint(state_dict=data)
    else:
        kind = data.get("format", "no 'format' key") if isinstance(data, dict) else type(data)
        raise ValueError(
            f"{path}: neither a {FORMAT} file nor a plain state dict (str -> tensor); found {kind}"
        )
    problems = []
    if expect_model and ckpt.model_config is not None:
        problems += config_differences(ckpt.model_config, expect_model, _defaults(create_model))
    if expect_diffusion and ckpt.diffusion_config is not None:
        problems += config_differences(
            ckpt.diffusion_config, expect_diffusion, _diffusion_defaults()
        )
    if problems:
        listed = "\n  ".join(problems)
        raise ValueError(f"{path} does not match the configuration asked for:\n  {listed}")
    return ckpt


def _listed(keys: list[str]) -> str:
    more = f" and {len(keys) - _SHOWN} more" if len(keys) > _SHOWN else ""
    return ", ".join(keys[:_SHOWN]) + more


def first_mismatch(expected: dict[str, torch.Tensor], state_dict: dict[str, torch.Tensor]
                   ) -> str | None:
    """The first key (in the model's order, then the file's) that is missing, mis-shaped or
    unexpected, with what is wrong with it; None when every key fits."""
    for key, tensor in expected.items():
        if key not in state_dict:
            return f"{key} (missing from the checkpoint)"
        if state_dict[key].shape != tensor.shape:
            return (f"{key} (checkpoint {tuple(state_dict[key].shape)}, the flags give "
                    f"{tuple(tensor.shape)})")
    extra = next((k for k in state_dict if k not in expected), None)
    return None if extra is None else f"{extra} (not in a UNet of these flags)"


def _likely_flag(model: torch.nn.Module, expected: dict, state_dict: dict) -> str | None:
    """'FLAG: expected X, checkpoint has Y' for the flag the tensors contradict; None when no
    flag can be named."""
    want, have = shown_flags(expected), shown_flags(state_dict)
    if want is None or have is None:
        return None
    return likely_flag(want, have, int(getattr(model, "image_size", 0)) or 1)


def check_state_dict(model: torch.nn.Module, state_dict: dict[str, torch.Tensor], source: str):
    """Raise ValueError naming the first mismatching key and the create_model flag that most
    likely explains it, then listing missing / unexpected / mis-shaped keys."""
    expected = model.state_dict()
    first = first_mismatch(expected, state_dict)
    if first is None:
        return
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    shapes = [
        f"{k} (checkpoint {tuple(state_dict[k].shape)}, model {tuple(v.shape)})"
        for k, v in expected.items()
        if k in state_dict and state_dict[k].shape != v.shape
    ]
    lines = []
    if missing:
        lines.append(f"missing keys ({len(missing)}): {_listed(missing)}")
    if unexpected:
        lines.append(f"unexpected keys ({len(unexpected)}): {_listed(unexpected)}")
    if shapes:
        lines.append(f"shape mismatches ({len(shapes)}): {_listed(shapes)}")
    head = f"{source} does not fit the model flags: first mismatching key {first}"
    flag = _likely_flag(model, expected, state_dict)
    if flag is not None:  # the flag says it all; the counts say how much differs
        raise ValueError(f"{head}; most likely {flag} ({len(shapes)} mis-shaped, "
                         f"{len(missing)} missing and {len(unexpected)} unexpected of "
                         f"{len(expected)} keys)")
    why = ("its keys are not an ADM UNet's (a state dict of another network?)"
           if shown_flags(state_dict) is None else "the flags its tensors show agree (check "
           "image_size, the dataset's resolution, and channel_mult)")
    raise ValueError(f"{head}; {why}. Expected {len(expected)} keys of an ADM UNet (e.g. "
                     f"{_listed(list(expected))}); {'; '.join(lines)}.")


def load_model(
    path: str | os.PathLike,
    model_config: dict[str, Any] | None = None,
    expect_diffusion: dict[str, Any] | None = None,
    device: str | torch.device = "cpu",
) -> tuple[UNetModel, Checkpoint]:
    """Build the UNet from the checkpoint's (or the given) config and load weights strictly.

    A plain ADM state dict needs ``model_config``; for our checkpoints a given
    ``model_config`` must agree with the stored one.
    """
    ckpt = load_checkpoint(path, expect_model=model_config, expect_diffusion=expect_diffusion)
    config = model_config if model_config is not None else ckpt.model_config
    if config is None:
        raise ValueError(
            f"{path} is a plain state dict without a model config: pass model_config "
            "(create_model arguments, e.g. image_size, num_channels, num_res_blocks)"
        )
    if model_config is not None and ckpt.model_config is not None:
        config = {**ckpt.model_config, **model_config}
    try:
        model = create_model(**config)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path}: its model config does not build the UNet: {err}") from None
    check_state_dict(model, ckpt.state_dict, str(path))
    model.load_state_dict(ckpt.state_dict, strict=True)
    return model.to(device), ckpt
