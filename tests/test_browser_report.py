"""The report opens in headless Chromium (Debian's `chromium`) without console errors, and the
page has the four tables, the figures and the claims section.

Needs /usr/bin/chromium: `bash scripts/install-chromium.sh` installs it (CI runs that first);
the test skips, saying so, where it is absent.
"""

import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from test_report_helpers import make_results, metrics_path

from harness.report import build_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed: run "
                       "scripts/install-chromium.sh (Debian package 'chromium')"),
]


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.imgs = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "img":
            self.imgs.append(attrs.get("src"))


def _chromium(tmp_path, *args):
    profile = tmp_path / f"profile{len(list(tmp_path.glob('profile*')))}"
    cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
           *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


def test_report_in_headless_chromium(tmp_path):
    plan = make_results(tmp_path / "run", seeds=2)
    (tmp_path / "run" / metrics_path("shapes_large", "constant", 10, seed=1)).unlink()
    html = build_report(plan, tmp_path / "run/reports/report.html")
    url = html.resolve().as_uri()

    shot = tmp_path / "laptop.png"
    run = _chromium(tmp_path, "--window-size=1366,768", f"--screenshot={shot}", url)
    assert run.returncode == 0, run.stderr[-2000:]
    assert shot.exists() and shot.stat().st_size > 10_000
    # Console messages (JS errors, failed resource loads) are logged as "CONSOLE(...)" lines.
    console = [line for line in run.stderr.splitlines() if re.search(r"CONSOLE|Uncaught", line)]
    assert not console, console

    dom = _chromium(tmp_path, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert not [ln for ln in dom.stderr.splitlines() if "CONSOLE" in ln]
    parser = _Ids()
    parser.feed(dom.stdout)
    for anchor in ("summary", "claims", "tables", "table1", "table2", "table3", "table4",
                   "figures", "fig2", "fig4", "fig5", "fig7a", "fig7b", "fig10", "samples",
                   "provenance", "claim-ours_beats_constant", "claim-mse_above_initial",
                   "statistics", "calibration", "claim-color_shift_few_steps"):
        assert anchor in parser.ids, anchor
    assert len(parser.imgs) >= 8
    for src in parser.imgs:  # every image the page shows exists next to it (offline, relative)
        assert not src.startswith(("http:", "https:", "/")), src
        assert (html.parent / src).exists(), src
    assert dom.stdout.count('class="result"') == 4


def test_committed_example_report_in_headless_chromium(tmp_path):
    """The committed example (a real quick-preset run) opens cleanly too."""
    from pathlib import Path

    html = Path(__file__).resolve().parents[1] / "reports" / "example" / "report.html"
    if not html.exists():
        pytest.skip("reports/example/report.html not generated")
    run = _chromium(tmp_path, "--window-size=1440,900", f"--screenshot={tmp_path / 'ex.png'}",
                    html.as_uri())
    assert run.returncode == 0, run.stderr[-2000:]
    assert not [ln for ln in run.stderr.splitlines() if "CONSOLE" in ln]
    dom = _chromium(tmp_path, "--dump-dom", html.as_uri())
    parser = _Ids()
    parser.feed(dom.stdout)
    assert {"summary", "claims", "table1", "table2", "table3", "table4", "fig4", "fig7a",
            "provenance"} <= parser.ids
    for src in parser.imgs:
        assert (html.parent / src).exists(), src
