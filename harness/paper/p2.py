"""P2's published numbers (Choi et al. 2022, shared/papers/p2-perception-prioritized-weighting.md)
for the checkpoints P2 released, beside the Debias paper's (harness.paper.tables), which copies
some of them into its P2* column.

Table 1 prints FID-50k and KID-50k (x10^3) of the baseline (constant weighting) and of P2 per
(dataset, sampling steps T); Table 2 adds P2 on CelebA-HQ at T=500 (FID only). CUB and Oxford
Flowers, also in P2's Table 1, are not datasets of the paper under study and are left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.paper.protocols import PROTOCOLS, Protocol


@dataclass(frozen=True)
class Published:
    """One checkpoint's published FID and KID at T sampling steps."""

    dataset: str  # paper dataset key (harness.paper.DATASET_LABELS)
    steps: int
    weighting: str  # harness weighting name: constant (P2's "Base") or p2
    fid: float
    kid: float | None  # KID x 10^3, as printed; None where not printed
    where: str  # the table that prints it
    checkpoint: str  # the released file measured
    protocol: Protocol = PROTOCOLS["p2"]


# (dataset, T) -> (FID base, FID P2, KID x10^3 base, KID x10^3 P2): P2 Table 1.
_TABLE1 = {
    ("ffhq", 1000): (7.86, 6.92, 3.85, 3.46),
    ("ffhq", 500): (8.41, 6.97, 4.48, 3.56),
    ("afhqdog", 1000): (12.47, 11.55, 4.79, 4.10),
    ("afhqdog", 250): (12.95, 11.66, 5.25, 4.20),
    ("metfaces", 250): (44.34, 36.80, 22.1, 17.6),
}
# The released files' names (P2's README) per (dataset, weighting).
CHECKPOINTS = {
    ("ffhq", "constant"): "ffhq_baseline.pt", ("ffhq", "p2"): "ffhq_p2.pt",
    ("afhqdog", "constant"): "afhq_baseline.pt", ("afhqdog", "p2"): "afhq_p2.pt",
    ("metfaces", "constant"): "metface_baseline.pt", ("metfaces", "p2"): "metface_p2.pt",
    ("celebahq", "p2"): "celebahq_p2.pt",
}


def p2_values() -> list[Published]:
    """Every published number of P2's released checkpoints (Table 1, and Table 2's CelebA-HQ)."""
    out = []
    for (dataset, steps), (fid_base, fid_p2, kid_base, kid_p2) in _TABLE1.items():
        for weighting, fid, kid in (("constant", fid_base, kid_base), ("p2", fid_p2, kid_p2)):
            out.append(Published(dataset, steps, weighting, fid, kid, "P2 Table 1",
                                 CHECKPOINTS[(dataset, weighting)]))
    out.append(Published("celebahq", 500, "p2", 6.91, None, "P2 Table 2",
                         CHECKPOINTS[("celebahq", "p2")]))
    return out


def p2_value(dataset: str, steps: int, weighting: str) -> Published | None:
    """P2's published number for (paper dataset, T, weighting); None where P2 prints none."""
    return next((v for v in p2_values() if (v.dataset, v.steps, v.weighting)
                 == (dataset, steps, weighting)), None)


def published_value(paper_key: str, dataset: str, steps: int, weighting: str
                    ) -> Published | None:
    """The number `paper_key` published for a checkpoint it released: p2 (P2's tables above) or
    debias (the Debias paper's Table 1, FID only, measured on the authors' own checkpoints at
    500k iterations); None where it prints none."""
    if paper_key == "p2":
        return p2_value(dataset, steps, weighting)
    from harness.paper.tables import table1_value

    fid = table1_value(dataset, steps, weighting) if weighting != "p2_star" else None
    if fid is None:
        return None
    return Published(dataset, steps, weighting, fid, None, "Debias Table 1", "",
                     PROTOCOLS[paper_key])
