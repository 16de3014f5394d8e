"""Report: tables, figures, claims and the HTML page from plan.json and the result files."""

from harness.report.render import build_report

__all__ = ["build_report"]
