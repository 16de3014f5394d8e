"""FID and KID (clean-fid), IS (torch-fidelity), Inception weights, colour shift, cell JSONs,
and bootstrap replicates of FID, KID and colour shift for their intervals."""

from harness.metrics.bootstrap import (
    bootstrap_color_shift,
    bootstrap_fid,
    bootstrap_kid,
    cell_bootstrap,
)
from harness.metrics.cell import cell_metrics, point_value
from harness.metrics.compare import compare, measure
from harness.metrics.distances import color_shift, fid_from_stats, kid_from_features
from harness.metrics.features import FeatureStats, extract_stats
from harness.metrics.images import open_images
from harness.metrics.inception import MODES, InceptionFeatures
from harness.metrics.inception_score import inception_score_from_logits, resolve_is_weights
from harness.metrics.refstats import compute_refstats, load_stats
from harness.metrics.weights import InceptionWeights, resolve_inception_weights

__all__ = [
    "MODES", "FeatureStats", "InceptionFeatures", "InceptionWeights", "bootstrap_color_shift",
    "bootstrap_fid", "bootstrap_kid", "cell_bootstrap", "cell_metrics", "point_value",
    "color_shift", "compare", "compute_refstats", "extract_stats", "fid_from_stats",
    "inception_score_from_logits", "kid_from_features", "load_stats", "measure", "open_images",
    "resolve_inception_weights", "resolve_is_weights",
]
