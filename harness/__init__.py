"""Reproducibility harness for *Unmasking Bias in Diffusion Model Training*."""

__version__ = "0.1.0"
