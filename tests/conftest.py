"""Shared fixtures. Real-data tests read the data folder (``COURSE_DATA``), like the notebooks."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
from collections import OrderedDict, defaultdict
from pathlib import Path, PurePosixPath

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))


def _load_benchmark(name: str):
    """benchmarks/<name>.py as a fresh module (the scripts are not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the script is being loaded
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def load_benchmark():
    """``load_benchmark(name)``: the benchmark script ``benchmarks/<name>.py`` loaded as a module."""
    return _load_benchmark


@pytest.fixture(autouse=True)
def no_pretrained_models(monkeypatch):
    """A class's COURSE_PRETRAINED folder never stands in for the training a test checks."""
    monkeypatch.delenv("COURSE_PRETRAINED", raising=False)


@pytest.fixture(scope="session")
def data_root() -> Path:
    from course_utils import config

    return config.data_dir()


@pytest.fixture(scope="session")
def yardstick_reference() -> list[Path]:
    """The files of the course yardstick's reference (test features, kernel mean, floor: 12 s on one
    core), computed or loaded once per test process in the run's COURSE_OUTPUT, as a notebook does."""
    from course_utils import config, metrics

    metrics.Yardstick("cpu", verbose=False)
    return sorted((config.output_dir() / "checkpoints").glob("yardstick_reference-*.pt"))


@pytest.fixture()
def scoring_env(yardstick_reference, isolated_env):
    """``isolated_env`` whose output folder holds the yardstick's reference and nothing else: what a
    benchmark trains and scores starts from nothing, the fixed reference is not computed again.
    (tests/test_yardstick.py checks that computation, from empty folders.)"""
    folder = isolated_env / "outputs" / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    for path in yardstick_reference:
        shutil.copy(path, folder / path.name)
    return isolated_env


@pytest.fixture()
def isolated_env(monkeypatch, tmp_path):
    """Outputs and results go to a temporary folder; downloads are off."""
    monkeypatch.setenv("COURSE_OUTPUT", str(tmp_path / "outputs"))
    monkeypatch.setenv("COURSE_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("COURSE_DOWNLOAD", "0")
    return tmp_path


# test files whose tests are independent runs in output folders of their own (no module fixture): each
# test is a unit of its own, so that the slowest of them (a minute each) spread over the workers
SPLIT_FILES = ("tests/test_gan_benchmarks.py", "tests/test_papermill.py")


# tests that execute one notebook run in that notebook's unit, before its builds (tests/ is collected first):
# the browser's share COURSE_OUTPUT with nbval, so the first run of the notebook trains and the later ones load;
# and a slow run of notebook 04 (papermill on Fashion-MNIST) starts with the first units, not after the last
NOTEBOOK_TESTS = {
    "tests/test_browser.py::test_vae_widgets_respond_in_jupyterlab": "03_vae.ipynb",
    "tests/test_browser.py::test_gan_latent_walk_responds_in_jupyterlab": "04_gan.ipynb",
    "tests/test_browser.py::test_dirac_explorer_responds_in_jupyterlab": "05_dirac_gan.ipynb",
    "tests/test_papermill.py::test_gan_notebook_runs_on_fashion_mnist": "04_gan.ipynb",
}


# tests parametrized by a notebook's stem that execute that notebook (nbgrader grades it): in its unit too
NOTEBOOK_PARAMETRIZED = (
    "tests/test_assignments.py::test_nbgrader_grades_the_solutions_full_and_the_untouched_release_zero",
)


def work_unit(nodeid: str) -> str:
    """The unit of work of ``make test``'s scheduler for a test id: its file, except that (1) a notebook's
    solution and student builds (``build/solution/X.ipynb``, ``build/student/X.ipynb``) are one unit,
    ``X.ipynb``: one worker runs the solution build and after it the student build, which loads the
    models and scores the first computed from COURSE_OUTPUT instead of computing them again on the
    other core; (2) a test of NOTEBOOK_TESTS, or of NOTEBOOK_PARAMETRIZED with that notebook's stem as
    its parameter, joins its notebook's unit; (3) each other test of SPLIT_FILES
    is a unit of its own."""
    if nodeid.split("[", 1)[0] in NOTEBOOK_TESTS:
        return NOTEBOOK_TESTS[nodeid.split("[", 1)[0]]
    if nodeid.split("[", 1)[0] in NOTEBOOK_PARAMETRIZED:
        return nodeid.split("[", 1)[1].rstrip("]") + ".ipynb"
    path = nodeid.split("::", 1)[0]
    parts = PurePosixPath(path).parts
    if len(parts) >= 3 and parts[-3] == "build" and parts[-2] in ("solution", "student"):
        return parts[-1]
    if path in SPLIT_FILES:
        return nodeid.split("[", 1)[0]
    return path


# seconds each unit took in a recorded run of make test (make test-timed writes it): units start longest first,
# so that no long unit is left for the end while the other worker idles (xdist's own order, most tests first,
# put the benchmarks' one-test units last: a worker ran them 71 s after the other had finished)
UNIT_SECONDS = Path(__file__).resolve().parent / "unit_seconds.json"


def longest_first(tests: dict[str, int], seconds: dict[str, float]) -> list[str]:
    """The units (name -> number of tests) in decreasing order of their recorded ``seconds``; a unit not
    recorded counts its tests at the recorded seconds per test of the units that were (new notebooks: a
    few hundred cells, start early), and ties keep the given order."""
    known = [unit for unit in tests if unit in seconds]
    per_test = sum(seconds[u] for u in known) / max(1, sum(tests[u] for u in known)) if known else 1.0
    return sorted(tests, key=lambda unit: -seconds.get(unit, tests[unit] * per_test))


def recorded_seconds(path: Path = UNIT_SECONDS) -> dict[str, float]:
    return json.loads(path.read_text()) if path.is_file() else {}


_SECONDS: defaultdict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report):
    """Add up each unit's setup, call and teardown times (in the controller: xdist passes the workers'
    reports on), for make test-timed."""
    if os.environ.get("COURSE_UNIT_SECONDS"):
        _SECONDS[work_unit(report.nodeid)] += report.duration


def pytest_sessionfinish(session):
    target = os.environ.get("COURSE_UNIT_SECONDS")
    if target and not hasattr(session.config, "workerinput") and _SECONDS and not session.testsfailed:
        table = {unit: round(_SECONDS[unit], 1) for unit in sorted(_SECONDS)}
        Path(target).write_text(json.dumps(table, indent=1) + "\n")


def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile`` (make test) with the units of ``work_unit``, handed out longest first."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class CourseScheduling(LoadFileScheduling):
        ordered = False

        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

        def _assign_work_unit(self, node) -> None:
            if not self.ordered:  # the first call: the queue is complete, nothing is handed out yet
                tests = {unit: len(ids) for unit, ids in self.workqueue.items()}
                self.workqueue = OrderedDict((unit, self.workqueue[unit])
                                             for unit in longest_first(tests, recorded_seconds()))
                self.ordered = True
            super()._assign_work_unit(node)

    return CourseScheduling(config, log)
