"""The workflow's config: the JSON schema (workflow/schemas/config.schema.yaml), YAML loading
with recursive merging, and validation that fills the schema's defaults (as Snakemake does) and
refuses what a schema cannot express (non-finite numbers, weighting names other than the
built-ins, the config's own and plugins', bad weighting definitions). Errors name the file or
key."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, validators

from harness.workflow.weightings import config_weightings, weighting_names

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "workflow" / "schemas" / "config.schema.yaml"


def _with_defaults(cls):
    """A validator class that fills `default` values while validating (as Snakemake does)."""
    validate_properties = cls.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for key, sub in properties.items():
                if "default" in sub:
                    instance.setdefault(key, json.loads(json.dumps(sub["default"])))
        yield from validate_properties(validator, properties, instance, schema)

    return validators.extend(cls, {"properties": set_defaults})


def load_schema() -> dict:
    with open(SCHEMA_PATH) as f:
        return yaml.safe_load(f)


def _non_finite(value: Any, key: str = "") -> str | None:
    """The key of the first NaN or infinite number in `value` (YAML's .nan / .inf), if any.
    JSON schema cannot refuse them: every comparison with NaN is false."""
    if isinstance(value, float) and not math.isfinite(value):
        return key or "<top level>"
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(
        value, list) else ()
    for k, v in items:
        found = _non_finite(v, f"{key}.{k}" if key else str(k))
        if found:
            return found
    return None


def validate_config(config: dict) -> dict:
    """Validate `config` in place, filling defaults; ValueError names the key at fault."""
    if not isinstance(config, dict):
        raise ValueError(f"the config must be a mapping of keys, got a {type(config).__name__}")
    bad = _non_finite(config)
    if bad:
        raise ValueError(f"config key {bad}: must be a finite number")
    schema = load_schema()
    # The schema file admits any name (Snakemake validates with it as written); here a name
    # must be one this config can resolve.
    schema["$defs"]["weighting"]["enum"] = weighting_names(config)
    validator = _with_defaults(Draft202012Validator)(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        key = ".".join(str(p) for p in e.absolute_path) or "<top level>"
        message = e.message
        if e.validator == "not":  # jsonschema's text shows the sub-schema, not the rule
            message = f"{e.instance!r} is not allowed ({e.schema.get('description', '')})"
        raise ValueError(f"config key {key}: {message}")
    config_weightings(config)
    return config


def load_config(configfiles: list[str | Path], overrides: dict | None = None) -> dict:
    """Merge YAML config files (later wins, recursively) and overrides, then validate."""
    return validate_config(merge_configfiles(configfiles, overrides))


def merge_configfiles(configfiles: list[str | Path], on_top: dict | None = None) -> dict:
    """YAML config files merged in order (later wins, recursively, as Snakemake merges the
    files of one `--configfile A B`), then `on_top`; not validated."""
    config: dict = {}
    for path in configfiles:
        try:
            with open(path) as f:
                loaded = yaml.safe_load(f) or {}
        except yaml.YAMLError as err:
            raise ValueError(f"config file '{path}' is not valid YAML: "
                             f"{getattr(err, 'problem', None) or err} "
                             f"{getattr(err, 'problem_mark', '') or ''}".strip()) from None
        if not isinstance(loaded, dict):
            raise ValueError(f"config file '{path}' must hold a mapping of keys, "
                             f"not a {type(loaded).__name__}")
        _merge(config, loaded)
    _merge(config, on_top or {})
    return config


def repeated_configfiles(argv: list[str]) -> list[str]:
    """Every file named by a Snakemake command line's `--configfile`/`--configfiles` flags
    when there are several flags ([] for one or none). Snakemake's argument parser keeps only
    the last flag's files, so `--configfile smoke.yaml --configfile overlay.yaml` would drop
    smoke.yaml; the Snakefile merges them all instead, as `--configfile smoke.yaml
    overlay.yaml` does."""
    files: list[str] = []
    flags, collecting = 0, False
    for arg in argv:
        name, eq, value = arg.partition("=")
        if name in ("--configfile", "--configfiles"):
            flags += 1
            collecting = not eq
            if eq:
                files.append(value)
        elif collecting and not arg.startswith("-"):
            files.append(arg)
        else:
            collecting = False
    return files if flags > 1 else []


def metric_modes(config: dict) -> list[str]:
    """metrics.mode as a list: the mode whose numbers decide first, then the others."""
    mode = config["metrics"]["mode"]
    return [mode] if isinstance(mode, str) else list(mode)


def _merge(base: dict, new: dict) -> None:
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
