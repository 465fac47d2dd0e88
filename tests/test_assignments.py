"""The nbgrader course tree (tools/build_assignments.py) and the autograded cells it relies on
(``checks.require_passed``). The slow test grades every notebook with real nbgrader, twice: the
solutions submitted as a student's work must score every autograded point, the released notebook
left untouched none of them, and grading must run the notebook to its end either way."""

from __future__ import annotations

import copy
import re
import subprocess
import sys

import nbformat
import pytest
import torch

import build_assignments
import build_notebooks
from course_utils import checks

NAMES = [path.stem for path in build_notebooks.sources()]


def _nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


# ---------------------------------------------------------------------------------------------
# checks.require_passed: the autograded cell


def test_require_passed_follows_the_last_check():
    cases = [torch.tensor([1.0, -2.0])]

    def todo(x):
        raise NotImplementedError

    checks.OUTCOMES.pop("exercise_for_test", None)
    with pytest.raises(checks.ExerciseError, match="not checked"):
        checks.require_passed("exercise_for_test")
    reference = checks.check_exercise("exercise_for_test", todo, cases, reference=torch.abs)
    assert reference is torch.abs  # the notebook goes on with the reference...
    with pytest.raises(checks.ExerciseError, match="not attempted"):
        checks.require_passed("exercise_for_test")  # ...but the test cell scores nothing
    with pytest.raises(checks.ExerciseError):
        checks.check_exercise("exercise_for_test", torch.neg, cases, reference=torch.abs)
    with pytest.raises(checks.ExerciseError, match="wrong"):
        checks.require_passed("exercise_for_test")
    checks.check_exercise("exercise_for_test", lambda x: x.abs(), cases, reference=torch.abs)
    checks.require_passed("exercise_for_test")  # passes silently: full points
    checks.OUTCOMES.pop("exercise_for_test")


# ---------------------------------------------------------------------------------------------
# the assignment notebooks, from the sources (no nbgrader run)


@pytest.mark.parametrize("name", NAMES)
def test_every_exercise_is_an_autograded_pair_and_every_think_question_a_graded_answer(name):
    path = build_notebooks.SOURCES / f"{name}.py"
    nb = build_assignments.assignment(path)
    text = path.read_text()
    checked = re.findall(r"checks\.check_exercise\(\s*\"(\w+)\"", text)
    tests = [_nbgrader(c)["grade_id"] for c in nb.cells if _nbgrader(c).get("grade") and not _nbgrader(c)["solution"]]
    assert tests == [f"test_{n}" for n in checked] and checked
    for i, cell in enumerate(nb.cells):
        meta = _nbgrader(cell)
        if meta.get("grade") and not meta["solution"]:
            name, j = meta["grade_id"][5:], i - 1
            while _nbgrader(nb.cells[j]).get("grade"):  # one check cell may check two exercises
                j -= 1
            check = nb.cells[j]  # right after its check cell, both locked
            assert meta["locked"] and _nbgrader(check)["locked"] and f'checks.check_exercise("{name}"' in check.source
            assert cell.source.endswith(f'checks.require_passed("{name}")')
    solutions = [c for c in nb.cells if _nbgrader(c).get("solution") and c.cell_type == "code"]
    assert sum(c.source.count(build_notebooks.BEGIN) for c in solutions) == text.count(build_notebooks.BEGIN)
    assert all(not _nbgrader(c).get("grade") and not _nbgrader(c)["locked"] for c in solutions)
    questions = build_notebooks.think_and_answers(path, required=False)
    answers = [c for c in nb.cells if _nbgrader(c).get("grade_id", "").startswith("think_")]
    n_questions = sum(bool(build_notebooks._ITEM.match(line)) for line in questions[0].split("\n")) if questions else 0
    assert len(answers) == n_questions
    assert all(c.cell_type == "markdown" and _nbgrader(c)["solution"] and _nbgrader(c)["points"]
               for c in answers)
    assert all(_nbgrader(c).get("locked") for c in nb.cells if c.cell_type == "markdown" and c not in answers)
    ids = [_nbgrader(c)["grade_id"] for c in nb.cells if _nbgrader(c)]
    assert len(ids) == len(set(ids))
    assert build_assignments.points(nb) == (len(checked) * build_assignments.EXERCISE_POINTS,
                                            n_questions * build_assignments.THINK_POINTS)


def test_readme_states_the_points_and_the_cell_timeout_the_build_writes():
    totals = [build_assignments.points(build_assignments.assignment(path)) for path in build_notebooks.sources()]
    auto, manual = (sum(column) for column in zip(*totals))
    readme = " ".join((build_notebooks.ROOT / "README.md").read_text().split())
    assert f"That is {auto} autograded and {manual} hand-graded points over the nine notebooks" in readme
    assert f"with {build_assignments.CELL_TIMEOUT} s allowed per cell" in readme
    assert f"c.Execute.timeout = {build_assignments.CELL_TIMEOUT}" in build_assignments.CONFIG


def test_answers_are_split_one_per_question_without_their_numbers():
    answers = "1. First answer,\n   on two lines.\n2. Second: $a - b$.\n\n   A second paragraph."
    assert build_assignments._answer_items(answers) == ["First answer,\non two lines.",
                                                          "Second: $a - b$.\n\nA second paragraph."]


def test_a_check_before_its_solution_is_refused(tmp_path):
    source = tmp_path / "99_bad.py"
    source.write_text('# %%\nf = checks.check_exercise("f", f, [1])\n\n# %%\ndef f(x):\n'
                      "    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n")
    with pytest.raises(build_assignments.AssignmentError, match="99_bad.py, cell 1: checks `f` before"):
        build_assignments.assignment(source)


def test_rebuilding_the_tree_leaves_the_graders_work_alone(tmp_path):
    gradebook, submitted = tmp_path / "gradebook.db", tmp_path / "submitted" / "ada" / "00_setup" / "00_setup.ipynb"
    submitted.parent.mkdir(parents=True)
    gradebook.write_bytes(b"grades")
    submitted.write_text("{}")
    build_assignments.write_tree(tmp_path, ["00_setup"])
    source = tmp_path / "source" / "00_setup" / "00_setup.ipynb"
    before = source.stat().st_mtime_ns
    build_assignments.write_tree(tmp_path, ["00_setup"])
    assert source.stat().st_mtime_ns == before  # unchanged content: not rewritten
    assert gradebook.read_bytes() == b"grades" and submitted.read_text() == "{}"
    with pytest.raises(build_assignments.AssignmentError, match="no notebook source named 99_nothing"):
        build_assignments.write_tree(tmp_path, ["99_nothing"])


# ---------------------------------------------------------------------------------------------
# real nbgrader: generate, submit, autograde (one notebook's unit of make test: see conftest.py)


def _solved(release: nbformat.NotebookNode, source: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of the released notebook with each solution cell filled in as a student who solved it would."""
    release = copy.deepcopy(release)
    answers = {_nbgrader(c)["grade_id"]: c.source for c in source.cells if _nbgrader(c).get("solution")}
    for cell in release.cells:
        meta = _nbgrader(cell)
        if meta.get("solution"):
            cell.source = "\n".join(line for line in answers[meta["grade_id"]].split("\n")
                                    if line.strip() not in (build_notebooks.BEGIN, build_notebooks.END))
    return release


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_nbgrader_grades_the_solutions_full_and_the_untouched_release_zero(name, tmp_path):
    from nbgrader.api import Gradebook

    build_assignments.write_tree(tmp_path, [name])
    build_assignments.generate(tmp_path, name)
    release = nbformat.read(tmp_path / "release" / name / f"{name}.ipynb", as_version=4)
    source = nbformat.read(tmp_path / "source" / name / f"{name}.ipynb", as_version=4)
    assert "BEGIN SOLUTION" not in nbformat.writes(release)  # the answers stay in the instructors' source
    for student, nb in (("solved", _solved(release, source)), ("untouched", release)):
        target = tmp_path / "submitted" / student / name / f"{name}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(nb, target)
    env = build_assignments.nbgrader_env(COURSE_FAST="1")
    result = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", name, "--force"], cwd=tmp_path,
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gb:
        scores = {student: {g.name: (g.auto_score, g.max_score) for g in
                            gb.find_submission_notebook(name, name, student).grades if g.cell_type == "code"}
                  for student in ("solved", "untouched")}
    exercises = {f"test_{n}" for n in re.findall(r"checks\.check_exercise\(\s*\"(\w+)\"",
                                                 (build_notebooks.SOURCES / f"{name}.py").read_text())}
    assert set(scores["solved"]) == exercises
    assert all(got == full > 0 for got, full in scores["solved"].values()), scores["solved"]
    assert all(got == 0 for got, _ in scores["untouched"].values()), scores["untouched"]
    for student, allowed in (("solved", set()), ("untouched", exercises)):
        graded = nbformat.read(tmp_path / "autograded" / student / name / f"{name}.ipynb", as_version=4)
        code = [c for c in graded.cells if c.cell_type == "code"]
        assert all(c.execution_count for c in code), f"{student}: grading stopped before the end"
        failed = {_nbgrader(c).get("grade_id", f"cell {i}") for i, c in enumerate(graded.cells)
                  if c.cell_type == "code" and any(o.output_type == "error" for o in c.outputs)}
        assert failed <= allowed, f"{student}: cells other than the autograded tests failed: {failed - allowed}"
