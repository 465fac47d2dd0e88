"""Build the instructors' decks: slides/src/*.md -> build/slides/*.html (and PDFs with --pdf).

    python tools/build_slides.py            # every deck (make slides)
    python tools/build_slides.py --pdf      # also a PDF of each deck, for handouts (needs chromium)
    python tools/build_slides.py --only 05_dirac_gan

Steps: (1) numbers: every ``{{ record :: metric :: format }}`` in a deck is replaced by that metric
of ``benchmarks/results/<record>.json`` (the course's recorded runs), so the decks never quote a
stale number; a missing record or metric stops the build, naming it. Formats: a Python format
spec (``.1f``), ``s`` (as recorded), ``minutes`` (seconds shown as minutes), ``first`` / ``second``
(the parts of an "a / b" record). Each deck then ends with its notebook's "Think" questions, whose
answers (the notebook's ``answers`` cell, see ``tools/build_notebooks.py``) are the slide's speaker
notes. (2) figures: every ``figures/<name>.png`` a deck shows is drawn by
``slides/figures.py`` with the course's code. (3) Marp (``@marp-team/marp-cli``, pinned in
``slides/package.json`` and installed from the npm registry into ``slides/node_modules`` at the
first build) turns each deck into one HTML file; its maths is typeset to SVG at build time
(MathJax), so the decks need no network, no CDN and no maths renderer when shown; each formula's
SVG then gets its TeX source as its accessible name (``label_maths``).
"""

from __future__ import annotations

import argparse
from html import escape as html_escape
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SLIDES = ROOT / "slides"
RECORDS = ROOT / "benchmarks" / "results"
PLACEHOLDER = re.compile(r"\{\{\s*(?P<record>[^:{}]+?)\s*::\s*(?P<metric>.+?)\s*::\s*(?P<fmt>[^:{}]+?)\s*\}\}")
FIGURE = re.compile(r"figures/([A-Za-z0-9_]+)\.png")
MARP = SLIDES / "node_modules" / ".bin" / "marp"
AXE = SLIDES / "node_modules" / "axe-core" / "axe.min.js"  # the deck tests' accessibility checker
NOTEBOOKS = ROOT / "notebooks"


class SlideError(RuntimeError):
    """A deck cannot be built; the message names the deck, the record or the metric and the fix."""


def records(folder: Path = RECORDS) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def _format(value, fmt: str) -> str:
    if fmt == "s":
        return str(value)
    if fmt == "minutes":
        return f"{float(value) / 60:.0f}" if float(value) >= 600 else f"{float(value) / 60:.1f}"
    if fmt in ("first", "second"):
        parts = [p.strip() for p in str(value).split(" / ")]
        if len(parts) != 2:
            raise ValueError(f"'{fmt}' needs an 'a / b' value, got {value!r}")
        return parts[0 if fmt == "first" else 1]
    return format(float(value), fmt)


def cpu_name(machine: str) -> str:
    """'Intel Xeon' or 'AMD EPYC' from a record's ``machine`` ("x86_64, 2 cores (AMD EPYC), 24 GiB RAM"),
    else what its parentheses hold, else 'unknown CPU'."""
    for vendor, name in (("xeon", "Intel Xeon"), ("epyc", "AMD EPYC")):
        if vendor in machine.lower():
            return name
    found = re.search(r"\((.+?)\)", machine)
    return found.group(1) if found else "unknown CPU"


def fill(text: str, recorded: dict[str, dict], deck: str = "deck") -> str:
    """Replace every {{ record :: metric :: format }} in ``text`` by the recorded value
    ({{ record :: machine :: cpu }}: the CPU the record ran on)."""

    def value(match: re.Match) -> str:
        record, metric, fmt = match["record"], match["metric"], match["fmt"]
        if record not in recorded:
            raise SlideError(f"{deck}: no record '{record}' in {RECORDS} (run `make benchmark ONLY={record}` "
                             f"or fix the name; records: {', '.join(recorded)})")
        if metric == "machine":  # the CPU that made the record: a deck never names the wrong one
            if fmt != "cpu":
                raise SlideError(f"{deck}: write {{{{ {record} :: machine :: cpu }}}} (the only format of 'machine')")
            return cpu_name(recorded[record].get("machine", ""))
        metrics = recorded[record]["metrics"]
        if metric not in metrics:
            raise SlideError(f"{deck}: record '{record}' has no metric {metric!r}; it has: {list(metrics)}")
        try:
            return _format(metrics[metric], fmt)
        except (TypeError, ValueError) as err:
            raise SlideError(f"{deck}: cannot format {record} :: {metric} = {metrics[metric]!r} "
                             f"with '{fmt}': {err}") from err

    filled = PLACEHOLDER.sub(value, text)
    left = re.search(r"\{\{.*?\}\}", filled)
    if left:
        raise SlideError(f"{deck}: malformed placeholder {left.group(0)!r}; write {{{{ record :: metric :: format }}}}")
    return filled


def think_slide(stem: str, notebooks: Path = NOTEBOOKS) -> str:
    """The last slide of deck ``stem``: the Think questions of ``notebooks/<stem>.py``, with the
    instructors' answers as speaker notes (a Marp comment); empty when no notebook has that name."""
    source = notebooks / f"{stem}.py"
    if not source.is_file():
        return ""
    sys.path.insert(0, str(ROOT / "tools"))
    import build_notebooks  # tools/build_notebooks.py: one reader of the questions and answers

    try:
        questions, answers = build_notebooks.think_and_answers(source)
    except build_notebooks.BuildError as err:
        raise SlideError(f"{stem}: {err}") from err
    if "-->" in answers:
        raise SlideError(f"{stem}: an answer contains '-->', which would end the speaker notes early")
    return ("\n\n---\n\n<style scoped>section { font-size: 22px; }</style>\n\n## Think (notebook questions)\n\n"
            f"{questions}\n\n<!--\nAnswers for instructors:\n\n{answers}\n-->\n")


def install_marp() -> Path:
    """Install the pinned Marp CLI (and axe-core, which the deck tests run) from the npm registry (once)
    and return Marp's path."""
    if MARP.is_file() and AXE.is_file():
        return MARP
    npm = shutil.which("npm")
    if npm is None:
        raise SlideError("npm is not installed: `apt-get install nodejs npm` (Debian) or install Node.js >= 18, "
                         "then run `make slides` again")
    print("installing the Marp CLI from the npm registry into slides/node_modules (once) ...", flush=True)
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=SLIDES, check=True)
    if not MARP.is_file() or not AXE.is_file():
        raise SlideError(f"npm ci finished but {MARP} or {AXE} is missing; delete slides/node_modules and try again")
    return MARP


def draw_figures(names: set[str], out: Path) -> None:
    sys.path.insert(0, str(SLIDES))
    import figures  # slides/figures.py

    from course_utils import config

    cfg = config.setup(fast=False, seed=0, device="auto", verbose=False)
    out.mkdir(parents=True, exist_ok=True)
    unknown = sorted(names - set(figures.FIGURES))
    if unknown:
        raise SlideError(f"the decks show figures that slides/figures.py does not draw: {unknown}")
    for name in sorted(names):
        start = time.perf_counter()
        fig = figures.FIGURES[name](cfg)
        fig.savefig(out / f"{name}.png", dpi=110, bbox_inches="tight")
        figures.plt.close(fig)
        print(f"  figure {name}: {time.perf_counter() - start:.1f} s", flush=True)


def index_page(decks: list[tuple[str, str]], pdf: bool) -> str:
    rows = "\n".join(
        f'<li><a href="{name}.html">{title}</a>' + (f' (<a href="{name}.pdf">PDF</a>)' if pdf else "") + "</li>"
        for name, title in decks)
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Course decks</title></head>\n"
            "<body style=\"font-family: sans-serif; max-width: 40em; margin: 3em auto\">\n"
            "<h1>Deep generative models and metric learning: decks</h1>\n"
            f"<ol start=\"0\">\n{rows}\n</ol>\n"
            "<p>Arrow keys move between slides; <kbd>p</kbd> opens the presenter view "
            "with the speaker notes; <kbd>f</kbd> is full screen.</p>\n</body></html>\n")


_HIDDEN = re.compile(r"<!--.*?-->|<style.*?</style>|^```.*?^```|`[^`\n]*`", re.S | re.M)  # no maths typeset there
# Marp's maths: $$ display $$, or inline $x$ whose dollars do not touch a space inside, nor a digit after
_MATHS = re.compile(r"\$\$(.+?)\$\$|(?<![\\$])\$(?=\S)([^$\n]*?[^\s\\])\$(?![\d$])", re.S)
_SVG_MATHS = re.compile(r'(<mjx-container[^>]*><svg[^>]*?)role="img"')


def label_maths(html: str, markdown: str, deck: str = "deck") -> str:
    """Give each formula's SVG (MathJax, typeset by Marp) its TeX source as ``aria-label``: a screen reader
    reads it, and WCAG's non-text-content rule (axe's svg-img-alt) is met. The formulas are matched to
    the SVGs in document order; a count that differs stops the build, naming the deck."""
    front_matter = markdown.split("\n---\n", 1)[1] if markdown.startswith("---\n") else markdown
    sources = [(display or inline) for display, inline in _MATHS.findall(_HIDDEN.sub("", front_matter))]
    n_svg = len(_SVG_MATHS.findall(html))
    if n_svg != len(sources):
        raise SlideError(f"{deck}: {len(sources)} formulas in the source but {n_svg} typeset; tools/build_slides.py's "
                         "_MATHS must follow Marp's rules for $ and $$")
    labels = iter(" ".join(tex.split()) for tex in sources)
    return _SVG_MATHS.sub(lambda m: f'{m.group(1)}role="img" aria-label="{html_escape(next(labels))}"', html)


def build(out: Path, only: list[str] | None = None, pdf: bool = False, src: Path = SLIDES / "src") -> list[Path]:
    """Build the decks of ``src`` (default slides/src) into ``out``; returns the HTML files."""
    sources = sorted(Path(src).glob("*.md"))
    if only:
        sources = [p for p in sources if p.stem in only]
        missing = set(only) - {p.stem for p in sources}
        if missing:
            raise SlideError(f"no deck named {sorted(missing)} in {src}")
    recorded = records()
    out.mkdir(parents=True, exist_ok=True)
    work = out / "md"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir()
    names, decks = set(), []
    for src in sources:
        text = fill(src.read_text(), recorded, src.name).rstrip("\n") + "\n" + think_slide(src.stem)
        names |= set(FIGURE.findall(text))
        title = re.search(r'^title:\s*"?(.*?)"?\s*$', text, re.M)
        decks.append((src.stem, title.group(1) if title else src.stem))
        (work / src.name).write_text(text)
    draw_figures(names, out / "figures")
    (work / "figures").symlink_to(out / "figures", target_is_directory=True)
    marp = install_marp()
    built = []
    for src in sources:
        target = out / f"{src.stem}.html"
        subprocess.run([str(marp), "--html", "--allow-local-files", "--no-config-file", str(work / src.name), "-o",
                        str(target)],
                       check=True, cwd=out)
        target.write_text(label_maths(target.read_text(), (work / src.name).read_text(), src.stem))
        built.append(target)
        if pdf:
            chromium = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
            env_pdf = {**os.environ, "CHROME_PATH": chromium, "CHROME_NO_SANDBOX": "1"}
            subprocess.run([str(marp), "--pdf", "--allow-local-files", "--no-config-file", str(work / src.name),
                            "-o", str(out / f"{src.stem}.pdf")], check=True, env=env_pdf, cwd=out)
    if not only:
        (out / "index.html").write_text(index_page(decks, pdf))
    return built


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "slides")
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--pdf", action="store_true", help="also print each deck to PDF with chromium")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        built = build(args.out.resolve(), args.only, args.pdf)
    except SlideError as err:
        print(f"make slides: {err}", file=sys.stderr)
        return 1
    print(f"built {len(built)} deck(s) in {args.out} in {time.perf_counter() - start:.0f} s; "
          f"open {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
