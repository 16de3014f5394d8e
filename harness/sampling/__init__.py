"""Sampling: per-sample seeds, resumable chunks, quantisation, preview grids, the run."""
