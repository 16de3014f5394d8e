"""Report: tables, figures, claims and the HTML page from plan.json and the result files."""
