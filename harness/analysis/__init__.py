"""Per-timestep MSE (Fig. 4, Fig. 10) and one-step x̂0 estimates (Fig. 3) of a checkpoint."""

from harness.analysis.timestep_mse import (
    FIG3_TIMESTEPS,
    analysed_timesteps,
    eps_and_x0,
    one_step_x0,
    timestep_mse,
)

__all__ = ["FIG3_TIMESTEPS", "analysed_timesteps", "analyze", "eps_and_x0", "one_step_x0",
           "timestep_mse"]


def analyze(*args, **kwargs):
    """See harness.analysis.run.analyze (imported lazily: it loads models and data)."""
    from harness.analysis.run import analyze as _analyze

    return _analyze(*args, **kwargs)
