"""The authors' code, timed beside ours on the same config, batch, inputs and device.

The authors' guided-diffusion fork (github.com/yuhuUSTC/Debias) is never part of this project:
the user fetches it and passes its folder (`--reference DIR`, holding DIR/guided_diffusion/).
Their paths are their fp32 code and their fp16 code (`use_fp16`: `convert_to_fp16` and
`MixedPrecisionTrainer` with loss scaling), each as their scripts run it: the training step is
TrainLoop.run_step without EMA and logging; sampling is their `p_sample_loop` on
`timestep_respacing=str(steps)` with `clip_denoised=True`.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import sys
import tempfile
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

ALIAS = "harness_reference_guided_diffusion"
OPTIONAL_IMPORTS = ("cv2", "matplotlib", "matplotlib.pyplot")  # imported, unused, by the fork


def missing_reason(directory: str | Path | None) -> str | None:
    """Why `directory` cannot serve as the authors' code (a one-line message), or None."""
    if not directory:
        return "no --reference folder given (a checkout of github.com/yuhuUSTC/Debias)"
    if not (Path(directory) / "guided_diffusion" / "script_util.py").is_file():
        return f"'{directory}' holds no guided_diffusion/script_util.py (a Debias checkout)"
    return None


def import_guided_diffusion(root: str | Path, alias: str,
                            submodules: tuple[str, ...]) -> types.ModuleType:
    """Import ``root/guided_diffusion`` as package ``alias`` with ``submodules`` loaded.

    Under a private name it never shadows anything, and two checkouts can coexist. The fork
    imports cv2 and matplotlib without using them; absent ones are stubbed.
    """
    if alias in sys.modules:
        return sys.modules[alias]
    pkg_dir = Path(root) / "guided_diffusion"
    for name in OPTIONAL_IMPORTS:
        if importlib.util.find_spec(name.split(".")[0]) is None:
            sys.modules.setdefault(name, types.ModuleType(name))
    spec = importlib.util.spec_from_file_location(
        alias, pkg_dir / "__init__.py", submodule_search_locations=[str(pkg_dir)])
    package = importlib.util.module_from_spec(spec)
    sys.modules[alias] = package
    spec.loader.exec_module(package)
    for sub in submodules:
        setattr(package, sub, importlib.import_module(f"{alias}.{sub}"))
    return package


def load_package(directory: str | Path) -> types.ModuleType:
    """The user's Debias checkout's guided_diffusion, imported under a private name."""
    reason = missing_reason(directory)
    if reason:
        raise FileNotFoundError(reason)
    return import_guided_diffusion(directory, ALIAS, ("script_util", "fp16_util"))


class AuthorsCode:
    """Callables that run one forward, training step or sampling loop of the authors' code."""

    def __init__(self, directory: str | Path, model_config: dict[str, Any],
                 device: torch.device) -> None:
        self.package = load_package(directory)
        self.config, self.device = model_config, device
        # Their fp16 trainer logs gradient norms through a logger that otherwise opens
        # log.txt/progress.csv in a fresh /tmp/openai-* folder per process and never closes them.
        self._logdir = tempfile.TemporaryDirectory(prefix="harness-authors-logger-")
        importlib.import_module(f"{ALIAS}.logger").configure(dir=self._logdir.name,
                                                               format_strs=[])

    def model(self, fp16: bool) -> torch.nn.Module:
        c = self.config
        torch.manual_seed(0)
        with contextlib.redirect_stdout(io.StringIO()):  # their factory prints the class mode
            model = self.package.script_util.create_model(
                c["image_size"], c["num_channels"], c["num_res_blocks"],
                channel_mult=c.get("channel_mult", ""), learn_sigma=c.get("learn_sigma", False),
                class_cond=c.get("class_cond", False), num_classes=c.get("num_classes", 1000),
                use_checkpoint=False, attention_resolutions=c.get("attention_resolutions", "16"),
                num_heads=c.get("num_heads", 1), num_head_channels=c.get("num_head_channels", -1),
                num_heads_upsample=c.get("num_heads_upsample", -1),
                use_scale_shift_norm=c.get("use_scale_shift_norm", False),
                dropout=c.get("dropout", 0.0), resblock_updown=c.get("resblock_updown", False),
                use_fp16=fp16, use_new_attention_order=c.get("use_new_attention_order", False))
        return model.to(self.device)

    def diffusion(self, respacing: str = ""):
        return self.package.script_util.create_gaussian_diffusion(
            steps=1000, learn_sigma=self.config.get("learn_sigma", False),
            noise_schedule="linear", rescale_learned_sigmas=True, timestep_respacing=respacing)

    def forward(self, fp16: bool, x: torch.Tensor, t: torch.Tensor,
                kwargs: dict) -> Callable[[], None]:
        model = self.model(fp16)
        if fp16:
            model.convert_to_fp16()
        model.eval()

        def call() -> None:
            with torch.no_grad():
                model(x, t, **kwargs)
        return call

    def train_step(self, fp16: bool, x: torch.Tensor, t: torch.Tensor,
                   kwargs: dict) -> Callable[[], None]:
        model = self.model(fp16).train()
        diffusion = self.diffusion()
        trainer = self.package.fp16_util.MixedPrecisionTrainer(model=model, use_fp16=fp16,
                                                               fp16_scale_growth=1e-3)
        opt = torch.optim.AdamW(trainer.master_params, lr=1e-4, weight_decay=0.0)
        noise = torch.randn_like(x)

        def step() -> None:
            trainer.zero_grad()
            losses = diffusion.training_losses(model, x, t, model_kwargs=kwargs, noise=noise)
            trainer.backward(losses["loss"].mean())
            with contextlib.redirect_stdout(io.StringIO()):
                trainer.optimize(opt)
        return step

    def sample_loop(self, fp16: bool, batch: int, steps: int,
                    kwargs: dict) -> Callable[[], None]:
        model = self.model(fp16)
        if fp16:
            model.convert_to_fp16()
        model.eval()
        diffusion = self.diffusion(str(steps))
        size = self.config["image_size"]

        def run() -> None:  # their loop shows a progress bar whatever `progress` says
            with torch.no_grad(), contextlib.redirect_stderr(io.StringIO()):
                diffusion.p_sample_loop(model, (batch, 3, size, size), clip_denoised=True,
                                        model_kwargs=kwargs, progress=False)
        return run
