"""The paper's claims as data (harness.paper.claim says what a claim holds). The tests live in
harness.report.claims (keyed by ``test``); the rule that turns per-cell tests into a verdict is
harness.stats.decide.
"""

from __future__ import annotations

from harness.paper.claim import (
    CAPTION_T,
    EQUIVALENCE_MARGIN,
    FEW_STEPS,
    FOOTPRINT_FACTOR,
    ITERATION_RATIO,
    LARGE_T,
    LATE_T,
    RELATIVE_GAIN,
    SMALL_T,
    STEP_RATIO,
    Claim,
)
from harness.paper.released_claims import RELEASED_CLAIMS

FOUR = ("constant", "p2", "min_snr", "debias")

CLAIMS: tuple[Claim, ...] = (
    Claim(
        "ours_beats_constant",
        "Ours (1/sqrt(SNR) weighting) beats Constant weighting in every Table 1 cell.",
        "Sec. 5.2, Table 1",
        ("table1",),
        ("constant", "debias"),
        "ours_beats_constant",
        "Per (dataset, T) cell: Constant − Ours > 0 on the deciding metric (lower is better).",
        "Table 1 cells of Constant and Ours.",
    ),
    Claim(
        "ours_best_every_dataset",
        "Our method substantially lifts the performance limit across multiple datasets and "
        "sampling steps.",
        "Sec. 5.2 (and the abstract: 'remarkably elevates sample quality'), Table 1",
        ("table1",),
        ("p2", "min_snr", "debias"),
        "ours_best_every_dataset",
        "Per Table 1 cell (dataset, T) and prior weighting w of P2 and Min-SNR: w − Ours > 0 "
        "on the deciding metric.",
        "Table 1 cells of Ours, P2 and Min-SNR.",
        reading="Ours beats the prior weightings P2 and Min-SNR in every Table 1 cell, on all "
                "four datasets ('the performance limit' is the best of the existing weightings)",
    ),
    Claim(
        "ours_best_all_steps",
        "Ours surpasses all existing weighting strategies at every sampling step (FFHQ).",
        "Sec. 5.3 ('In terms of sampling, our method surpasses all existing weight strategies "
        "across all sampling steps'), Fig. 7b (FFHQ)",
        ("table1", "fig7b"),
        FOUR,
        "ours_best_per_row",
        "On the dataset standing for FFHQ, per step count T and other weighting w of Constant, "
        "P2, Min-SNR (P2* excluded): w − Ours > 0.",
        "Ours and at least one other weighting on the FFHQ stand-in (Table 1 or Fig. 7b).",
    ),
    Claim(
        "positive_control",
        "P2 and Min-SNR are superior to constant weighting (the effect every weighting paper "
        "agrees on).",
        "Sec. 5.2 ('the rationale behind their superior performance in comparison to constant "
        "weighting'), Tables 1 and 2",
        ("table1", "table2"),
        ("constant", "p2", "min_snr"),
        "positive_control",
        "Per Table 1 and Table 2 cell (dataset, T): Constant − P2 > 0 and Constant − Min-SNR > 0 "
        "on the deciding metric. The positive control: where it is not supported, the scale "
        "does not show the effect the literature agrees on, and its other verdicts say little "
        "about the paper.",
        "Table 1 or Table 2 cells of Constant, P2 and Min-SNR.",
        positive_control=True,
    ),
    Claim(
        "gain_grows_fewer_steps",
        "On FFHQ, the gain over Constant is more pronounced with fewer sampling steps.",
        "Sec. 5.3, Fig. 7b (stated for FFHQ)",
        ("table1", "fig7b"),
        ("constant", "debias"),
        "gain_grows_fewer_steps",
        "On the dataset standing for FFHQ, with the relative gain g(T) = log(Constant / Ours): "
        "g(fewest T) > 0, and g(fewest T) − g(T) > 0 for every other step count T.",
        "Constant and Ours on the FFHQ stand-in at two or more step counts (Table 1 or Fig. 7b).",
        reading=RELATIVE_GAIN,
    ),
    Claim(
        "gain_pronounced_fewer_steps",
        "The performance gain is particularly pronounced with shorter sampling steps, on every "
        "Table 1 dataset.",
        "Sec. 5.2 ('the performance gain is particularly pronounced with smaller datasets and "
        "shorter sampling steps'), Table 1",
        ("table1",),
        ("constant", "debias"),
        "gain_pronounced_fewer_steps",
        "Per Table 1 dataset, with the relative gain g(T) = log(Constant / Ours): "
        "g(fewest T) > 0, and g(fewest T) − g(T) > 0 for every other step count T.",
        "Table 1 cells of Constant and Ours at two or more step counts of a dataset.",
        reading=RELATIVE_GAIN,
    ),
    Claim(
        "gain_larger_small_datasets",
        "The performance gain is particularly pronounced with smaller datasets.",
        "Sec. 5.2, Table 1 (training sets: FFHQ 70k, CelebA-HQ 30k, AFHQ-dog 4.7k (the paper "
        "says ~50k), MetFaces 1.3k images)",
        ("table1",),
        ("constant", "debias"),
        "gain_larger_small_datasets",
        "At every step count shared by datasets of different sizes, with the relative gain "
        "g = log(Constant / Ours): g(smallest dataset) > 0, and g(smallest) − g(d) > 0 for every "
        "larger dataset d. The gains of all datasets are listed, with where they are not "
        "monotone in size.",
        "Table 1 cells of Constant and Ours on two datasets of different sizes at one step count.",
        reading=RELATIVE_GAIN,
    ),
    Claim(
        "sampling_efficiency",
        "The method can achieve superior performance to constant-weighting strategy with much "
        "less training iterations and sampling steps.",
        "Sec. 1 (also Sec. 5.3), Table 1",
        ("table1",),
        ("constant", "debias"),
        "sampling_efficiency",
        f"Per Table 1 dataset with both step counts: Constant at T − Ours at T/{STEP_RATIO} > 0.",
        f"Table 1 rows with step counts T and T/{STEP_RATIO} (e.g. 100 and 10) for Constant "
        "and Ours.",
        reading=f"its sampling half, with 'much less' read as {STEP_RATIO}x fewer steps (the "
                "largest ratio of Table 1's step counts, 1000 to 100): Ours at T/"
                f"{STEP_RATIO} beats Constant at T; the training half is Fig. 7a's claim",
    ),
    Claim(
        "ours_best_fid_table2",
        "Ours has the best FID in class-conditional generation.",
        "Sec. 5.2, Table 2",
        ("table2",),
        FOUR,
        "ours_best_table2_fid",
        "Per Table 2 dataset and other weighting w: w − Ours > 0 on the deciding metric.",
        "Table 2 cells of Ours and at least one other weighting.",
    ),
    Claim(
        "ours_best_is_table2",
        "Ours has the best IS in class-conditional generation.",
        "Sec. 5.2, Table 2",
        ("table2",),
        FOUR,
        "ours_best_table2_is",
        "Per Table 2 dataset and other weighting w: IS(Ours) − IS(w) > 0 (diverged runs "
        "skipped).",
        "Table 2 cells with Inception Score (needs torch-fidelity's classifier weights offline).",
        metric="is",
    ),
    Claim(
        "eps_ours_best_table4",
        "ε-prediction with Ours beats x0-, v- and ε-prediction with the other weightings.",
        "Appendix D, Table 4",
        ("table4",),
        FOUR,
        "eps_ours_best",
        "Per other Table 4 column c: c − ε(Ours) > 0.",
        "Table 4 cells of ε(Ours) and at least one other column.",
    ),
    Claim(
        "eps_similar_x0_v",
        "ε-prediction (Constant) performs similarly to x0- and v-prediction.",
        "Appendix D, Table 4",
        ("table4",),
        ("constant",),
        "eps_similar_targets",
        f"Equivalence: ε − x0 and ε − v each lie within ±{EQUIVALENCE_MARGIN:.0%} of ε's value "
        "(two one-sided tests).",
        "Table 4 cells of ε, x0 and v with Constant weighting.",
    ),
    Claim(
        "ours_beats_adm_longer_better",
        "Ours improves on the ADM baseline, and longer training improves it further.",
        "Sec. 5.3, Table 3",
        ("table3",),
        ("constant", "debias"),
        "ours_beats_adm",
        "ADM (Constant) − Ours at the 500k stand-in > 0, and Ours(500k) − Ours(1000k) > 0 where "
        "both were run.",
        "Table 3 cells: Constant and Ours at the 500k stand-in (and Ours at the 1000k one).",
    ),
    Claim(
        "ours_fewer_iterations",
        f"Ours matches Constant's final quality with {ITERATION_RATIO:g}x fewer training "
        "iterations (paper: Ours at 400k matches Constant at 1000k).",
        "Sec. 5.3, Fig. 7a",
        ("fig7a",),
        ("constant", "debias"),
        "ours_fewer_iterations",
        f"With L = Constant's last iteration and i the latest Ours iteration <= L/"
        f"{ITERATION_RATIO:g}: Ours(i) − Constant(L) < {EQUIVALENCE_MARGIN:.0%} of Constant(L) "
        "(non-inferiority).",
        f"Fig. 7a cells: Constant at L and Ours at an iteration <= L/{ITERATION_RATIO:g} "
        "(e.g. 120 and 300).",
    ),
    Claim(
        "fig7a_ours_below_constant",
        "The training curve clearly demonstrates the superior efficiency and potential of our "
        "method.",
        "Sec. 5.3, Fig. 7a (FFHQ)",
        ("fig7a",),
        ("constant", "debias"),
        "fig7a_ours_below_constant",
        "Per evaluated training iteration i > 0 with both (iteration 0 is the untrained network, "
        "the same for both): Constant(i) − Ours(i) > 0.",
        "Fig. 7a cells of Constant and Ours at one or more iterations after 0.",
        reading="superior along the whole curve: Ours below Constant at every evaluated "
                "training iteration after 0 (the paper prints none of the curve's values)",
    ),
    Claim(
        "ddim_ours_best",
        "With the DDIM sampler, Ours performs best of the four weightings.",
        "Sec. 5.3, Fig. 8",
        ("any",),
        FOUR,
        "ddim_ours_best",
        "Per (dataset, T) group of DDIM cells at the final checkpoint and other weighting w: "
        "w − Ours > 0.",
        "DDIM cells of Ours and the other weightings on one dataset at one step count.",
        paper_sampler="ddim",
    ),
    Claim(
        "color_shift_ours_less",
        "In contrast, our method is totally free of the dilemma of color shift.",
        "Sec. 5.2, Fig. 6, Appendix C",
        ("any",),
        ("constant", "debias"),
        "color_shift_ours_less",
        f"Per (dataset, sampler, T) group at the final checkpoint with both: colour "
        f"shift(Ours) − {EQUIVALENCE_MARGIN:g} × colour shift(Constant) < 0 (colour shift: "
        "Fréchet distance of per-image mean RGB to the data's, squared pixel units).",
        "Any cells of Constant and Ours sharing a dataset, sampler and step count.",
        metric="color_shift",
        reading=f"free of it: Ours' colour shift at most {EQUIVALENCE_MARGIN:.0%} of "
                "Constant's (the report's margin for 'matches'), at every step count; a "
                "shift merely smaller than Constant's is not freedom from it",
    ),
    Claim(
        "color_shift_few_steps",
        "Pronounced color shifting with a small number of sampling steps (e.g., T = 2), which "
        "remains challenging to correct even with an extended sampling process (e.g., "
        "T = 1000); training with our strategy can essentially prevent the issue.",
        "Sec. 4.2, Fig. 1",
        ("any",),
        ("constant", "debias"),
        "color_shift_few_steps",
        f"Per dataset and sampler at the final checkpoint, at its fewest step count T <= "
        f"{FEW_STEPS}: colour shift(Constant) − colour shift(Ours) > 0; and at its most step "
        "count (the extended process): colour shift(Constant) − colour shift(Ours) > 0.",
        f"Constant and Ours at a step count <= {FEW_STEPS} (e.g. T = 2) and at a larger one, "
        "one dataset, one sampler.",
        metric="color_shift",
        reading="Constant shows more colour shift than Ours at the fewest steps, and still at "
                "the most steps (it persists at T = 1000); whether Constant's own shift shrinks "
                "with more steps is not stated, so not tested",
    ),
    Claim(
        "snr_worst",
        "1/SNR weighting diverges or performs worst.",
        "Appendix B, Fig. 10 and Fig. 11",
        ("any",),
        ("snr",),
        "snr_diverges_or_worst",
        "1/SNR training diverged (k of n seeds, with the divergence rate's interval), or per "
        "(dataset, sampler, T) group at the final checkpoint with 1/SNR and other weighting w: "
        "1/SNR − w > 0 (diverged seeds counted by Fisher's exact test beside the finite ones).",
        "1/SNR cells beside other weightings (e.g. in Fig. 7b).",
    ),
    Claim(
        "mse_above_initial",
        "With constant weighting the MSE exceeds 'Initial' for t > 950, while Ours stays below.",
        "Sec. 4.3, Fig. 4",
        ("analysis",),
        ("constant", "debias"),
        "mse_above_initial",
        f"Over the analysed t > {LATE_T}, mean log(MSE / Initial) > 0 for Constant and < 0 for "
        "Ours (intervals: paired t over analysed training seeds, or the bootstrap over the "
        "analysed images plus the pooled seed noise).",
        f"Fig. 4 analysis of Constant and Ours with at least 2 analysed t > {LATE_T} "
        "(analysis.stride <= 48).",
        metric="mse",
        paper_sampler="",
    ),
    Claim(
        "snr_mse_modes",
        "1/SNR's MSE overlaps Ours' at large t and is larger than every other weighting's at "
        "small t.",
        "Appendix B, Fig. 10",
        ("analysis",),
        ("constant", "p2", "min_snr", "debias", "snr"),
        "snr_mse_modes",
        f"Mean log(MSE(1/SNR) / MSE(Ours)) over t >= {LARGE_T} within ±log(1 + "
        f"{EQUIVALENCE_MARGIN:g}) (equivalence), and mean log(MSE(1/SNR) / MSE(w)) over t < "
        f"{SMALL_T} > 0 for every other weighting w (intervals as for Fig. 4's claim).",
        f"Fig. 10 analysis of 1/SNR, Ours and the others with at least 2 analysed t < "
        f"{SMALL_T} (e.g. analysis.stride 50).",
        metric="mse",
        paper_sampler="",
    ),
    Claim(
        "fig10_ours_lowest_mse",
        "Ours achieves the lowest MSE of the weightings at every step t, only slightly larger "
        "than Constant for t < 50.",
        "Appendix B, Fig. 10 caption",
        ("analysis",),
        ("constant", "p2", "min_snr", "debias", "snr"),
        "fig10_ours_lowest_mse",
        f"Over the analysed t >= {CAPTION_T}: mean log(MSE(w) / MSE(Ours)) > 0 for every other "
        f"weighting w; over t < {CAPTION_T}: the same for every w but Constant, and "
        f"mean log(MSE(Ours) / MSE(Constant)) < log(1 + {EQUIVALENCE_MARGIN:g}) (slightly larger "
        "at most: non-inferiority).",
        f"Fig. 10 analyses of Ours and the others with analysed t on both sides of {CAPTION_T}.",
        metric="mse",
        paper_sampler="",
    ),
    Claim(
        "weighting_footprint",
        "Each weighting moves the error where its weight points: against Constant on the same "
        "training seeds, its per-timestep MSE is lower where its relative weight is higher and "
        "higher where it is lower.",
        "The harness's own mechanism check (not a claim of the paper), on the Fig. 10 analyses: "
        "a weighting whose footprint is missing points to a bug, not a finding",
        ("analysis",),
        ("constant", "p2", "min_snr", "debias", "snr"),
        "weighting_footprint",
        f"For every weighting w with a Fig. 10 analysis, with ρ(t) = w(t) / mean w (ε-prediction, "
        f"Constant's ρ = 1; harness.report.footprint): over the analysed t with ρ > "
        f"{FOOTPRINT_FACTOR:g}, mean log MSE(Constant) − mean log MSE(w) > 0; over those with ρ < "
        f"{1 / FOOTPRINT_FACTOR:g}, mean log MSE(w) − mean log MSE(Constant) > 0; paired by "
        "training seed, final checkpoints.",
        "Fig. 10 analyses of Constant and at least one other weighting.",
        metric="mse",
        harness_check=True,
    ),
)



def claim_by_id(claim_id: str) -> Claim:
    """The claim named ``claim_id``; ValueError naming the valid ids."""
    for claim in CLAIMS + RELEASED_CLAIMS:
        if claim.id == claim_id:
            return claim
    raise ValueError(f"unknown claim {claim_id!r}; choose from "
                     f"{[c.id for c in CLAIMS + RELEASED_CLAIMS]}")
