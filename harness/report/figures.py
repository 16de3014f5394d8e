"""Figures of the report (matplotlib, Agg): each saved as PNG and SVG into the assets folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from harness import paper  # noqa: E402
from harness.diffusion.schedule import alphas_cumprod, get_named_beta_schedule, snr  # noqa: E402
from harness.diffusion.weighting import weight_curve  # noqa: E402
from harness.report.evidence import METRIC_LABELS, Evidence, Obs  # noqa: E402
from harness.report.mse import analysed_curves, curve_band  # noqa: E402
from harness.report.tables import WEIGHTING_LABELS  # noqa: E402

COLORS = {"initial": "#555555", "constant": "#1f77b4", "p2": "#2ca02c", "min_snr": "#9467bd",
          "debias": "#d62728", "snr": "#ff7f0e"}
STYLE = {"font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 9,
         "axes.grid": True, "grid.alpha": 0.3, "figure.dpi": 100}


@dataclass
class Figure:
    id: str
    title: str
    caption: str
    png: str | None = None  # file name inside the assets folder
    svg: str | None = None
    note: str = ""  # why it is empty, when it is
    wide: bool = False  # spans the full page width (two-panel figures)


def _label(w: str) -> str:
    return WEIGHTING_LABELS.get(w, w)


def _save(fig: plt.Figure, assets: Path, name: str, svg: bool = True,
          dpi: int = 110) -> tuple[str, str | None]:
    """PNG (+ SVG for plots; image grids are rasters, an SVG would only wrap the PNG)."""
    assets.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(assets / f"{name}.png", dpi=dpi, bbox_inches="tight")
    if svg:
        fig.savefig(assets / f"{name}.svg", bbox_inches="tight")
    plt.close(fig)
    return f"{name}.png", f"{name}.svg" if svg else None


def fig2_snr(assets: Path) -> Figure:
    """Fig. 2 left: SNR(t) and the amplification 1/sqrt(SNR(t)), linear schedule, T = 1000."""
    s = snr(alphas_cumprod(get_named_beta_schedule("linear", 1000)))
    t = np.arange(len(s))
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(5.5, 3.6))
        ax.semilogy(t, s, label="SNR(t)", color=COLORS["constant"])
        ax.semilogy(t, 1 / np.sqrt(s), label="1/√SNR(t)  (Ours' weight)", color=COLORS["debias"])
        ax.set_xlabel("timestep t")
        ax.set_ylabel("value (log scale)")
        ax.set_title("SNR and amplification coefficient (linear schedule)")
        ax.legend()
        png, svg = _save(fig, assets, "fig2_snr")
    return Figure("fig2", "Fig. 2 (left): SNR(t) and 1/√SNR(t)",
                  "The error of ε̂ is amplified by 1/√SNR(t) in x̂0 (Eq. 6); computed from the "
                  "harness' linear β schedule.", png, svg)


def fig5_weightings(assets: Path) -> Figure:
    """Fig. 5 left / appendix: the loss weights vs t (ε-prediction form)."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(5.5, 3.6))
        for name in ("constant", "p2", "min_snr", "debias", "snr"):
            t, w = weight_curve(name)
            label = _label(name) + (" (appendix)" if name == "snr" else "")
            ax.semilogy(t, w, label=label, color=COLORS.get(name), ls=":" if name == "snr"
                        else "-")
        ax.set_xlabel("timestep t")
        ax.set_ylabel("loss weight on ‖ε − ε̂‖² (log scale)")
        ax.set_title("Weighting strategies (ε-prediction)")
        ax.legend()
        png, svg = _save(fig, assets, "fig5_weightings")
    return Figure("fig5", "Fig. 5 (left): weighting strategies",
                  "P2 (γ=1, k=1), Min-SNR (γ=5), Ours = 1/√SNR(t), and the appendix's 1/SNR; from "
                  "harness.diffusion.weighting.", png, svg)


def _curve(ax: plt.Axes, by_seed: dict[int, dict], label: str, color: str | None,
           keep=None, **style) -> None:
    """A weighting's MSE curve with its 95% band (harness.report.mse.curve_band): over seeds
    where several were analysed, else over the analysed images."""
    band = curve_band(by_seed)
    if band is None:  # files without per-image values: the curve alone
        first = by_seed[min(by_seed)]
        t, mean = np.asarray(first["t"]), np.asarray(first["mse"])
        low = high = None
    else:
        t, mean, low, high = band
    sel = keep(t) if keep is not None else slice(None)
    ax.plot(t[sel], mean[sel], label=label, color=color, **style)
    if low is not None:
        ax.fill_between(t[sel], low[sel], high[sel], color=color, alpha=0.2, lw=0)


def _diverged_note(ev: Evidence, figure: str, drawn: tuple[str, ...] | None = None) -> str:
    """'1/SNR: diverged at step N (no curve)' for each analysed run that diverged first."""
    return "; ".join(f"{_label(e.get('weighting'))}: {e['diverged']} (no curve)"
                     for e in ev.analysis()
                     if figure in e.get("figure", []) and e.get("diverged")
                     and (drawn is None or e.get("weighting") in drawn))


def fig4_mse(ev: Evidence, assets: Path) -> Figure:
    """Fig. 4: MSE(output, noise) vs t for Constant and Ours, and Initial = MSE(x_t, noise)."""
    fig_ = Figure("fig4", "Fig. 4: MSE between prediction and noise vs t",
                  "Initial = MSE(x_t, ε): what a network that 'does nothing' scores. Right: "
                  "zoom on t > 900 where the paper finds Constant above Initial. Bands: 95% "
                  "intervals over the analysed training seeds, or over the analysed images "
                  "(bootstrap) where one seed was analysed.", wide=True)
    data = analysed_curves(ev, "fig4", eps_only=False)
    fig_.note = _diverged_note(ev, "fig4", drawn=("constant", "debias"))
    if not data:
        fig_.note = "; ".join(x for x in ("not run: no analysis results (mse.json) for Fig. 4",
                                          fig_.note) if x)
        return fig_
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
        by_seed = next(iter(data.values()))
        first = by_seed[min(by_seed)]
        for ax, zoom in zip(axes, (False, True), strict=True):
            t = np.asarray(first["t"])
            sel = t > 900 if zoom else slice(None)
            ax.plot(t[sel], np.asarray(first["initial"])[sel], label="Initial (x_t vs ε)",
                    color=COLORS["initial"], ls="--")
            for w in ("constant", "debias"):
                if w in data:
                    _curve(ax, data[w], _label(w), COLORS[w], (lambda x: x > 900) if zoom
                           else None, marker="." if zoom else None)
            ax.set_xlabel("timestep t")
            ax.set_ylabel("MSE per pixel")
            ax.set_title("t > 900 (zoom)" if zoom else "all t")
            if zoom:  # log scale: Initial is orders of magnitude below the networks' MSE here
                ax.set_yscale("log")
                ax.set_ylabel("MSE per pixel (log scale)")
                ax.axvline(950, color="#999999", lw=0.8, ls=":")
        axes[0].legend()
        png, svg = _save(fig, assets, "fig4_mse")
    fig_.png, fig_.svg = png, svg
    return fig_


def fig10_mse_all(ev: Evidence, assets: Path) -> Figure:
    """Fig. 10: MSE vs t for every analysed weighting, 1/SNR included (log y)."""
    fig_ = Figure("fig10", "Fig. 10: MSE vs t for all weightings",
                  "1/SNR emphasises large t so strongly that small-t MSE suffers (appendix B). "
                  "Bands: 95% intervals over seeds, or over the analysed images.")
    data = analysed_curves(ev, "fig10", eps_only=False)
    fig_.note = _diverged_note(ev, "fig10")
    if not data:
        fig_.note = "; ".join(x for x in ("not run: no analysis results (mse.json) for Fig. 10",
                                          fig_.note) if x)
        return fig_
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(5.5, 3.6))
        by_seed = next(iter(data.values()))
        first = by_seed[min(by_seed)]
        ax.semilogy(first["t"], first["initial"], label="Initial", color=COLORS["initial"],
                    ls="--")
        for w, d in data.items():
            _curve(ax, d, _label(w), COLORS.get(w))
        ax.set_xlabel("timestep t")
        ax.set_ylabel("MSE per pixel (log scale)")
        ax.legend(ncol=2)
        png, svg = _save(fig, assets, "fig10_mse_all")
    fig_.png, fig_.svg = png, svg
    return fig_


def _series(ev: Evidence, use: str, x_key: str) -> dict[str, list[tuple[float, Obs]]]:
    out: dict[str, dict[float, Obs]] = {}
    cells = ev.cells(use)
    if use == "fig7b" and cells:  # one checkpoint per weighting: the latest
        last = {}
        for c in cells:
            last[c["weighting"]] = max(last.get(c["weighting"], 0), c.get("iteration") or 0)
        cells = [c for c in cells if (c.get("iteration") or 0) == last[c["weighting"]]]
    for c in cells:  # the deciding metric: FID is bias-dominated at toy scale
        out.setdefault(c["weighting"], {})[c[x_key]] = ev.obs(c, ev.metric)
    return {w: sorted(s.items()) for w, s in out.items()}


def _plot_series(ax: plt.Axes, series: dict[str, list[tuple[float, Obs]]]) -> list[str]:
    notes = []
    for w, pts in series.items():
        ok = [(x, o) for x, o in pts if o.ok]
        for x, o in pts:
            if not o.ok:
                notes.append(f"{_label(w)} at {x}: {o.status}")
        if ok:
            xs = [x for x, _ in ok]
            # Error bars: each value's interval (t over seeds, or one seed's bootstrap).
            low = [o.value - o.ci[0] if o.ci else 0.0 for _, o in ok]
            high = [o.ci[1] - o.value if o.ci else 0.0 for _, o in ok]
            ax.errorbar(xs, [o.value for _, o in ok], yerr=[low, high],
                        label=_label(w), color=COLORS.get(w), marker="o", capsize=3)
    return notes


def _why_metric(ev: Evidence) -> str:
    if ev.metric == "fid":
        return ""
    return (f" Reproduced panels show {METRIC_LABELS[ev.metric]}, the deciding metric at this "
            "scale (FID is dominated by its small-sample bias here); the paper's is FID.")


def fig7a_iterations(ev: Evidence, assets: Path) -> Figure:
    """Fig. 7a: the deciding metric vs training iterations."""
    label = METRIC_LABELS[ev.metric]
    fig_ = Figure("fig7a", f"Fig. 7a: {label} vs training iterations",
                  "Paper (FFHQ, FID): Ours at 400k iterations matches Constant at 1000k. Error "
                  "bars: 95% intervals (t over seeds, or one seed's bootstrap)." + _why_metric(ev))
    series = _series(ev, "fig7a", "iteration")
    if not any(o.ok for pts in series.values() for _, o in pts):
        fig_.note = ("not run: no Fig. 7a result files yet" if series
                     else "not run: no Fig. 7a cells in the plan")
        return fig_
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(5.5, 3.6))
        notes = _plot_series(ax, series)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_xlabel("training iterations")
        ax.set_ylabel(f"{label} ↓")
        ax.set_title(f"Reproduced: {label} vs training iterations")
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
        png, svg = _save(fig, assets, "fig7a_iterations")
    fig_.png, fig_.svg, fig_.note = png, svg, "; ".join(notes)
    return fig_


def fig7b_steps(ev: Evidence, assets: Path) -> Figure:
    """Fig. 7b: the deciding metric vs sampling steps, reproduced (left), and the paper's Table 1
    FFHQ FIDs (right)."""
    label = METRIC_LABELS[ev.metric]
    fig_ = Figure("fig7b", f"Fig. 7b: {label} vs sampling steps",
                  f"Left: reproduced {label} (latest checkpoint per weighting; error bars: 95% "
                  "intervals). Right: the paper's FFHQ FIDs from Table 1." + _why_metric(ev),
                  wide=True)
    series = _series(ev, "fig7b", "steps")
    with plt.rc_context(STYLE):
        fig, (ax, axp) = plt.subplots(1, 2, figsize=(10, 3.8))
        notes = _plot_series(ax, series) if series else ["not run: no Fig. 7b cells in the plan"]
        if not ax.get_legend_handles_labels()[0]:
            ax.text(0.5, 0.5, "not run", ha="center", va="center", transform=ax.transAxes,
                    color="#6b7280", fontsize=14)
            notes = ["reproduced panel not run: no Fig. 7b result files"]
        for w in ("constant", "p2", "min_snr", "debias"):
            pts = [(s, paper.table1_value("ffhq", s, w)) for d, s in paper.table1_keys()
                   if d == "ffhq"]
            axp.plot([s for s, _ in pts], [v for _, v in pts], marker="o", label=_label(w),
                     color=COLORS[w])
        paper_steps = [s for d, s in paper.table1_keys() if d == "ffhq"]
        repro_steps = sorted({x for pts in series.values() for x, _ in pts})
        for a, title, ticks, metric in ((ax, "Reproduced", repro_steps, label),
                                        (axp, "Paper, FFHQ (Table 1)", paper_steps, "FID")):
            a.set_xscale("log")
            if ticks:
                a.set_xticks(ticks, [str(int(t)) for t in ticks])
                a.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            a.set_xlabel("sampling steps T (log scale)")
            a.set_ylabel(f"{metric} ↓")
            a.set_title(title)
            if a.get_legend_handles_labels()[0]:
                a.legend()
        png, svg = _save(fig, assets, "fig7b_steps")
    fig_.png, fig_.svg, fig_.note = png, svg, "; ".join(notes)
    return fig_


def build_curve_figures(ev: Evidence, assets: Path) -> list[Figure]:
    """All line figures, in the report's order."""
    return [fig2_snr(assets), fig5_weightings(assets), fig4_mse(ev, assets),
            fig10_mse_all(ev, assets), fig7a_iterations(ev, assets), fig7b_steps(ev, assets)]
