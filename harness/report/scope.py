"""What part of the paper's evidence a reproduced verdict covers, in words: the Table 1 datasets
and step counts a claim over "every cell" was decided on (steps that are not the paper's are
named as stand-ins), the datasets standing for the paper's, and the sampler its cells used."""

from __future__ import annotations

from collections.abc import Iterable

from harness import paper
from harness.report.judgement import Judgement
from harness.report.tables import SAMPLER_LABELS
from harness.report.views import View


def _steps(steps: Iterable[int]) -> str:
    return ", ".join(f"T={s}" for s in sorted(steps, reverse=True))


def paper_steps(dataset: str) -> list[int]:
    """Table 1's step counts of a paper dataset, most first."""
    return [s for d, s in paper.table1_keys() if d == dataset]


def table1_coverage(view: View, keys: Iterable[tuple[str, int]],
                    datasets: bool = True) -> tuple[str, list[str]]:
    """(short, lines): the Table 1 (dataset, T) cells ``keys`` a verdict rests on, against the
    paper's 4 datasets (``datasets``: the claim names them all) and each one's step counts;
    a step count that is not the paper's is named a stand-in."""
    keys = set(keys)
    if view.published or not keys:
        return "", []
    names = list(dict.fromkeys(d for d, _ in paper.table1_keys()))
    covered = [d for d in names if any(k[0] == d for k in keys)]
    covered += sorted({d for d, _ in keys} - set(names))
    named = {s for d, s in keys if s in paper_steps(d)}
    stand = {s for d, s in keys if s not in paper_steps(d)}
    cells = sum(len(paper_steps(d)) for d in (names if datasets else covered))
    short = []
    if datasets and len(covered) < len(names):
        short.append(f"on {len(covered)} of {len(names)} Table 1 datasets ("
                     + ", ".join(paper.DATASET_LABELS.get(d, d) for d in covered) + ")")
    if len({k for k in keys if k[1] in named}) < cells:
        parts = [_steps(named)] if named else []
        if stand:
            parts.append(f"{_steps(stand)}, {_stand_in(stand)}")
        short.append("at " + " and ".join(parts))
    lines = []
    for d in covered:
        steps = {s for k, s in keys if k == d}
        theirs, extra = steps & set(paper_steps(d)), steps - set(paper_steps(d))
        text = (f"{view.ds(d)}: {len(theirs)} of its {len(paper_steps(d))} Table 1 step counts"
                + (f" ({_steps(theirs)})" if theirs else ""))
        if extra:
            text += f"; {_steps(extra)} {'is' if len(extra) == 1 else 'are'} {_stand_in(extra)}"
        lines.append(text)
    return ", ".join(short), lines


def _stand_in(steps: set[int]) -> str:
    if len(steps) == 1:
        return "a stand-in (not a Table 1 step count)"
    return "stand-ins (not Table 1 step counts)"


def scoped(judgement: Judgement, coverage: tuple[str, list[str]]) -> Judgement:
    """``judgement`` with its coverage set."""
    judgement.coverage, lines = coverage
    judgement.scope = lines + judgement.scope
    return judgement


def sampler_line(samplers: set[str], paper_sampler: str) -> str:
    """The sampler a verdict was decided on, beside the paper's ('' where nothing sampled)."""
    used = " and ".join(SAMPLER_LABELS.get(s, s) for s in sorted(samplers))
    if not used or not paper_sampler:
        return ""
    theirs = SAMPLER_LABELS.get(paper_sampler, paper_sampler)
    same = samplers == {paper_sampler}
    return f"decided on {used} cells" + ("" if same else f"; the paper's evidence: {theirs}")


def samplers_of(judgement: Judgement) -> set[str]:
    """The samplers of the cells a judgement's comparisons read."""
    return {k[4] for t in judgement.tests for k in t.cells if len(k) > 4 and k[4]}
