"""The weightings a config can name: the built-ins, its own (`weightings:`, formulas) and those
of installed plugins (entry-point group `harness.weightings`), resolved once per plan.

A user weighting's results live under `{target}-{name}-{digest}/`, the digest hashing its
definition (formula, space, params, density; a plugin's distribution and version), so a
changed definition trains new runs and never reuses another definition's checkpoints.
Built-ins keep `{target}-{name}/`. Nothing here imports torch.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from harness.diffusion import WEIGHTINGS
from harness.diffusion.user_weighting import (
    DefinitionError,
    UserWeighting,
    canonical,
    check_on_schedule,
    describe,
    from_config,
    from_plugin,
    plugin_names,
)

DIGEST_LENGTH = 8
BUILTIN_PARAMS = ("p2_gamma", "p2_k", "min_snr_gamma")  # the config's diffusion.* keys


def weighting_names(config: dict) -> list[str]:
    """Every name a config may use: built-ins, its `weightings:` keys, installed plugins."""
    own = config.get("weightings")
    names = list(WEIGHTINGS) + (sorted(own) if isinstance(own, dict) else [])
    return names + [n for n in plugin_names() if n not in names]


def config_weightings(config: dict) -> dict[str, UserWeighting]:
    """The config's `weightings:`, each checked at every timestep of its diffusion; ValueError
    'config key weightings.NAME.KEY: why'."""
    out = {}
    for name, entry in (config.get("weightings") or {}).items():
        try:
            w = from_config(name, entry)
            check_on_schedule(w, config["diffusion"]["steps"],
                              config["diffusion"]["noise_schedule"])
        except DefinitionError as err:
            raise ValueError(f"config key weightings.{name}.{err.key}: {err.reason}") from None
        out[name] = w
    return out


def builtin_params(config: dict | None) -> dict[str, float]:
    """The built-ins' parameters a config sets (diffusion.p2_gamma, ...); none without one."""
    return {k: config["diffusion"][k] for k in BUILTIN_PARAMS} if config else {}


def catalog(config: dict | None = None) -> list[dict]:
    """Every weighting there is: the built-ins, a validated config's own, and the installed
    plugins, as `describe` records (a plugin that cannot be used is listed with why, under
    `problem`)."""
    out = [describe(w, **builtin_params(config)) for w in WEIGHTINGS.values()]
    own = config_weightings(config) if config else {}
    out += [describe(w) for w in own.values()]
    for name in plugin_names():
        if name in WEIGHTINGS or name in own:
            where = "a built-in" if name in WEIGHTINGS else "the config's weighting"
            out.append({"name": name, "kind": "plugin", "problem": f"not used: {where} of "
                        "this name comes first"})
            continue
        try:
            out.append(describe(from_plugin(name)))
        except DefinitionError as err:
            out.append({"name": name, "kind": "plugin", "problem": f"{err.key}: {err.reason}"})
    return out


def weighting_name(folder: str) -> str:
    """The weighting of a run folder's `{name}` or `{name}-{digest}` part."""
    return folder.split("-", 1)[0]


@dataclass
class Weightings:
    """The user weightings a plan uses (config and plugins), by name."""

    config: dict
    user: dict[str, UserWeighting] = field(default_factory=dict)

    @classmethod
    def of(cls, config: dict) -> Weightings:
        return cls(config, config_weightings(config))

    def resolve(self, name: str, key: str) -> UserWeighting | None:
        """The user weighting ``name`` (None for a built-in); ValueError naming ``key``."""
        if name in WEIGHTINGS:
            return None
        if name not in self.user:
            if name not in plugin_names():
                raise ValueError(f"{key}: unknown weighting '{name}'; choose from "
                                 f"{weighting_names(self.config)}")
            try:
                w = from_plugin(name)
                diffusion = self.config["diffusion"]
                check_on_schedule(w, diffusion["steps"], diffusion["noise_schedule"])
            except DefinitionError as err:
                raise ValueError(f"{key}: weighting '{name}': {err.key}: {err.reason}") from None
            self.user[name] = w
        return self.user[name]

    def digest(self, name: str) -> str:
        """'' for a built-in, else a short hash of the definition (see the module doc)."""
        w = self.resolve(name, "weighting")
        if w is None:
            return ""
        return hashlib.sha256(canonical(w.definition).encode()).hexdigest()[:DIGEST_LENGTH]

    def folder(self, name: str) -> str:
        """The weighting's part of a run's path: `name` or `name-digest`."""
        tag = self.digest(name)
        return f"{name}-{tag}" if tag else name

    def train_args(self, folder: str) -> dict:
        """`harness train`'s --weighting and --weighting-definition for a run folder's part."""
        name = weighting_name(folder)
        w = self.resolve(name, "weighting")
        return {"weighting": name} if w is None else {
            "weighting": name, "weighting_definition": canonical(w.definition)}

    def record(self, name: str) -> dict:
        """plan.json's description of a weighting (what the report lists and draws)."""
        w = self.resolve(name, "weighting") or WEIGHTINGS[name]
        return {**describe(w, **builtin_params(self.config)), "folder": self.folder(name)}

    def plan_block(self, names: set[str]) -> dict:
        """plan.json's `weightings`: the schedule the curves are drawn on and each record."""
        diffusion = self.config["diffusion"]
        order = [n for n in WEIGHTINGS if n in names] + sorted(names - set(WEIGHTINGS))
        return {"steps": diffusion["steps"], "noise_schedule": diffusion["noise_schedule"],
                "entries": [self.record(n) for n in order]}
