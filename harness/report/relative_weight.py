"""Each weighting's relative weight ρ(t) = w(t) / mean_t w(t): what it changes against Constant.

The loss is E_t[w(t)·MSE_t] with t uniform; Adam removes a global scale of the loss, so a
weighting differs from Constant (w = 1) by its shape alone. A timestep density changes the
gradient's variance, not the objective, and does not enter.
"""

from __future__ import annotations

import numpy as np

from harness.diffusion.user_weighting import curve


def relative_weights(block: dict) -> dict[str, np.ndarray]:
    """weighting -> ρ(t) for ε-prediction at every timestep, from plan.json's `weightings`."""
    steps, schedule = int(block.get("steps", 1000)), block.get("noise_schedule", "linear")
    out = {}
    for entry in block.get("entries", []):
        _, w = curve(entry, "eps", steps, schedule)
        out[entry["name"]] = np.asarray(w, np.float64) / float(np.mean(w))
    return out
