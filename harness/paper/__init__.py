"""The paper's published numbers (Tables 1-4) and its claims, as data; P2's published numbers for
the checkpoints P2 released; how each paper measured its numbers."""

from harness.paper.claim import Claim
from harness.paper.claims import CLAIMS, claim_by_id
from harness.paper.p2 import Published, p2_value, p2_values, published_value
from harness.paper.protocols import PROTOCOLS, Protocol
from harness.paper.released_claims import RELEASED_CLAIMS
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
    "PROTOCOLS",
    "RELEASED_CLAIMS",
    "TABLE1_COLUMNS",
    "TABLE2_COLUMNS",
    "TABLE4_COLUMNS",
    "Claim",
    "PaperValue",
    "Protocol",
    "Published",
    "claim_by_id",
    "lookup",
    "p2_value",
    "p2_values",
    "paper_values",
    "published_value",
    "table1_keys",
    "table1_value",
    "table2_keys",
    "table2_value",
    "table3_rows",
    "table4_value",
]
