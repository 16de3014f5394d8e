"""Every rule's software: the conda environment and the container image carry pyproject's pins
(the image cannot be built here: no container engine; its definition is checked instead)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
ENVS = ROOT / "workflow" / "envs"


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def python_minor() -> str:
    """The Python every environment uses (environment.yml's `python=3.x`)."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    return next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))


def test_rule_environment_has_pyprojects_pins():
    env = yaml.safe_load((ENVS / "harness.yaml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert sorted(pip) == sorted(pyproject()["project"]["dependencies"])
    assert python_minor() in env["dependencies"] and "pip" in env["dependencies"]
    # The harness itself comes from the checkout, installed after the environment is made.
    deploy = (ENVS / "harness.post-deploy.sh").read_text()
    assert "pip install --no-deps -e ." in deploy and deploy.startswith("#!/usr/bin/env bash")


def test_container_definition_installs_the_package_with_its_pins():
    text = (ENVS / "harness.def").read_text()
    header = dict(re.findall(r"^(Bootstrap|From):\s*(\S+)", text, re.M))
    assert header["Bootstrap"] == "docker"
    assert header["From"].startswith(f"python:{python_minor().removeprefix('python=')}-")
    sections = dict(re.findall(r"^%(\w+)\n((?:(?!%\w).*\n?)*)", text, re.M))
    assert {"files", "post", "runscript"} <= set(sections)
    copied = [line.split() for line in sections["files"].splitlines() if line.strip()]
    sources = {src for src, _ in copied}
    assert {"pyproject.toml", "harness", "README.md"} <= sources  # what pip needs to build
    assert all((ROOT / src).exists() for src in sources)
    # pip installs pyproject's dependencies with their pins: no second list to drift.
    assert "pip install --no-cache-dir /opt/harness" in sections["post"]
    assert "==" not in sections["post"]
    assert sections["runscript"].strip() == 'exec harness "$@"'


def test_snakefmt_is_a_test_dependency_and_runs_in_make_test():
    extras = pyproject()["project"]["optional-dependencies"]["test"]
    assert any(x.startswith("snakefmt") for x in extras)
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert set(extras) <= set(pip)
    lint = (ROOT / "Makefile").read_text().split("\nlint:")[1].split("\n\n")[0]
    assert "snakefmt --check Snakefile workflow" in lint
