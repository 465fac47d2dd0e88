"""make test's scheduler (tests/conftest.py): a notebook's two builds on one worker, solution first, so
that the student build loads what the solution build trained and scored; independent slow tests apart."""

import re
from pathlib import Path

import conftest

ROOT = Path(__file__).resolve().parent.parent


def test_a_notebooks_two_builds_are_one_unit_and_test_files_stay_whole():
    unit = conftest.work_unit
    both = unit("build/solution/06_wgan.ipynb::Cell 15"), unit("build/student/06_wgan.ipynb::Cell 0")
    assert both == ("06_wgan.ipynb", "06_wgan.ipynb")
    assert unit("build/solution/05_dirac_gan.ipynb::Cell 1") != unit("build/solution/06_wgan.ipynb::Cell 1")
    # a module fixture (the decks, built once) needs its file on one worker
    assert unit("tests/test_browser.py::test_deck_renders_offline[00_setup]") == "tests/test_browser.py"
    assert unit("tests/test_browser.py::test_deck_prints_to_pdf") == "tests/test_browser.py"
    assert unit("tests/test_gan_benchmarks.py::test_mnist_benchmark_smoke") != unit(
        "tests/test_gan_benchmarks.py::test_vae_gan_benchmark_smoke")


def test_split_files_have_no_module_fixture():
    for name in conftest.SPLIT_FILES:
        source = (ROOT / name).read_text()
        assert not re.search(r"scope\s*=\s*[\"'](module|package|class)", source), f"{name} shares a fixture"


def test_make_test_schedules_by_these_units_with_the_solution_build_first():
    from xdist.scheduler import LoadFileScheduling

    assert hasattr(LoadFileScheduling, "_split_scope")  # what CourseScheduling overrides
    recipe = (ROOT / "Makefile").read_text().split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "--dist loadfile" in recipe
    # units run their tests in collection order: the solution build's cells before the student build's
    assert recipe.index("build/solution") < recipe.index("build/student")


def test_tests_of_a_notebook_join_its_unit_and_exist():
    assert conftest.work_unit("tests/test_browser.py::test_gan_latent_walk_responds_in_jupyterlab") == "04_gan.ipynb"
    assert conftest.work_unit("tests/test_papermill.py::test_gan_notebook_runs_on_fashion_mnist") == "04_gan.ipynb"
    for nodeid, unit in conftest.NOTEBOOK_TESTS.items():
        path, name = nodeid.split("::")
        assert re.search(rf"^def {name}\(", (ROOT / path).read_text(), re.M), f"{nodeid} is not a test any more"
        assert (ROOT / "notebooks" / unit.replace(".ipynb", ".py")).is_file(), unit


def test_nbgrader_runs_of_a_notebook_join_its_unit():
    (nodeid,) = conftest.NOTEBOOK_PARAMETRIZED
    assert conftest.work_unit(f"{nodeid}[03_vae]") == "03_vae.ipynb"
    assert conftest.work_unit("tests/test_assignments.py::test_rebuilding_the_tree_leaves_the_graders_work_alone") \
        == "tests/test_assignments.py"
    path, name = nodeid.split("::")
    assert re.search(rf"^def {name}\(", (ROOT / path).read_text(), re.M), f"{nodeid} is not a test any more"


def test_units_start_longest_first_and_unrecorded_ones_by_their_number_of_tests():
    tests = {"a.ipynb": 300, "tests/test_x.py": 10, "tests/test_y.py::t": 1, "new.ipynb": 200, "tests/test_z.py": 5}
    seconds = {"a.ipynb": 250.0, "tests/test_x.py": 5.0, "tests/test_y.py::t": 50.0, "gone.ipynb": 99.0}
    # recorded: 305 s over 311 tests, so new.ipynb counts 196 s and test_z 4.9 s
    assert conftest.longest_first(tests, seconds) == ["a.ipynb", "new.ipynb", "tests/test_y.py::t", "tests/test_x.py",
                                                       "tests/test_z.py"]
    assert conftest.longest_first({"b": 1, "a": 3}, {}) == ["a", "b"]  # nothing recorded: most tests first
    from xdist.scheduler import LoadFileScheduling

    assert hasattr(LoadFileScheduling, "_assign_work_unit")  # what CourseScheduling overrides to reorder


def test_the_recorded_table_names_every_notebooks_unit():
    seconds = conftest.recorded_seconds()
    notebooks = {path.stem + ".ipynb" for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.py")}
    assert notebooks <= set(seconds), f"make test-timed: no seconds for {sorted(notebooks - set(seconds))}"
    assert all(value >= 0 for value in seconds.values())


def test_a_timed_run_records_the_seconds_of_each_unit(tmp_path):
    import json
    import os
    import subprocess
    import sys

    target = tmp_path / "seconds.json"
    test = "tests/test_scheduling.py::test_split_files_have_no_module_fixture"
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist", "loadfile", "-p",
                             "no:cacheprovider", test, "tests/test_numbers.py"], cwd=ROOT, capture_output=True,
                            text=True, env={**os.environ, "COURSE_UNIT_SECONDS": str(target)})
    assert result.returncode == 0, result.stdout[-2000:]
    table = json.loads(target.read_text())
    assert set(table) == {"tests/test_scheduling.py", "tests/test_numbers.py"} and min(table.values()) >= 0
