"""How each paper measured its published numbers, and which clean-fid mode of the harness
matches it. A published number beside ours names its protocol; where ours was measured in
another mode the report labels the comparison as one across protocols."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Protocol:
    """One paper's FID/KID protocol, as its text and repository state it."""

    key: str
    paper: str  # the paper, in words
    evaluator: str  # the code that computed the numbers
    reference: str  # what the generated samples were compared with
    samples: int  # generated samples per number
    mode: str  # the harness's clean-fid mode that matches (or comes closest to) the evaluator
    exact: bool  # the mode is the evaluator itself (clean-fid), not its nearest stand-in
    source: str  # where these facts are stated

    def text(self) -> str:
        return (f"{self.evaluator}, {self.samples // 1000}k samples against {self.reference} "
                f"({self.source})")


PROTOCOLS = {
    "debias": Protocol(
        "debias", "Yu et al. (Unmasking Bias in Diffusion Model Training)",
        "guided-diffusion's TensorFlow evaluator", "the full training set", 50_000,
        "legacy_tensorflow", False,
        "paper Sec. 5.1; the evaluator per the Debias repository's README, 'Evaluation'"),
    "p2": Protocol(
        "p2", "Choi et al. 2022 (Perception Prioritized Training, P2)",
        "clean-fid, clean mode", "the full training set (FFHQ: trainval70k)", 50_000, "clean",
        True, "P2 paper Sec. 4 'Evaluation'"),
}

