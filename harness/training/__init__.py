"""Training: options, deterministic batches, EMA, resumable state, the loop."""
