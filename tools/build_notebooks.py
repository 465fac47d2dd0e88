"""Build the solution and student notebooks from the jupytext sources in notebooks/.

    python tools/build_notebooks.py            # writes build/solution/*.ipynb and build/student/*.ipynb
    python tools/build_notebooks.py --check    # exit 1 if a build is missing or out of date

Solution build: the source with the ``### BEGIN SOLUTION`` / ``### END SOLUTION`` marker lines
removed. Student build: each marked block replaced by ``raise NotImplementedError(...)`` naming the
exercise (the function it sits in), at the block's indentation. A markdown cell tagged ``answers``
(the instructors' answers to a notebook's "Think" questions, one per question, in order) is kept in
the solution build and left out of the student build; ``tools/build_slides.py`` puts the questions on
a deck's last slide and the answers in its speaker notes. Builds carry no outputs and are only
rewritten when their content changes.

Both builds carry slide metadata for presenting a notebook live with RISE (jupyterlab-rise): a
markdown cell is split before each heading inside it, then a cell that opens with a title or a
section (``#`` or ``##``) starts a slide and one that opens with ``###`` a sub-slide; every other
cell joins the slide before it.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "notebooks"
BUILD = ROOT / "build"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
ANSWERS = "answers"  # the tag of the instructors' answer cell
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
_DEF = re.compile(r"^(\s*)def\s+(\w+)\s*\(")
_HEADING = re.compile(r"^(#{1,3}) ")
_ITEM = re.compile(r"^(?:-|\d+\.) ")  # a top-level list item: one Think question or one answer


def split_at_headings(cells: list) -> list:
    """Markdown cells split before every heading line that is not their first line, so that each
    section can start a slide of its own (code cells untouched)."""
    out = []
    for cell in cells:
        if cell.cell_type != "markdown":
            out.append(cell)
            continue
        parts, current = [], []
        for line in cell.source.split("\n"):
            if _HEADING.match(line) and any(text.strip() for text in current):
                parts.append(current)
                current = []
            current.append(line)
        parts.append(current)
        for part in parts:
            out.append(nbformat.v4.new_markdown_cell("\n".join(part).strip("\n"), metadata=dict(cell.metadata)))
    return out


def slide_type(cell) -> str | None:
    """RISE's slide type for a cell: "slide" for a # / ## heading, "subslide" for ###, else None."""
    if cell.cell_type != "markdown":
        return None
    m = _HEADING.match(cell.source.lstrip())
    if not m:
        return None
    return "subslide" if len(m.group(1)) == 3 else "slide"


class BuildError(ValueError):
    """A source notebook's solution markers are malformed."""


def sources(folder: Path = SOURCES) -> list[Path]:
    """The numbered notebook sources, e.g. ``notebooks/00_setup.py``."""
    return sorted(folder.glob("[0-9][0-9]_*.py"))


def is_answers(cell) -> bool:
    return cell.cell_type == "markdown" and ANSWERS in cell.metadata.get("tags", [])


def think_and_answers(path: Path, required: bool = True) -> tuple[str, str] | None:
    """The markdown of a source's "## Think" questions (without the heading) and of its answers cell
    (without its first paragraph, the label); raises BuildError unless there is exactly one answer
    per question, in a cell tagged ``answers`` right after the questions. Without a Think section:
    BuildError if ``required``, else None."""
    cells = jupytext.read(path, fmt="py:percent").cells
    for i, cell in enumerate(cells):
        if cell.cell_type == "markdown" and cell.source.startswith("## Think"):
            questions = cell.source.split("\n", 1)[1].strip("\n")
            break
    else:
        if not required:
            return None
        raise BuildError(f"{path.name}: no '## Think' section")
    if i + 1 >= len(cells) or not is_answers(cells[i + 1]):
        raise BuildError(f"{path.name}: the cell after '## Think' must be the answers, a markdown cell "
                         f"tagged {ANSWERS!r}")
    answers = cells[i + 1].source.split("\n\n", 1)[1].strip("\n")
    n_q = sum(bool(_ITEM.match(line)) for line in questions.split("\n"))
    n_a = sum(bool(_ITEM.match(line)) for line in answers.split("\n"))
    if n_q != n_a or n_q == 0:
        raise BuildError(f"{path.name}: {n_q} Think question(s) but {n_a} answer(s); write one answer per question")
    return questions, answers


def _blocks(lines: list[str], where: str) -> list[tuple[int, int]]:
    """(begin, end) line indices of each solution block; raises on unmatched or nested markers."""
    blocks, begin = [], None
    for i, line in enumerate(lines):
        mark = line.strip()
        if mark == BEGIN:
            if begin is not None:
                raise BuildError(f"{where}, line {i + 1}: {BEGIN} inside another solution block")
            begin = i
        elif mark == END:
            if begin is None:
                raise BuildError(f"{where}, line {i + 1}: {END} without {BEGIN}")
            blocks.append((begin, i))
            begin = None
    if begin is not None:
        raise BuildError(f"{where}, line {begin + 1}: {BEGIN} is never closed")
    return blocks


def _exercise_name(lines: list[str], begin: int) -> str:
    """The function the block sits in (the closest less-indented ``def`` above it)."""
    indent = len(lines[begin]) - len(lines[begin].lstrip())
    for line in reversed(lines[:begin]):
        m = _DEF.match(line)
        if m and len(m.group(1)) < indent:
            return m.group(2)
    return "this exercise"


def solution_source(source: str, where: str = "cell") -> str:
    lines = source.split("\n")
    _blocks(lines, where)
    return "\n".join(line for line in lines if line.strip() not in (BEGIN, END))


def student_source(source: str, where: str = "cell") -> str:
    lines = source.split("\n")
    out, last = [], 0
    for begin, end in _blocks(lines, where):
        indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
        name = _exercise_name(lines, begin)
        out += lines[last:begin]
        out.append(f'{indent}raise NotImplementedError('
                   f'"Exercise: write `{name}` here, then run the check cell below.")')
        last = end + 1
    return "\n".join(out + lines[last:])


def build_one(path: Path, flavour: str) -> nbformat.NotebookNode:
    """The ``solution`` or ``student`` notebook of one source, without outputs."""
    think_and_answers(path, required=False)  # Think questions come with one answer each
    nb = jupytext.read(path, fmt="py:percent")
    transform = solution_source if flavour == "solution" else student_source
    if flavour == "student":
        nb.cells = [cell for cell in nb.cells if not is_answers(cell)]
    nb.cells = split_at_headings(nb.cells)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.source = transform(cell.source, f"{path.name}, cell {index + 1}")
            cell.outputs, cell.execution_count = [], None
        kind = slide_type(cell)
        if kind:
            cell.metadata["slideshow"] = {"slide_type": kind}
        cell.pop("id", None)
    return finish(nb, flavour[:3])


def finish(nb: nbformat.NotebookNode, id_prefix: str) -> nbformat.NotebookNode:
    """A notebook read by jupytext made a plain, valid nbformat 4.5 notebook on the course's kernel, its cells
    numbered ``<id_prefix>-000``, ...: stable ids, so that identical sources give identical files."""
    nb.metadata.pop("jupytext", None)
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.metadata["language_info"] = {"name": "python"}
    nb.nbformat, nb.nbformat_minor = 4, 5
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"{id_prefix}-{index:03d}"
    nbformat.validate(nb)
    return nb


def write_if_changed(target: Path, text: str, check: bool = False) -> bool:
    """Write ``text`` to ``target`` unless it holds exactly that already (or, with ``check``, only compare):
    an unchanged file keeps its time stamp. Returns whether ``target`` was stale."""
    if target.is_file() and target.read_text() == text:
        return False
    if not check:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return True


def build_all(src: Path = SOURCES, out: Path = BUILD, check: bool = False) -> list[Path]:
    """Write (or, with ``check``, compare) every build; return the paths that were stale."""
    stale = []
    for path in sources(src):
        for flavour in ("solution", "student"):
            target = out / flavour / f"{path.stem}.ipynb"
            if write_if_changed(target, nbformat.writes(build_one(path, flavour)) + "\n", check):
                stale.append(target)
    return stale


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale or missing builds")
    args = parser.parse_args(argv)
    try:
        stale = build_all(check=args.check)
    except BuildError as err:
        print(f"build_notebooks: {err}", file=sys.stderr)
        return 2
    rel = [str(p.relative_to(ROOT)) for p in stale]
    if args.check:
        print("stale: " + ", ".join(rel) if rel else "all builds are current")
        return 1 if rel else 0
    print(f"built {len(rel)} notebook(s)" + (": " + ", ".join(rel) if rel else " (all current)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
