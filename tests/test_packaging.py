"""The conda environment and pyproject.toml must name the same dependencies."""

import re
from pathlib import Path

import pytest
import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parent.parent


def normalise(requirement: str) -> tuple[str, str]:
    """``(name, version spec)``, without an environment marker (``; sys_platform == 'linux'``)."""
    name, spec = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*([^;]*)", requirement).groups()
    return re.sub(r"[-_.]+", "-", name).lower(), spec.replace(" ", "")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = {normalise(r) for r in project["dependencies"] + extras["course"] + extras["dev"]
              if not r.startswith("mlpcore[")}
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {normalise(d) for d in environment["dependencies"] if isinstance(d, str)}
    # What conda-forge does not package comes from PyPI, in the environment's pip section.
    conda |= {normalise(d) for section in environment["dependencies"] if isinstance(section, dict)
              for d in section.get("pip", [])}
    conda -= {("python", ">=3.10"), ("pip", "")}
    assert conda == wanted, f"only in environment.yml: {conda - wanted}; only in pyproject.toml: {wanted - conda}"


def test_python_version_agrees():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert f"python{project['requires-python']}" in environment["dependencies"]
