"""What a claim is (`Claim`: the statement, where it is made, which cells decide it, what a plan
must compute for it, the test applied) and every number a claim's test takes from the paper's
text, each with where it comes from."""

from __future__ import annotations

from dataclasses import dataclass

# Sec. 5.3 / Fig. 7a: "matches the performance of 1000k iterations of constant weight training
# with only 400k iterations".
ITERATION_RATIO = 1000 / 400
# Table 1: Ours at T = 100 against Constant at T = 1000 (sampling efficiency).
STEP_RATIO = 10
# Sec. 4.2: "pronounced color shifting ... when employing a small number of sampling steps
# (e.g., T = 2)". A step count counts as few up to this value.
FEW_STEPS = 10
# "Similar" / "matches": equal within 10% of the reference cell's value. Table 4's eps, x0 and v
# FIDs differ by 2-3%, the weightings by 26%: 10% separates the two.
EQUIVALENCE_MARGIN = 0.10
# Fig. 4: "For t > 950, the MSE value in constant weight mode surpasses that of the Initial mode".
LATE_T = 950
# Fig. 10 / Appendix B: 1/SNR "overlaps with our 1/sqrt(SNR) ... for large t" and "is
# substantially larger than all other weighting strategies for small t". Read off Fig. 10: large
# t is where the Initial MSE is negligible (t > 600, Sec. 4.3), small t is t < 100.
LARGE_T = 600
SMALL_T = 100
# Fig. 10's caption: Ours' MSE is the lowest "at different step t, only slightly larger than the
# constant weight for t < 50".
CAPTION_T = 50
# The weighting footprint (the harness's own check): a relative weight counts as higher or lower
# than Constant's where it is above FACTOR or below 1/FACTOR times its mean. 1: every t with a
# weight above (below) the mean counts, as the check is stated; P2's relative weight peaks at
# 1.38 and Min-SNR's at 1.10 (linear schedule), so a larger factor would leave their up-weighted
# side untested.
FOOTPRINT_FACTOR = 1.0

DECIDING = "deciding"  # the plan's statistics.metric (KID at toy scale, FID at paper scale)
# The "gain grows" claims name no scale. Training-seed noise is proportional to the level and
# FID rises at few steps, so an absolute gain grows with the level alone.
RELATIVE_GAIN = ("the gain is the relative one, log(Constant / Ours): on that scale training-seed "
                 "noise is the same at every level, while FID itself rises at few steps and "
                 "small datasets, so an absolute gain grows with the level alone (the absolute "
                 "gains are described beside the verdict)")


@dataclass(frozen=True)
class Claim:
    """A claim of the paper and how the harness decides it."""

    id: str
    statement: str
    source: str  # where the paper says it
    evidence: tuple[str, ...]  # plan "uses" keys (or "analysis") whose cells decide it
    weightings: tuple[str, ...]  # the weightings the test reads
    test: str  # key of the judging function in harness.report.claims.JUDGES
    test_description: str  # the test, in words, shown in the report
    needs: str  # the cells a plan must compute for the claim to be judged
    metric: str = DECIDING  # deciding, is, color_shift or mse
    positive_control: bool = False  # the effect every weighting paper agrees on (regime check)
    harness_check: bool = False  # checks the harness itself, not the paper: needs no regime
    reading: str = ""  # how the harness reads a statement that names no test ("" : as stated)
    paper_sampler: str = "ddpm"  # the sampler of the paper's evidence ("" : no sampling)
