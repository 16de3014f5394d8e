"""`harness merge-samples`: a cell's shard files (`harness sample --shard K/S`) -> the one samples
file and grid that a single `harness sample` writes: the same arrays, byte for byte, and the
same meta, with the per-shard facts (range, wall time, device, ranks, execution) listed under
`shards` and summed or joined at the top.

Every shard must come from the same request (checkpoint, sampler, steps, eta, seed, sample
count, configs, numerics) and together they must hold samples 0..N-1 exactly once; anything
else is refused, naming the file and the key, before the output is touched.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.inputs import npz_meta, read_npz
from harness.sampling.images import save_grid, save_message
from harness.sampling.run import output_lock, write_samples

# Keys that must agree across shards: together they say what was sampled.
AGREED = ("status", "checkpoint", "checkpoint_sha256", "iteration", "ema_rate", "sampler",
          "steps", "eta", "seed", "num_samples", "model_config", "diffusion_config",
          "quantisation", "training_execution")
PER_SHARD = ("wall_time_s", "device", "ranks", "execution")


def _read(path: str) -> tuple[dict, dict]:
    arrays = read_npz(path, "samples shard")
    meta = npz_meta(arrays, path, "samples shard")
    if "arr_0" not in arrays or not isinstance(meta.get("shard"), dict):
        raise ValueError(f"samples shard '{path}' has no meta 'shard': not written by "
                         "`harness sample --shard K/S`")
    return arrays, meta


def _check(paths: list[str], metas: list[dict]) -> None:
    """Refuse shards of different requests, or that do not cover the cell exactly once."""
    first = metas[0]
    for path, meta in zip(paths, metas, strict=True):
        for key in AGREED:
            if meta.get(key) != first.get(key):
                raise ValueError(f"samples shard '{path}': {key} {meta.get(key)!r} differs from "
                                 f"{first.get(key)!r} in '{paths[0]}'")
        if meta["shard"]["count"] != len(paths):
            raise ValueError(f"samples shard '{path}' is one of {meta['shard']['count']} "
                             f"shards, {len(paths)} given")
    if first["status"] != "ok":
        return  # a diverged run: every shard holds 0 images and says why
    expect = 0
    for path, meta in sorted(zip(paths, metas, strict=True),
                             key=lambda pm: pm[1]["shard"]["start"]):
        start, stop = meta["shard"]["start"], meta["shard"]["stop"]
        if start != expect:
            raise ValueError(f"samples shard '{path}' starts at sample {start}, expected "
                             f"{expect}: the shards leave a gap or overlap")
        expect = stop
    if expect != first["num_samples"]:
        raise ValueError(f"the shards hold samples 0..{expect - 1} of {first['num_samples']}")


def merge_shards(paths: list[str], out: str, grid: str) -> dict:
    """Write the cell's samples file `out` and grid `grid` from its shard files; returns meta."""
    if not paths:
        raise ValueError("no samples shards given")
    with output_lock(out, "sampling output"):
        arrays, metas = zip(*(_read(p) for p in paths), strict=True)
        _check(list(paths), list(metas))
        order = sorted(range(len(paths)), key=lambda k: metas[k]["shard"]["start"])
        for k in order:
            held = len(arrays[k]["arr_0"])
            part = metas[k]["shard"]
            if metas[k]["status"] == "ok" and held != part["stop"] - part["start"]:
                raise ValueError(f"samples shard '{paths[k]}' holds {held} images, its meta "
                                 f"says {part['stop'] - part['start']}")
        images = np.concatenate([arrays[k]["arr_0"] for k in order])
        labelled = ["arr_1" in arrays[k] for k in order]
        if any(labelled) and not all(labelled):
            raise ValueError("some samples shards hold labels (arr_1) and some do not")
        labels = np.concatenate([arrays[k]["arr_1"] for k in order]) if all(labelled) else None
        meta = _merged_meta([paths[k] for k in order], [metas[k] for k in order])
        write_samples(out, images, labels, meta)
        if meta["status"] == "ok":
            save_grid(images, grid)
        else:
            save_message(grid, meta["status"])
    return meta


def _merged_meta(paths: list[str], metas: list[dict]) -> dict:
    """The unsharded meta (shard 0's, less `shard`) with the per-shard facts combined."""
    meta = {k: v for k, v in metas[0].items() if k != "shard"}
    meta["shards"] = [{"file": Path(p).name, **m["shard"],
                       **{k: m[k] for k in PER_SHARD if k in m}}
                      for p, m in zip(paths, metas, strict=True)]
    meta["wall_time_s"] = round(sum(m.get("wall_time_s") or 0.0 for m in metas), 3)
    devices = sorted({d for m in metas for d in (m.get("device") or "").split(",") if d})
    meta["device"] = ",".join(devices) or None
    if "ranks" in meta:
        meta["ranks"] = max(m.get("ranks", 1) for m in metas)
    if isinstance(meta.get("execution"), dict):
        meta["execution"] = {**meta["execution"], "compiled": all(
            (m.get("execution") or {}).get("compiled", False) for m in metas)}
    return meta
