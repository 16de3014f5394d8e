"""Weightings users define without editing the harness: a formula in the workflow config's
``weightings:``, or a Python object that a package registers under the entry-point group
``harness.weightings`` (for what a formula cannot express, e.g. a table fitted offline).

A user weighting is a weight on the eps- or x0-MSE (``space``), converted to the other
targets exactly as the built-ins are (`weighting.convert`). A formula may use ``snr``,
``logsnr`` (its natural log), ``t`` (the timestep, 0..T-1) and ``T`` (the number of training
steps), its declared ``params`` and the functions of `formula.FUNCTIONS`; it is evaluated in
float64 and must be finite and non-negative at every timestep of the schedule (and not zero at
all of them).

An optional ``density`` (same language) draws the training timesteps from p(t) ∝ density(t)
instead of uniformly. As in ADM's schedule samplers, each draw's loss is multiplied by the
importance weight 1 / (T p(t)), so the density changes the variance of the gradient, never the
objective: ``{formula: f}`` and ``{formula: f, density: f}`` optimise the same thing, the latter
by sampling (a "density vs weight" experiment, Kingma & Gao 2023).

A weighting's ``definition`` is its identity (what a run records and hashes into its path):
for a formula its space, text, params and density; for a plugin its entry point, distribution
and version. The label is for display only.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .formula import FUNCTIONS, Formula, FormulaError, parse_formula
from .schedule import alphas_cumprod, get_named_beta_schedule, snr
from .weighting import DEFAULT_PARAMS, TARGETS, WEIGHTINGS, Weighting, convert, weight

VARIABLES = ("snr", "logsnr", "t", "T")
SPACES = ("eps", "x0")
ENTRY_POINT_GROUP = "harness.weightings"
CONFIG_KEYS = ("space", "formula", "label", "params", "density")
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
WeightFunction = Callable[[np.ndarray, np.ndarray, int], np.ndarray]


class DefinitionError(ValueError):
    """A bad user weighting: ``key`` is the key of its definition at fault."""

    def __init__(self, name: str, key: str, reason: str) -> None:
        super().__init__(f"weighting '{name}', {key}: {reason}")
        self.name, self.key, self.reason = name, key, reason


@dataclass(frozen=True)
class PluginWeighting:
    """A convenient object for a plugin's entry point to name. Any object with these
    attributes works: ``space`` (eps | x0), ``weight(snr, t, T)`` -> float64 array, and
    optionally ``formula`` (a description), ``label`` and ``density(snr, t, T)``."""

    space: str
    weight: WeightFunction
    formula: str = ""
    label: str = ""
    density: WeightFunction | None = None


@dataclass(frozen=True)
class UserWeighting:
    """A resolved user weighting (see the module docstring)."""

    name: str
    space: str
    formula: str
    label: str
    source: str  # "config", "formula of a recorded definition", "plugin DIST VERSION (mod:obj)"
    definition: dict[str, Any]
    weight_fn: WeightFunction
    density_fn: WeightFunction | None = None
    params: dict[str, float] = field(default_factory=dict)
    density: str | None = None  # the density's formula or description

    @property
    def kind(self) -> str:
        return self.definition["kind"]

    def weights(self, snr_values: np.ndarray, target: str = "eps",
                timesteps: np.ndarray | None = None,
                num_timesteps: int | None = None) -> np.ndarray:
        """The multiplier of the ``target``-MSE at every timestep (float64, checked)."""
        if target not in TARGETS:
            raise ValueError(f"unknown target {target!r}; choose one of {', '.join(TARGETS)}")
        s, t, T = _grid(snr_values, timesteps, num_timesteps)
        w = _checked(self._call(self.weight_fn, s, t, T, "weight"), s, t, self.name,
                     self._key("weight"))
        if not np.any(w > 0):
            raise DefinitionError(self.name, self._key("weight"),
                                  "the weight is 0 at every timestep: nothing would be learnt")
        converted = convert(w, self.space, s, target)
        return _checked(converted, s, t, self.name, self._key("weight") + f" (as a {target} "
                        "weight)")

    def timestep_density(self, snr_values: np.ndarray, timesteps: np.ndarray | None = None,
                         num_timesteps: int | None = None) -> np.ndarray | None:
        """p(t) over the timesteps (sums to 1), or None for uniform t."""
        if self.density_fn is None:
            return None
        s, t, T = _grid(snr_values, timesteps, num_timesteps)
        d = _checked(self._call(self.density_fn, s, t, T, "density"), s, t, self.name,
                     self._key("density"))
        zero = np.flatnonzero(d <= 0)
        if zero.size:
            raise DefinitionError(self.name, self._key("density"),
                                  f"the density is 0 at t = {int(t[zero[0]])}; it must be > 0 "
                                  "at every timestep (importance weights 1 / (T p(t)))")
        return d / d.sum()

    def _call(self, fn: WeightFunction, s: np.ndarray, t: np.ndarray, T: int,
              what: str) -> Any:
        try:
            return fn(s, t, T)
        except Exception as err:  # a plugin's own code failing is the plugin's to fix
            raise DefinitionError(self.name, self._key(what), f"raised {type(err).__name__}: "
                                  f"{err}") from None

    def _key(self, what: str) -> str:
        if self.kind == "plugin":
            return f"plugin {what}"
        return "formula" if what == "weight" else what


def _grid(snr_values: np.ndarray, timesteps: np.ndarray | None,
          num_timesteps: int | None) -> tuple[np.ndarray, np.ndarray, int]:
    s = np.asarray(snr_values, dtype=np.float64)
    if s.ndim != 1 or np.any(s <= 0) or not np.all(np.isfinite(s)):
        raise ValueError("snr must be a 1-D array, finite and > 0 at every timestep")
    t = np.arange(len(s), dtype=np.float64) if timesteps is None else np.asarray(
        timesteps, dtype=np.float64)
    return s, t, int(num_timesteps or len(s))


def _checked(values: Any, s: np.ndarray, t: np.ndarray, name: str, key: str) -> np.ndarray:
    """``values`` as one float64 per timestep, finite and >= 0; DefinitionError otherwise."""
    try:
        w = np.broadcast_to(np.asarray(values, dtype=np.float64), s.shape).copy()
    except (TypeError, ValueError) as err:
        raise DefinitionError(name, key, f"gives no number per timestep ({err})") from None
    for bad, what in ((np.isnan(w), "NaN"), (np.isinf(w), "infinite"), (w < 0, "negative")):
        where = np.flatnonzero(bad)
        if where.size:
            i = int(where[0])
            raise DefinitionError(name, key, f"the value is {what} at t = {int(t[i])} "
                                  f"(SNR {s[i]:.4g}): {w[i]:.4g}; it must be finite and >= 0 "
                                  f"at every timestep ({where.size} of {len(w)} are not)")
    return w


def _formula(name: str, key: str, text: Any, params: Mapping[str, float]) -> Formula:
    try:
        return parse_formula(text, VARIABLES, params)
    except FormulaError as err:
        raise DefinitionError(name, key, str(err)) from None


def _evaluator(formula: Formula, params: Mapping[str, float]) -> WeightFunction:
    def evaluate(s: np.ndarray, t: np.ndarray, T: int) -> np.ndarray:
        return formula.evaluate({"snr": s, "logsnr": np.log(s), "t": t, "T": float(T),
                                 **params})
    return evaluate


def check_name(name: Any) -> None:
    """A user weighting's name: a path-safe identifier that is not a built-in's."""
    if not isinstance(name, str) or not NAME.match(name):
        raise DefinitionError(str(name), "name", "a weighting name is lower-case letters, "
                              "digits and _, starting with a letter")
    if name in WEIGHTINGS:
        raise DefinitionError(name, "name", f"'{name}' is a built-in weighting; choose "
                              "another name")


def _params(name: str, given: Any) -> dict[str, float]:
    if given is None:
        return {}
    if not isinstance(given, Mapping):
        raise DefinitionError(name, "params", "must map parameter names to numbers")
    out = {}
    for key, value in given.items():
        if not isinstance(key, str) or not re.match(r"^[A-Za-z][A-Za-z0-9_]*$", key) or (
                key in VARIABLES or key in FUNCTIONS):
            raise DefinitionError(name, f"params.{key}", "a parameter name is an identifier "
                                  f"other than {', '.join(VARIABLES)} and the functions")
        if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(
                value):
            raise DefinitionError(name, f"params.{key}", f"{value!r} is not a finite number")
        out[key] = float(value)
    return out


def from_config(name: str, entry: Any, source: str = "config") -> UserWeighting:
    """The weighting ``weightings.<name>`` of a config: {space, formula, label?, params?,
    density?}. Checks everything but its values on a schedule (see `check_on_schedule`)."""
    check_name(name)
    if not isinstance(entry, Mapping):
        raise DefinitionError(name, "definition", "must be a mapping with space and formula")
    unknown = sorted(set(entry) - set(CONFIG_KEYS))
    if unknown:
        raise DefinitionError(name, unknown[0], f"unknown key; keys: {', '.join(CONFIG_KEYS)}")
    for key in ("space", "formula"):
        if key not in entry:
            raise DefinitionError(name, key, "missing" + (" (eps or x0: the MSE the formula "
                                                          "multiplies)" if key == "space" else ""))
    if entry["space"] not in SPACES:
        raise DefinitionError(name, "space", f"{entry['space']!r} is not one of eps, x0")
    params = _params(name, entry.get("params"))
    formula = _formula(name, "formula", entry["formula"], params)
    density = None
    if entry.get("density") is not None:
        density = _formula(name, "density", entry["density"], params)
    definition = {"kind": "formula", "space": entry["space"], "formula": formula.text,
                  "params": params, "density": density.text if density else None}
    return UserWeighting(name, entry["space"], formula.text, str(entry.get("label") or name),
                         source, definition, _evaluator(formula, params),
                         _evaluator(density, params) if density else None, params,
                         density.text if density else None)


def plugin_names() -> list[str]:
    """Names registered under the entry-point group (installed packages), sorted."""
    return sorted({ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)})


def from_plugin(name: str, recorded: Mapping | None = None) -> UserWeighting:
    """The weighting an installed package registers as ``name``; with ``recorded`` (a run's
    definition) the installed distribution and version must be the recorded ones."""
    found = [ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
             if ep.name == name]
    if not found:
        raise DefinitionError(name, "plugin", "no installed package registers it under the "
                              f"entry-point group {ENTRY_POINT_GROUP}")
    if len({ep.value for ep in found}) > 1:
        raise DefinitionError(name, "plugin", "registered by several packages: "
                              + ", ".join(ep.value for ep in found))
    ep = found[0]
    dist = getattr(ep, "dist", None)
    definition: dict[str, Any] = {
        "kind": "plugin", "entry_point": ep.value,
        "distribution": dist.metadata["Name"] if dist else "unknown",
        "version": dist.version if dist else "unknown"}
    if recorded is not None:
        differ = [f"{k} {recorded.get(k)!r} recorded, {definition[k]!r} installed"
                  for k in ("entry_point", "distribution", "version")
                  if recorded.get(k) != definition[k]]
        if differ:
            raise DefinitionError(name, "plugin", "; ".join(differ))
    try:
        obj = ep.load()
    except Exception as err:  # any import failure of someone else's package
        raise DefinitionError(name, "plugin", f"{ep.value} cannot be loaded: "
                              f"{type(err).__name__}: {err}") from None
    space, fn = getattr(obj, "space", None), getattr(obj, "weight", None)
    if space not in SPACES or not callable(fn):
        raise DefinitionError(name, "plugin", f"{ep.value} needs a 'space' (eps or x0) and a "
                              "callable 'weight(snr, t, T)' (harness.diffusion.PluginWeighting)")
    density = getattr(obj, "density", None)
    definition["space"] = space
    source = f"plugin {definition['distribution']} {definition['version']} ({ep.value})"
    formula = str(getattr(obj, "formula", "") or f"{ep.value} (Python)")
    return UserWeighting(name, space, formula, str(getattr(obj, "label", "") or name), source,
                         definition, fn, density if callable(density) else None,
                         density="by the plugin" if callable(density) else None)


def from_definition(name: str, definition: Mapping) -> UserWeighting:
    """A weighting from its recorded definition (a run's config, a checkpoint, plan.json)."""
    if not isinstance(definition, Mapping):
        raise DefinitionError(name, "definition", "must be a JSON object")
    kind = definition.get("kind", "formula")
    if kind == "plugin":
        return from_plugin(name, definition)
    if kind != "formula":
        raise DefinitionError(name, "kind", f"{kind!r} is not formula or plugin")
    return from_config(name, {k: v for k, v in definition.items() if k != "kind"},
                       source="formula of a recorded definition")


def resolve(name: str, definition: Mapping | None = None) -> Weighting | UserWeighting:
    """The built-in ``name`` (no definition), or the user weighting ``definition`` defines."""
    if definition is None:
        if name not in WEIGHTINGS:
            raise ValueError(f"unknown weighting {name!r}: built-ins are "
                             f"{', '.join(WEIGHTINGS)}; a weighting of a config or a plugin "
                             "needs its definition")
        return WEIGHTINGS[name]
    return from_definition(name, definition)


def canonical(definition: Mapping) -> str:
    """The definition as compact JSON with sorted keys (compared and hashed as text)."""
    return json.dumps(definition, sort_keys=True, separators=(",", ":"))


def check_on_schedule(w: UserWeighting, num_timesteps: int, noise_schedule: str) -> None:
    """Evaluate ``w`` (for every target, and its density) at every timestep of a schedule."""
    s = snr(alphas_cumprod(get_named_beta_schedule(noise_schedule, num_timesteps)))
    for target in TARGETS:
        w.weights(s, target)
    w.timestep_density(s)


def describe(w: Weighting | UserWeighting, label: str = "", **params: float) -> dict[str, Any]:
    """What listings and the report show of a weighting: name, label, kind, space, formula,
    source, params, density, definition (a built-in's ``params``: its DEFAULT_PARAMS)."""
    if isinstance(w, UserWeighting):
        return {"name": w.name, "label": label or w.label, "kind": w.kind, "space": w.space,
                "formula": w.formula, "source": w.source, "params": dict(w.params),
                "density": w.density, "definition": dict(w.definition)}
    used = {k: float(params.get(k, DEFAULT_PARAMS[k])) for k in w.params}
    formula = w.formula if w.space in ("eps", "any") else f"{w.formula} (as an eps weight)"
    return {"name": w.name, "label": label or w.name, "kind": "built-in", "space": w.space,
            "formula": formula, "source": w.source, "params": used, "density": None,
            "definition": None}


def curve(info: Mapping[str, Any], target: str = "eps", num_timesteps: int = 1000,
          noise_schedule: str = "linear") -> tuple[np.ndarray, np.ndarray]:
    """(t, w) for a `describe` record: its ``target`` weight at every timestep of a schedule."""
    s = snr(alphas_cumprod(get_named_beta_schedule(noise_schedule, num_timesteps)))
    if info.get("definition"):
        w = from_definition(info["name"], info["definition"]).weights(s, target)
    else:
        w = weight(info["name"], s, target, **(info.get("params") or {}))
    return np.arange(num_timesteps), w
