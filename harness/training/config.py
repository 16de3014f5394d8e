"""The options of one training run, resolved, and how a rerun is checked against them.

`RUN/config.json` holds `{"options": ..., "model_config": ..., "diffusion_config": ...,
"weighting": ...}` (the last: the weighting's formula, space, source and definition).
A rerun into the same run directory must ask for the same *identity* options (everything
that changes the trajectory of the weights); the *schedule* options below only say how far
to go and how often to write, so they may change between reruns (e.g. to train on from
500k to 1000k iterations) and are updated in config.json.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from harness.diffusion.user_weighting import (
    UserWeighting,
    canonical,
    check_on_schedule,
    describe,
    from_definition,
    resolve,
)
from harness.inputs import check_number, read_json
from harness.runtime import Execution, write_json_atomic

TARGETS = ("eps", "x0", "v")
# Execution options that give the same weights within float32 rounding are schedule options
# too (see harness.runtime.execution); precision, tf32 and deterministic are identity options.
SCHEDULE_OPTIONS = frozenset(
    {"run_dir", "max_steps", "save_every", "eval_iterations", "log_every", "num_workers",
     "device", "progress", "cache_data", "compile", "compile_mode", "channels_last",
     "fused_optimizer", "compile_fallback"}
)

# Ranges of the numeric options (bounds as in harness.inputs.check_number, which also refuses
# NaN and infinities); `harness train` gives the same bounds to its command-line options.
NUMBER_BOUNDS: dict[str, dict[str, float]] = {
    "image_size": {"minimum": 1}, "max_steps": {"minimum": 0}, "num_channels": {"minimum": 1},
    "num_res_blocks": {"minimum": 1}, "num_classes": {"minimum": 1}, "num_heads": {"minimum": 1},
    "num_head_channels": {"minimum": -1}, "num_heads_upsample": {"minimum": -1},
    "dropout": {"minimum": 0, "exclusive_maximum": 1}, "p2_gamma": {"minimum": 0},
    "p2_k": {"exclusive_minimum": 0}, "min_snr_gamma": {"exclusive_minimum": 0},
    "diffusion_steps": {"minimum": 2}, "lr": {"exclusive_minimum": 0},
    "weight_decay": {"minimum": 0}, "batch_size": {"minimum": 1}, "grad_clip": {"minimum": 0},
    "seed": {"minimum": 0}, "fail_at_step": {"minimum": 0}, "world_size": {"minimum": 1},
    "save_every": {"minimum": 1}, "log_every": {"minimum": 1}, "num_workers": {"minimum": -1},
}


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything `harness train` needs; field names follow ADM's flags."""

    data: str
    run_dir: str
    image_size: int
    max_steps: int
    # UNet (harness.models.create_model; use_fp16 is not offered: see `precision`)
    num_channels: int = 128
    num_res_blocks: int = 2
    channel_mult: str = ""
    learn_sigma: bool = True
    class_cond: bool = False
    num_classes: int = 1000
    attention_resolutions: str = "16"
    num_heads: int = 1
    num_head_channels: int = -1
    num_heads_upsample: int = -1
    use_scale_shift_norm: bool = False
    dropout: float = 0.0
    resblock_updown: bool = False
    use_new_attention_order: bool = False
    # diffusion (harness.diffusion.create_diffusion)
    target: str = "eps"
    weighting: str = "constant"
    p2_gamma: float = 1.0
    p2_k: float = 1.0
    min_snr_gamma: float = 5.0
    # a user weighting's definition as JSON (harness.diffusion.user_weighting); "" for built-ins
    weighting_definition: str = ""
    noise_schedule: str = "linear"
    diffusion_steps: int = 1000
    rescale_learned_sigmas: bool = True
    # optimisation (ADM: AdamW, constant learning rate, EMA of the parameters)
    lr: float = 2e-5
    weight_decay: float = 0.0
    batch_size: int = 8
    ema_rate: str = "0.9999"
    grad_clip: float = 0.0
    precision: str = "fp32"
    tf32: bool = False
    deterministic: bool = False
    random_flip: bool = True
    seed: int = 0
    fail_at_step: int = 0
    world_size: int = 1
    # schedule (may change between reruns)
    save_every: int = 1000
    eval_iterations: tuple[int, ...] = ()
    log_every: int = 10
    num_workers: int = -1  # -1: 0 on CPU, up to 4 on CUDA (decode beside the GPU)
    device: str = "auto"
    progress: bool = True
    cache_data: str = "auto"
    compile: bool = False
    compile_mode: str = "default"
    channels_last: bool = False
    fused_optimizer: bool = False
    compile_fallback: bool = False

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise ValueError(f"target '{self.target}' is not one of {', '.join(TARGETS)}")
        self.execution()  # validates precision and compile_mode
        if self.cache_data not in ("auto", "yes", "no"):
            raise ValueError(f"cache_data '{self.cache_data}' is not one of auto, yes, no")
        for field in dataclasses.fields(self):
            if field.name in NUMBER_BOUNDS:
                check_number(field.name, getattr(self, field.name), integer=field.type == "int",
                             **NUMBER_BOUNDS[field.name])
        if self.batch_size % self.world_size:
            raise ValueError(
                f"batch_size {self.batch_size} (global) is not divisible by the "
                f"{self.world_size} processes of this job"
            )
        bad = [i for i in self.eval_iterations if not 0 <= i <= self.max_steps]
        if bad:
            raise ValueError(
                f"eval_iterations {bad} are outside 0..max_steps ({self.max_steps})"
            )
        self.ema_rates()  # validates
        if self.weighting_definition:
            # Stored canonically: the same definition is the same run identity however written.
            object.__setattr__(self, "weighting_definition",
                               canonical(self.user_weighting().definition))

    def user_weighting(self) -> UserWeighting:
        """The user weighting `weighting_definition` defines, checked at every timestep of
        this run's schedule (ValueError naming the option)."""
        try:
            weighting = from_definition(self.weighting, json.loads(self.weighting_definition))
            check_on_schedule(weighting, self.diffusion_steps, self.noise_schedule)
        except ValueError as err:  # also json.JSONDecodeError
            raise ValueError(f"weighting_definition: {err}") from None
        return weighting

    def ema_rates(self) -> list[str]:
        """EMA rates as the strings used in file names (ADM's `ema_{rate}_...`)."""
        rates = [r.strip() for r in str(self.ema_rate).split(",") if r.strip()]
        for r in rates:
            try:
                ok = 0.0 < float(r) < 1.0
            except ValueError:
                ok = False
            if not ok:
                raise ValueError(f"ema_rate '{r}' is not a number in (0, 1)")
        if not rates:
            raise ValueError("ema_rate is empty; give at least one rate, e.g. 0.9999")
        return [str(float(r)) for r in rates]

    def execution(self) -> Execution:
        """How the UNet is run (precision, TF32, compile, memory format, determinism)."""
        return Execution(precision=self.precision, tf32=self.tf32, compile=self.compile,
                         compile_mode=self.compile_mode, channels_last=self.channels_last,
                         deterministic=self.deterministic,
                         compile_fallback=self.compile_fallback)

    def model_config(self) -> dict:
        """Keyword arguments of harness.models.create_model."""
        names = ("image_size", "num_channels", "num_res_blocks", "channel_mult", "learn_sigma",
                 "class_cond", "num_classes", "attention_resolutions", "num_heads",
                 "num_head_channels", "num_heads_upsample", "use_scale_shift_norm", "dropout",
                 "resblock_updown", "use_new_attention_order")
        config = {n: getattr(self, n) for n in names}
        config["use_fp16"] = False
        return config

    def diffusion_config(self) -> dict:
        """Keyword arguments of harness.diffusion.create_diffusion (training: no respacing)."""
        return {
            "steps": self.diffusion_steps, "noise_schedule": self.noise_schedule,
            "learn_sigma": self.learn_sigma, "rescale_learned_sigmas": self.rescale_learned_sigmas,
            "target": self.target, "weighting": self.weighting, "p2_gamma": self.p2_gamma,
            "p2_k": self.p2_k, "min_snr_gamma": self.min_snr_gamma, "timestep_respacing": "",
            **({"weighting_definition": json.loads(self.weighting_definition)}
               if self.weighting_definition else {}),
        }

    def options(self) -> dict:
        """All options as JSON-ready values."""
        out = dataclasses.asdict(self)
        out["eval_iterations"] = list(self.eval_iterations)
        return out


def differing_options(recorded: dict, requested: dict) -> list[str]:
    """Identity options whose values differ, as 'name: run has X, asked for Y'.

    An option missing from an older run's record counts as its default (options are added
    with the default that keeps the behaviour they had before they existed).
    """
    defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)
                if f.default is not dataclasses.MISSING}
    out = []
    for name in sorted(set(recorded) | set(requested)):
        if name in SCHEDULE_OPTIONS:
            continue
        old = recorded.get(name, defaults.get(name, "<absent>"))
        new = requested.get(name, "<absent>")
        if old != new:
            out.append(f"{name}: run has {old!r}, asked for {new!r}")
    return out


def check_config(config: TrainConfig) -> None:
    """Refuse a rerun whose identity options differ from RUN/config.json's (if it exists)."""
    path = Path(config.run_dir) / "config.json"
    if not path.exists():
        return
    recorded = read_json(path, "run config").get("options", {})
    diff = differing_options(recorded, config.options())
    if diff:
        raise ValueError(
            f"run directory '{config.run_dir}' was started with other options "
            f"({path}); use a new --run-dir or the same options. Differing: "
            + "; ".join(diff)
        )


def check_or_write_config(config: TrainConfig) -> None:
    """Record the options in RUN/config.json, or refuse a rerun that asks for others."""
    path = Path(config.run_dir) / "config.json"
    requested = config.options()
    check_config(config)
    write_json_atomic(path, {
        "options": requested,
        "model_config": config.model_config(),
        "diffusion_config": config.diffusion_config(),
        "weighting": describe(resolve(config.weighting, config.diffusion_config().get(
            "weighting_definition")), p2_gamma=config.p2_gamma, p2_k=config.p2_k,
            min_snr_gamma=config.min_snr_gamma),
    })
