"""Build the solution and student notebooks from the jupytext sources in notebooks/.

    python tools/build_notebooks.py            # writes build/solution/*.ipynb and build/student/*.ipynb
    python tools/build_notebooks.py --check    # exit 1 if a build is missing or out of date

Solution build: the source with the ``### BEGIN SOLUTION`` / ``### END SOLUTION`` marker lines
removed. Student build: each marked block replaced by ``raise NotImplementedError(...)`` naming the
exercise (the function it sits in), at the block's indentation. Builds carry no outputs and are
only rewritten when their content changes.

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
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
_DEF = re.compile(r"^(\s*)def\s+(\w+)\s*\(")
_HEADING = re.compile(r"^(#{1,3}) ")


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
            if _HEADING.match(line) and any(l.strip() for l in current):
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
        out.append(f'{indent}raise NotImplementedError("Exercise: write `{name}` here, then run the check cell below.")')
        last = end + 1
    return "\n".join(out + lines[last:])


def build_one(path: Path, flavour: str) -> nbformat.NotebookNode:
    """The ``solution`` or ``student`` notebook of one source, without outputs."""
    nb = jupytext.read(path, fmt="py:percent")
    transform = solution_source if flavour == "solution" else student_source
    nb.cells = split_at_headings(nb.cells)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.source = transform(cell.source, f"{path.name}, cell {index + 1}")
            cell.outputs, cell.execution_count = [], None
        kind = slide_type(cell)
        if kind:
            cell.metadata["slideshow"] = {"slide_type": kind}
        cell.pop("id", None)
    nb.metadata.pop("jupytext", None)
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.metadata["language_info"] = {"name": "python"}
    nb.nbformat, nb.nbformat_minor = 4, 5
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"{flavour[:3]}-{index:03d}"  # stable ids: identical sources give identical files
    nbformat.validate(nb)
    return nb


def build_all(src: Path = SOURCES, out: Path = BUILD, check: bool = False) -> list[Path]:
    """Write (or, with ``check``, compare) every build; return the paths that were stale."""
    stale = []
    for path in sources(src):
        for flavour in ("solution", "student"):
            target = out / flavour / f"{path.stem}.ipynb"
            text = nbformat.writes(build_one(path, flavour)) + "\n"
            if target.is_file() and target.read_text() == text:
                continue
            stale.append(target)
            if not check:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text)
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
