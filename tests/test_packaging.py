"""pyproject.toml, environment.yml, the Makefile, README and .ci/run tell the same story."""

import os
import re
import subprocess
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONDA_NAMES = {"pytorch": "torch"}  # conda-forge name -> PyPI name


def _split(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req)
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def test_environment_yml_lists_the_same_packages_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip = dict(_split(r) for r in project["dependencies"] + project["optional-dependencies"]["test"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            assert dep["pip"] == ["-e ."], "the pip section installs the course package itself"
            continue
        name, spec = _split(dep)
        if name not in ("python", "pip"):
            conda[CONDA_NAMES.get(name, name)] = spec
    assert conda == pip


def test_no_exact_pins_that_would_refuse_the_local_torch():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for req in project["dependencies"]:
        assert "==" not in req and "<" not in req, req


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make lab" in readme
    assert re.search(r"^make test$", ci, re.M)
    makefile = (ROOT / "Makefile").read_text()
    for target in ("lab:", "test:", "benchmark:", "build:"):
        assert re.search(rf"^{target}", makefile, re.M)
    assert "benchmarks/RESULTS.md" in readme


def test_make_hands_every_recipe_malloc_settings_that_glibc_accepts():
    """The Makefile exports GLIBC_TUNABLES to its recipes (make test, benchmark, lab and the kernels they start).
    glibc ignores, silently, an unknown name or an mmap threshold over half its largest heap (64 MiB on 64-bit):
    the settings would then do nothing."""
    env = {k: v for k, v in os.environ.items() if k not in ("GLIBC_TUNABLES", "MAKEFLAGS", "MAKELEVEL")}
    shown = subprocess.run(["make", "-s", "--no-print-directory", "--eval", 'show: ; @echo "$$GLIBC_TUNABLES"',
                            "show"], cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout.strip()
    settings = dict(item.split("=") for item in shown.split(":"))
    assert set(settings) == {"glibc.malloc.trim_threshold", "glibc.malloc.top_pad", "glibc.malloc.mmap_threshold"}
    assert all(value.isdigit() for value in settings.values()), settings
    assert int(settings["glibc.malloc.mmap_threshold"]) <= 32 * 2**20
    assert int(settings["glibc.malloc.trim_threshold"]) >= 2**30  # freed heap memory is kept for reuse
