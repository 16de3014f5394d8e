"""The positive-control search (results/regime/plan.md): one row per run directory, read
from what the workflow wrote there (the report's claims.json, the Table 1 cell's metrics files,
`time.txt` of scripts/regime-search.sh), rendered as a Markdown table and a figure.

A row's verdict is the report's own `positive_control` verdict; its differences are the
report's paired tests, shown as weighting − Constant (negative: the weighting is better).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from harness.inputs import read_json

ARMS = (("p2", "P2"), ("min_snr", "Min-SNR"))
WEIGHTING_COLUMNS = ("Constant", "P2", "Min-SNR")


@dataclass
class Difference:
    """weighting − Constant over paired seeds: value, 95% interval, t = value / se."""

    value: float
    low: float
    high: float
    t: float


@dataclass
class SearchRow:
    name: str
    configuration: str
    verdict: str  # the report's positive_control verdict, or "failed"
    cpu_seconds: float | None = None
    wall_seconds: float | None = None
    kid: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    differences: dict[str, Difference] = field(default_factory=dict)
    why: str = ""  # a failed row's reason

    @property
    def weaker_t(self) -> float | None:
        """The plan's ranking: min over P2 and Min-SNR of t(Constant − weighting)."""
        if len(self.differences) < len(ARMS):
            return None
        return min(-d.t for d in self.differences.values())


def describe_config(config: dict) -> str:
    """The row's configuration in a few words (data, size, model width, training, sampling)."""
    (name, data), = config["datasets"].items()
    source = data["source"].split(":", 1)[-1]
    sampling = config["sampling"]
    steps = config["experiments"]["table1"]["rows"][0]["steps"][0]
    return (f"{source} {data['resolution']} px ({data.get('count')} images), width "
            f"{config['model']['num_channels']}, {config['training']['iterations']} it, "
            f"{sampling['sampler'].upper()} {steps}, {sampling['num_samples']} samples, "
            f"{config['replicates']} seeds"
            f" (training seed {config['training'].get('seed', 0)}+)")


def _kid_by_weighting(run_dir: Path, config: dict) -> dict[str, tuple[float, float, float]]:
    """Each weighting's mean KID over its seeds with a 95% t interval, from the metrics files
    of the Table 1 cell (the report's tables show FID; KID decides at toy scale)."""
    from scipy import stats

    sampling, row = config["sampling"], config["experiments"]["table1"]["rows"][0]
    cell = f"{sampling['sampler']}{row['steps'][0]}.json"
    out = {}
    for key, label in (("constant", "Constant"), *ARMS):
        files = sorted((run_dir / "results" / "metrics" / row["dataset"]).glob(
            f"eps-{key}/seed*/*/{cell}"))
        values = [read_json(f, "metrics")["kid"] for f in files]
        if len(values) < 2:
            continue
        mean, sd = float(np.mean(values)), float(np.std(values, ddof=1))
        half = float(stats.t.ppf(0.975, len(values) - 1)) * sd / math.sqrt(len(values))
        out[label] = (mean, mean - half, mean + half)
    return out


def _differences(claim: dict) -> dict[str, Difference]:
    out = {}
    for key, label in ARMS:
        test = next((t for t in claim.get("tests", []) if t["label"].endswith(f"− {label}")
                     and t["value"] is not None), None)
        if test is None or not test.get("se") or not test.get("interval"):
            continue
        low, high = test["interval"]
        # The report tests Constant − weighting; the table shows weighting − Constant.
        out[key] = Difference(-test["value"], -high, -low, -test["value"] / test["se"])
    return out


def read_row(run_dir: Path, config_path: Path) -> SearchRow:
    """A row from a run directory; a run without a report is a failed row naming why."""
    try:
        config = yaml.safe_load(config_path.read_text())
    except yaml.YAMLError as err:
        raise ValueError(f"row config {config_path}: not YAML ({err})") from None
    if not isinstance(config, dict):
        raise ValueError(f"row config {config_path}: expected a mapping of config keys")
    row = SearchRow(run_dir.name, describe_config(config), "failed")
    timing = run_dir / "time.txt"
    fields = timing.read_text().split()[-3:] if timing.is_file() else []
    if fields:
        try:
            user, system, wall = (float(x) for x in fields)
        except ValueError:
            raise ValueError(f"{timing}: expected 'user system wall' seconds, "
                             f"got {' '.join(fields)!r}") from None
        row.cpu_seconds, row.wall_seconds = user + system, wall
    claims_file = run_dir / "reports" / "assets" / "claims.json"
    # /usr/bin/time creates its file at the start and fills it at the end.
    if not claims_file.is_file() and row.cpu_seconds is None:
        row.verdict, row.why = "not finished", "no report yet: running, or stopped (rerun the row)"
        return row
    if not claims_file.is_file():
        log = run_dir / "snakemake.log"
        tail = log.read_text().strip().splitlines()[-1:] if log.is_file() else ["never run"]
        row.why = "no report: " + (tail[0] if tail else "empty log")
        return row
    claim = next(c for c in read_json(claims_file, "claims", list)
                 if c["id"] == "positive_control")
    row.verdict = claim["verdict"]
    row.differences = _differences(claim)
    row.kid = _kid_by_weighting(run_dir, config)
    return row


def read_rows(runs: Path, configs: Path) -> list[SearchRow]:
    """Every row with a config, in name order (s1, s2, ...); rows not yet run are left out."""
    return [read_row(runs / c.stem, c) for c in sorted(configs.glob("*.yaml"),
                                                        key=lambda p: _order(p.stem))
            if (runs / c.stem).is_dir()]


def _order(name: str) -> tuple:
    """Search rows (s1, s2, ..., s10) first, then confirmations (c1, ...), each by number."""
    head = name.split("-", 1)[0]
    return (head[0] != "s", head[0], int(head[1:]) if head[1:].isdigit() else math.inf, name)


def _kid_text(value: tuple[float, float, float] | None) -> str:
    if value is None:
        return "–"
    mean, low, high = value
    return f"{mean:.4f} [{low:.4f}, {high:.4f}]"


def _diff_text(d: Difference | None) -> str:
    return "–" if d is None else f"{d.value:+.4f} [{d.low:+.4f}, {d.high:+.4f}]"


def markdown_table(rows: list[SearchRow]) -> str:
    """The search table: one line per row, failures with their reason."""
    head = ("| row | configuration | CPU min | KID Constant | KID P2 | KID Min-SNR "
            "| P2 − Constant | Min-SNR − Constant | weaker t | verdict |\n"
            "|---|---|---|---|---|---|---|---|---|---|\n")
    lines = []
    for r in rows:
        cpu = f"{r.cpu_seconds / 60:.1f}" if r.cpu_seconds is not None else "–"
        t = f"{r.weaker_t:.2f}" if r.weaker_t is not None else "–"
        verdict = r.verdict if not r.why else f"{r.verdict} ({r.why})"
        lines.append(
            f"| {r.name} | {r.configuration} | {cpu} | "
            + " | ".join(_kid_text(r.kid.get(c)) for c in WEIGHTING_COLUMNS)
            + f" | {_diff_text(r.differences.get('p2'))} | "
            f"{_diff_text(r.differences.get('min_snr'))} | {t} | {verdict} |")
    return head + "\n".join(lines) + "\n"


def draw(rows: list[SearchRow], out: Path) -> None:
    """Each row's two differences with their intervals; left of zero favours the weighting."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    shown = [r for r in rows if r.differences]
    fig, ax = plt.subplots(figsize=(7.5, 0.5 * len(shown) + 1.4))
    for y, r in enumerate(reversed(shown)):
        for k, (key, label) in enumerate(ARMS):
            d = r.differences.get(key)
            if d is None:
                continue
            offset = 0.15 if k == 0 else -0.15
            ax.errorbar(d.value, y + offset, xerr=[[d.value - d.low], [d.high - d.value]],
                        fmt="o" if k == 0 else "s", color=f"C{k}", capsize=3,
                        label=f"{label} − Constant" if y == 0 else None)
    ax.axvline(0, color="0.5", lw=0.8)
    ax.set_yticks(range(len(shown)),
                  [f"{r.name} ({r.verdict})" for r in reversed(shown)], fontsize=8)
    ax.set_xlabel("KID difference, weighting − Constant (95% paired interval over seeds); "
                  "< 0: the weighting is better", fontsize=8)
    ax.set_title("Positive-control search (results/regime/plan.md)", fontsize=9)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


BEGIN, END = "<!-- search:table -->", "<!-- /search:table -->"


def replace_block(document: str, table: str) -> str:
    """``document`` with the text between the search-table markers replaced by ``table``."""
    if BEGIN not in document or END not in document:
        raise ValueError(f"the document has no '{BEGIN}' ... '{END}' block to fill")
    head, rest = document.split(BEGIN, 1)
    return head + BEGIN + "\n" + table + END + rest.split(END, 1)[1]
