"""Image figures: sample grids per weighting and step count (Fig. 1/6 style) and the one-step
x̂0 strips (Fig. 3 style)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from harness.report.evidence import Evidence, resolve  # noqa: E402
from harness.report.figures import STYLE, Figure, _label, _save  # noqa: E402

PANEL_PX = 256  # grids are shrunk to at most this many pixels a side (small assets)
WEIGHT_ORDER = ["constant", "p2", "min_snr", "debias", "snr"]


def _order(w: str) -> tuple[int, str]:
    return (WEIGHT_ORDER.index(w) if w in WEIGHT_ORDER else len(WEIGHT_ORDER), w)


def _thumb(path: Path) -> np.ndarray:
    img = Image.open(path).convert("RGB")
    img.thumbnail((PANEL_PX, PANEL_PX), Image.Resampling.LANCZOS)
    return np.asarray(img)


def sample_grids(ev: Evidence, assets: Path, limit: int = 6) -> list[Figure]:
    """One figure per reproduced dataset: rows = weighting, columns = sampling steps; the
    released checkpoints of a dataset in a figure of their own (rows = arm)."""
    by_iter: dict[tuple, dict[int, dict[tuple, Path | None]]] = {}
    for cells in ev.groups.values():
        c = cells[0]  # replicate 0 of the slot: its grid stands for the slot
        if not c.get("grid") or c.get("target", "eps") != "eps" or c.get("arm", "main") != "main":
            continue
        key = (c.get("dataset"), c.get("sampler"), bool(c.get("released")))
        row = c.get("released") or c["weighting"]
        by_iter.setdefault(key, {}).setdefault(c.get("iteration") or 0, {})[
            (row, c["steps"])] = resolve(c["grid"], ev.plan_path)
    # Per dataset and sampler, the checkpoint with the most panels (ties: the latest).
    latest = {k: max(v, key=lambda i, v=v: (len(v[i]), i)) for k, v in by_iter.items()}
    groups = {k: by_iter[k][i] for k, i in latest.items()}
    figures = []
    for (dataset, sampler, released), slots in sorted(groups.items(), key=str)[:limit]:
        weightings = sorted({w for w, _ in slots}, key=_order)
        steps = sorted({s for _, s in slots}, reverse=True)
        name = f"grid_{dataset}_{sampler}{'_released' if released else ''}".replace("/", "_")
        stands = (ev.plan.get("datasets", {}).get(dataset) or {}).get("stands_for")
        when = ("released checkpoints" if released
                else f"iteration {latest[(dataset, sampler, released)]}")
        fig_ = Figure(name, f"Samples: {dataset}" + (f" (for {stands})" if stands else "")
                      + f", {sampler.upper()}, {when}",
                      f"Rows: {'released arm' if released else 'weighting'}; columns: sampling "
                      "steps T (same seeds in every panel).")
        missing = [f"{_label(w)} T={s}" for (w, s), p in slots.items() if p is None]
        if len(missing) == len(slots):
            fig_.note = "not run: no sample grid files yet"
            figures.append(fig_)
            continue
        with plt.rc_context(STYLE):
            fig, axes = plt.subplots(len(weightings), len(steps), squeeze=False,
                                     figsize=(1.9 * len(steps) + 0.6, 1.9 * len(weightings)))
            for i, w in enumerate(weightings):
                for j, s in enumerate(steps):
                    ax = axes[i][j]
                    ax.set_xticks([])
                    ax.set_yticks([])
                    ax.grid(False)
                    path = slots.get((w, s))
                    if path is not None:
                        ax.imshow(_thumb(path))
                    else:
                        ax.text(0.5, 0.5, "not run", ha="center", va="center",
                                transform=ax.transAxes)
                    if i == 0:
                        ax.set_title(f"T = {s}")
                    if j == 0:
                        ax.set_ylabel(_label(w), fontsize=11)
            fig.tight_layout()
            fig_.png, fig_.svg = _save(fig, assets, name, svg=False, dpi=80)
        fig_.note = ("not run: " + ", ".join(missing)) if missing else ""
        figures.append(fig_)
    return figures


def x0_strips(ev: Evidence, assets: Path) -> list[Figure]:
    """Fig. 3: x_t and the one-step x̂0 (Eq. 6) at several t, one row per weighting."""
    by_dataset: dict[str, dict[str, dict]] = {}
    diverged: dict[str, dict[str, str]] = {}  # dataset -> row -> message
    for entry in ev.analysis():
        if "fig3" not in entry.get("figure", []):
            continue
        slot = by_dataset.setdefault(entry.get("dataset"), {})
        key = entry.get("weighting") if entry.get("target", "eps") == "eps" else \
            f"{entry.get('target')}-{entry.get('weighting')}"
        slot[key] = dict(np.load(entry["x0_path"])) if entry.get("x0_path") else {}
        if entry.get("diverged"):
            diverged.setdefault(entry.get("dataset"), {})[key] = entry["diverged"]
    figures = []
    for dataset, rows in sorted(by_dataset.items(), key=str):
        name = f"fig3_x0_{dataset}".replace("/", "_")
        fig_ = Figure(name, f"Fig. 3: one-step x̂0 estimates ({dataset})",
                      "x_t from one real image, one network call, x̂0 by Eq. 6 (clipped to "
                      "[-1, 1]). Top row: the inputs x_t.", wide=True)
        done = {w: d for w, d in rows.items() if d}
        missing = sorted(set(rows) - set(done))
        if not done:
            fig_.note = _missing_note(missing, diverged.get(dataset, {}))
            figures.append(fig_)
            continue
        ref = next(iter(done.values()))
        ts = [int(t) for t in ref["t"]]
        names = sorted(done, key=_order)
        with plt.rc_context(STYLE):
            fig, axes = plt.subplots(len(names) + 1, len(ts) + 1, squeeze=False,
                                     figsize=(1.3 * (len(ts) + 1) + 0.6, 1.4 * (len(names) + 1)))
            for ax in axes.flat:
                ax.set_xticks([])
                ax.set_yticks([])
                ax.grid(False)
            axes[0][0].imshow(ref["x0"])
            axes[0][0].set_title("x0 (real)")
            axes[0][0].set_ylabel("input x_t")
            for j, t in enumerate(ts):
                axes[0][j + 1].imshow(ref["xt"][j])
                axes[0][j + 1].set_title(f"t = {t}")
            for i, w in enumerate(names, start=1):
                axes[i][0].set_axis_off()
                axes[i][0].text(0.95, 0.5, _label(w) + " x̂0", ha="right", va="center",
                                fontsize=10, transform=axes[i][0].transAxes)
                for j in range(len(ts)):
                    axes[i][j + 1].imshow(done[w]["x0_hat"][j])
            fig.tight_layout()
            fig_.png, fig_.svg = _save(fig, assets, name, svg=False)
        fig_.note = _missing_note(missing, diverged.get(dataset, {}))
        figures.append(fig_)
    return figures


def _missing_note(missing: list[str], diverged: dict[str, str]) -> str:
    """'not run: X; Y: diverged at step N' for the rows of Fig. 3 without a strip."""
    parts = []
    absent = [_label(w) for w in missing if w not in diverged]
    if absent:
        parts.append("not run: " + ", ".join(absent))
    parts += [f"{_label(w)}: {diverged[w]}" for w in missing if w in diverged]
    return "; ".join(parts)
