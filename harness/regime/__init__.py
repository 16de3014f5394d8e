"""The positive-control search (issue 22; results/regime/plan.md): rows read from the run
directories of scripts/regime-search.sh, as a table and a figure."""

from harness.regime.search import (
    Difference,
    SearchRow,
    draw,
    markdown_table,
    read_row,
    read_rows,
    replace_block,
)

__all__ = ["Difference", "SearchRow", "draw", "markdown_table", "read_row", "read_rows",
           "replace_block"]
