"""Write an nbgrader course tree from the notebook sources, for instructors who grade on JupyterHub.

    python tools/build_assignments.py                 # grading/: nbgrader_config.py, source/, release/
    python tools/build_assignments.py --out DIR       # somewhere else
    python tools/build_assignments.py --only 03_vae   # some notebooks
    python tools/build_assignments.py --no-release    # source/ only (no `nbgrader generate_assignment`)

Each notebook ``notebooks/NN_name.py`` becomes the assignment ``NN_name`` (``source/NN_name/NN_name.ipynb``)
from the same single source as the solution and student builds (tools/build_notebooks.py):

- an exercise's cell (the one holding ``### BEGIN SOLUTION`` / ``### END SOLUTION``, nbgrader's own markers)
  is an autograded answer: ``nbgrader generate_assignment`` replaces the region by ``raise NotImplementedError()``;
- after its check cell (``checks.check_exercise(name, ...)``, locked) comes an autograded test cell worth
  ``EXERCISE_POINTS``: ``checks.require_passed(name)``, which fails unless the student's own function passed
  (the check falls back to the course's reference when it is not attempted, so the notebook still runs);
- each "Think" question gets a manually graded answer cell worth ``THINK_POINTS``, holding the instructors'
  answer as its solution (kept in source/, cleared in release/);
- every markdown cell and every check or test cell is locked; the other code cells stay editable.

The tree's ``nbgrader_config.py`` runs the grader's kernels in FAST mode (``COURSE_FAST=1``: a notebook
grades in about a minute) with a cell timeout of ``CELL_TIMEOUT`` seconds. Only source/ and release/ are
(re)written, and only when their content changes: the gradebook, submitted/, autograded/ and feedback/
are never touched.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_notebooks  # noqa: E402  (tools/ is not a package)

ROOT = build_notebooks.ROOT
DEFAULT_OUT = ROOT / "grading"
EXERCISE_POINTS = 1
THINK_POINTS = 1
CELL_TIMEOUT = 600  # seconds per cell; FAST mode's slowest cell takes well under a minute
_CHECK = re.compile(r"checks\.check_exercise\(\s*\"(\w+)\"")

CONFIG = f'''"""nbgrader configuration of the course's assignments (written by tools/build_assignments.py)."""
import os

# grading runs every notebook in FAST mode: the same code and data, fewer steps (about a minute a notebook)
os.environ.setdefault("COURSE_FAST", "1")

c = get_config()  # noqa: F821 (nbgrader's config loader defines it)
c.CourseDirectory.course_id = "dgm-course"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
# seconds a cell may run when nbgrader executes a notebook (autograde, validate)
c.Execute.timeout = {CELL_TIMEOUT}
'''


class AssignmentError(ValueError):
    """A source notebook cannot be turned into an assignment (the message names the cell)."""


def _meta(grade_id: str, *, solution: bool = False, grade: bool = False, locked: bool = False,
          points: int | None = None) -> dict:
    """nbgrader's cell metadata (schema 3)."""
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution,
            "task": False}
    if grade:
        meta["points"] = points
    return meta


def _answer_items(answers: str) -> list[str]:
    """The instructors' answers cell split into one markdown text per question (list markers dropped)."""
    items: list[list[str]] = []
    for line in answers.split("\n"):
        if build_notebooks._ITEM.match(line):
            items.append([build_notebooks._ITEM.sub("", line, count=1)])
        elif items:
            items[-1].append(line[3:] if line.startswith("   ") else line.lstrip())
    return ["\n".join(lines).strip() for lines in items]


def assignment(path: Path) -> nbformat.NotebookNode:
    """The nbgrader source notebook of one jupytext source (see the module's docstring)."""
    think = build_notebooks.think_and_answers(path, required=False)
    nb = jupytext.read(path, fmt="py:percent")
    cells, seen = [], set()
    for index, cell in enumerate(nb.cells):
        where = f"{path.name}, cell {index + 1}"
        cell.pop("id", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if build_notebooks.is_answers(cell):
            for number, text in enumerate(_answer_items(think[1]), 1):
                source = (f"**Think, question {number}** (graded by hand, {THINK_POINTS} point): your answer.\n\n"
                          f"### BEGIN SOLUTION\n{text}\n### END SOLUTION")
                cells.append(nbformat.v4.new_markdown_cell(source, metadata={"nbgrader": _meta(
                    f"think_{number}", solution=True, grade=True, points=THINK_POINTS)}))
            continue
        lines = cell.source.split("\n")
        blocks = build_notebooks._blocks(lines, where) if cell.cell_type == "code" else []
        if blocks:  # one cell may hold several exercises (functions), each with its own region
            names = [build_notebooks._exercise_name(lines, begin) for begin, _ in blocks]
            if seen & set(names):
                raise AssignmentError(f"{where}: a second solution for `{sorted(seen & set(names))[0]}`")
            seen.update(names)
            cell.metadata["nbgrader"] = _meta("exercise_" + "_".join(dict.fromkeys(names)), solution=True)
            cells.append(cell)
            continue
        checked = _CHECK.findall(cell.source) if cell.cell_type == "code" else []
        if cell.cell_type == "markdown" or checked:
            cell.metadata["nbgrader"] = _meta(f"{cell.cell_type}_{index:03d}", locked=True)
        cells.append(cell)
        for name in checked:
            if name not in seen:
                raise AssignmentError(f"{where}: checks `{name}` before any solution cell defines it")
            test = (f"# autograded, {EXERCISE_POINTS} point: the check above passed on your own `{name}`, "
                    "not on the course's reference\n"
                    f'checks.require_passed("{name}")')
            cells.append(nbformat.v4.new_code_cell(test, metadata={"nbgrader": _meta(
                f"test_{name}", grade=True, locked=True, points=EXERCISE_POINTS)}))
    nb.cells = cells
    return build_notebooks.finish(nb, "nbg")


def points(nb: nbformat.NotebookNode) -> tuple[int, int]:
    """(autograded points, manually graded points) of an assignment notebook."""
    auto = manual = 0
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            if meta.get("solution"):
                manual += meta["points"]
            else:
                auto += meta["points"]
    return auto, manual


def write_tree(out: Path, only: list[str] | None = None) -> dict[str, nbformat.NotebookNode]:
    """Write ``out``/nbgrader_config.py and ``out``/source/NAME/NAME.ipynb; return the assignments by name."""
    build_notebooks.write_if_changed(out / "nbgrader_config.py", CONFIG)
    names = {}
    for path in build_notebooks.sources():
        if only and path.stem not in only:
            continue
        names[path.stem] = assignment(path)
        build_notebooks.write_if_changed(out / "source" / path.stem / f"{path.stem}.ipynb",
                                         nbformat.writes(names[path.stem]) + "\n")
    unknown = sorted(set(only or ()) - set(names))
    if unknown:
        raise AssignmentError(f"no notebook source named {', '.join(unknown)} in {build_notebooks.SOURCES}")
    return names


def nbgrader_env(**extra: str) -> dict[str, str]:
    """The environment for running nbgrader from this interpreter: its scripts folder first on PATH, since
    nbgrader calls the ``alembic`` command of its own environment (an unactivated venv, as in ``make``)."""
    scripts = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": scripts + os.pathsep + os.environ.get("PATH", ""), **extra}


def generate(out: Path, name: str) -> None:
    """``nbgrader generate_assignment NAME --force`` in the course tree: release/NAME/ for the students."""
    result = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", name, "--force"],
                            cwd=out, capture_output=True, text=True, env=nbgrader_env())
    if result.returncode != 0:
        raise AssignmentError(f"nbgrader generate_assignment {name} failed:\n{result.stdout}{result.stderr}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the course tree (default: grading/)")
    parser.add_argument("--only", nargs="*", help="notebook stems (default: all)")
    parser.add_argument("--no-release", action="store_true", help="write source/ only")
    args = parser.parse_args(argv)
    try:
        names = write_tree(args.out, args.only)
        for name, nb in names.items():
            if not args.no_release:
                generate(args.out, name)
            auto, manual = points(nb)
            print(f"{name}: {auto} autograded point(s), {manual} graded by hand")
    except (build_notebooks.BuildError, AssignmentError) as err:
        print(f"build_assignments: {err}", file=sys.stderr)
        return 2
    where = args.out / ("source" if args.no_release else "release")
    print(f"{len(names)} assignment(s) in {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
