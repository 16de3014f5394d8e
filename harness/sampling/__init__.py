"""Sampling: `sample(SampleRequest(...))` -> meta dict.

Modules: noise (per-sample seeds), chunks (resumable output), images (quantisation and grids),
run (the sampling run).
"""

from harness.sampling.images import to_uint8
from harness.sampling.run import QUANTISATION, SAMPLERS, SampleRequest, respacing, sample

__all__ = ["QUANTISATION", "SAMPLERS", "SampleRequest", "respacing", "sample", "to_uint8"]
