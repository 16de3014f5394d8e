"""The paper's published numbers (Tables 1-4) and its claims, as data."""

from harness.paper.claims import CLAIMS, Claim, claim_by_id
from harness.paper.tables import (
    DATASET_LABELS,
    DATASET_SIZES,
    TABLE1_COLUMNS,
    TABLE2_COLUMNS,
    TABLE4_COLUMNS,
    PaperValue,
    lookup,
    paper_values,
    table1_keys,
    table1_value,
    table2_keys,
    table2_value,
    table3_rows,
    table4_value,
)

__all__ = [
    "CLAIMS",
    "DATASET_LABELS",
    "DATASET_SIZES",
    "TABLE1_COLUMNS",
    "TABLE2_COLUMNS",
    "TABLE4_COLUMNS",
    "Claim",
    "PaperValue",
    "claim_by_id",
    "lookup",
    "paper_values",
    "table1_keys",
    "table1_value",
    "table2_keys",
    "table2_value",
    "table3_rows",
    "table4_value",
]
