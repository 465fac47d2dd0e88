"""The notebook pipeline: solution / student builds, the workspace, the rules every source follows."""

import ast
import re
import json
import subprocess
from pathlib import Path

import jupytext
import nbformat
import pytest

import build_notebooks as bn
import workspace

ROOT = Path(__file__).resolve().parent.parent
SOURCE = '''def kl(mu, logvar):
    """doc"""
    x = 1
    ### BEGIN SOLUTION
    y = mu + x
    return y
    ### END SOLUTION


def other():
    ### BEGIN SOLUTION
    return 2
    ### END SOLUTION
'''


def test_solution_build_only_drops_the_markers():
    out = bn.solution_source(SOURCE)
    assert "BEGIN SOLUTION" not in out and "END SOLUTION" not in out
    assert "    y = mu + x\n    return y\n" in out
    ns = {}
    exec(out, ns)
    assert ns["kl"](1, 0) == 2 and ns["other"]() == 2


def test_student_build_replaces_each_block_naming_the_exercise():
    out = bn.student_source(SOURCE)
    assert "mu + x" not in out and "return 2" not in out
    assert '    raise NotImplementedError("Exercise: write `kl` here' in out
    assert '    raise NotImplementedError("Exercise: write `other` here' in out
    assert "    x = 1\n" in out  # code outside the markers stays
    ns = {}
    exec(out, ns)  # defining the functions works; calling them says what to do
    with pytest.raises(NotImplementedError, match="`kl`"):
        ns["kl"](1, 0)


@pytest.mark.parametrize("bad, message", [
    ("### BEGIN SOLUTION\nx = 1\n", "never closed"),
    ("x = 1\n### END SOLUTION\n", "without"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "inside another"),
])
def test_malformed_markers_are_reported_with_their_line(bad, message):
    with pytest.raises(bn.BuildError, match=message):
        bn.student_source(bad, "nb.py, cell 3")


def _write_source(folder: Path, name: str, code: str) -> Path:
    path = folder / name
    path.write_text("# %% [markdown]\n# # Title\n\n# %% tags=[\"parameters\"]\nFAST = False\n\n# %%\n" + code)
    return path


def test_build_all_is_idempotent_and_check_spots_stale_builds(tmp_path):
    src, out = tmp_path / "notebooks", tmp_path / "build"
    src.mkdir()
    _write_source(src, "01_demo.py", SOURCE)
    assert len(bn.build_all(src, out)) == 2
    assert bn.build_all(src, out) == [] and bn.build_all(src, out, check=True) == []
    student = nbformat.read(out / "student" / "01_demo.ipynb", as_version=4)
    assert student.cells[1].metadata.tags == ["parameters"]
    assert all(c.get("outputs", []) == [] for c in student.cells)
    assert student.metadata.kernelspec.name == "python3"
    _write_source(src, "01_demo.py", SOURCE.replace("x = 1", "x = 2"))
    assert len(bn.build_all(src, out, check=True)) == 2


def test_the_committed_builds_are_current():
    """`make build` ran before the tests; the builds must match the sources."""
    assert bn.build_all(check=True) == []


# ------------------------------------------------------------------ every notebook source


SOURCES = bn.sources()


def test_there_are_notebook_sources():
    assert [p.name for p in SOURCES][:1] == ["00_setup.py"]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_notebook_follows_the_course_shape(path):
    nb = jupytext.read(path)
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for heading in ("**Learning goals**", "**Prerequisites**", "**Time and hardware**", "**What it shows**",
                    "## Summary", "## References", "## 1."):
        assert heading in md, f"{path.name} lacks {heading}"
    assert md.lstrip().startswith("# "), "first cell must be the title"
    code = [c for c in nb.cells if c.cell_type == "code"]
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, "exactly one cell tagged 'parameters'"
    tree = ast.parse(params[0].source)
    names = set()
    for node in tree.body:
        assert isinstance(node, ast.Assign), f"parameters cell holds only assignments, got {ast.dump(node)[:60]}"
        ast.literal_eval(node.value)  # literals only, so papermill can override them
        names |= {t.id for t in node.targets}
    assert {"FAST", "SEED", "DEVICE"} <= names
    setup = code[code.index(params[0]) + 1].source
    assert "config.setup(fast=FAST, seed=SEED, device=DEVICE)" in setup, "the cell after parameters is the setup cell"
    assert "import *" not in "\n".join(c.source for c in code)
    # every exercise is followed by a check cell naming it
    for i, cell in enumerate(code):
        if bn.BEGIN in cell.source:
            name = bn._exercise_name(cell.source.split("\n"), cell.source.split("\n").index(
                next(line for line in cell.source.split("\n") if line.strip() == bn.BEGIN)))
            follow = code[i + 1].source if i + 1 < len(code) else ""
            assert f'check_exercise("{name}"' in follow, f"exercise {name} needs a check cell right after it"
    assert "results.record(" in "\n".join(c.source for c in code), "each notebook records its headline numbers"


# ------------------------------------------------------------------ workspace (make lab)


def _nb(text: str) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(text))
    return nbformat.writes(nb)


def test_workspace_adds_new_updates_untouched_and_keeps_edited(tmp_path):
    build, ws = tmp_path / "build", tmp_path / "ws"
    build.mkdir()
    (build / "00_a.ipynb").write_text(_nb("a = 1"))
    (build / "01_b.ipynb").write_text(_nb("b = 1"))
    assert workspace.sync(build, ws)["added"] == ["00_a.ipynb", "01_b.ipynb"]
    assert workspace.sync(build, ws) == {"added": [], "updated": [], "kept": [], "current": ["00_a.ipynb",
                                                                                             "01_b.ipynb"]}

    edited = _nb("a = 'my own answer'")
    (ws / "00_a.ipynb").write_text(edited)  # the student works on 00
    (build / "00_a.ipynb").write_text(_nb("a = 2"))  # the course changes both
    newer_b = _nb("b = 2")
    (build / "01_b.ipynb").write_text(newer_b)
    (build / "02_c.ipynb").write_text(_nb("c = 1"))  # and adds one
    report = workspace.sync(build, ws)
    assert report == {"added": ["02_c.ipynb"], "updated": ["01_b.ipynb"], "kept": ["00_a.ipynb"], "current": []}
    assert (ws / "00_a.ipynb").read_text() == edited
    assert (ws / "01_b.ipynb").read_text() == newer_b
    assert workspace.sync(build, ws)["kept"] == ["00_a.ipynb"]  # and on every later run
    assert (ws / "00_a.ipynb").read_text() == edited


@pytest.mark.parametrize("damage", ["{not json", "", "[1, 2]", '{"00_a.ipynb": 5}'])
def test_damaged_manifest_is_rebuilt_and_edits_are_kept(tmp_path, capsys, damage):
    """Issue 9.7: a corrupt manifest stopped `make lab` with a raw JSONDecodeError."""
    build, ws = tmp_path / "build", tmp_path / "ws"
    build.mkdir()
    (build / "00_a.ipynb").write_text(_nb("a = 1"))
    (build / "01_b.ipynb").write_text(_nb("b = 1"))
    workspace.sync(build, ws)
    edited = _nb("a = 'mine'")
    (ws / "00_a.ipynb").write_text(edited)
    (ws / workspace.MANIFEST).write_text(damage)
    (build / "01_b.ipynb").write_text(_nb("b = 2"))  # changed by the course after the damage
    report = workspace.sync(build, ws)
    assert "is damaged" in capsys.readouterr().err
    assert report["kept"] == ["00_a.ipynb", "01_b.ipynb"]  # unknown origin: treated as the student's
    assert (ws / "00_a.ipynb").read_text() == edited
    assert json.loads((ws / workspace.MANIFEST).read_text()) == {}  # readable again


def test_lost_manifest_does_not_mark_untouched_copies_as_edited(tmp_path):
    """Issue 9.9: a copy identical to the current build is current, and is refreshed later."""
    build, ws = tmp_path / "build", tmp_path / "ws"
    build.mkdir()
    (build / "00_a.ipynb").write_text(_nb("a = 1"))
    workspace.sync(build, ws)
    (ws / workspace.MANIFEST).unlink()
    assert workspace.sync(build, ws)["current"] == ["00_a.ipynb"]
    newer = _nb("a = 2")
    (build / "00_a.ipynb").write_text(newer)
    assert workspace.sync(build, ws)["updated"] == ["00_a.ipynb"]
    assert (ws / "00_a.ipynb").read_text() == newer


def test_make_clean_never_touches_the_workspace():
    """Issue 9.10: workspace/.ipynb_checkpoints holds the student's "Revert to checkpoint" copies."""
    proc = subprocess.run(["make", "-n", "clean"], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"make unavailable: {proc.stderr}")
    assert proc.stdout.strip() and "workspace" not in proc.stdout


def test_workspace_without_builds_says_what_to_run(tmp_path):
    with pytest.raises(SystemExit, match="make build"):
        workspace.sync(tmp_path / "empty", tmp_path / "ws")


# ------------------------------------------------------------------ repository rules


def _git_ls(*patterns):
    proc = subprocess.run(["git", "ls-files", *patterns], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip("not a git checkout")
    return proc.stdout.split()


def test_no_built_or_output_carrying_notebook_is_tracked():
    tracked = _git_ls("*.ipynb")
    assert tracked == [], f"built notebooks are generated, never committed: {tracked}"


def test_no_data_or_checkpoint_is_tracked():
    heavy = [p for p in _git_ls() if Path(p).suffix in {".gz", ".zip", ".pt", ".npz", ".pth"}]
    assert heavy in ([], ["course_utils/weights/digit_classifier.pt"])  # the yardstick's fixed weights ship


def test_every_library_module_is_tested():
    modules = {p.stem for p in (ROOT / "course_utils").glob("*.py")} - {"__init__"}
    tests = "\n".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py"))
    untested = [m for m in modules if f"{m}." not in tests]
    assert untested == []


def test_builds_carry_rise_slide_metadata(tmp_path):
    """A markdown cell opening with # or ## starts a RISE slide, ### a sub-slide; nothing else."""
    src = tmp_path / "99_demo.py"
    src.write_text("# %% [markdown]\n# # Title\n# text\n\n# %%\nx = 1\n\n# %% [markdown]\n# ## 1. Section\n\n"
                   "# %% [markdown]\n# ### A part\n\n# %% [markdown]\n# plain text, #hashtag\n")
    for flavour in ("solution", "student"):
        nb = bn.build_one(src, flavour)
        kinds = [c.metadata.get("slideshow", {}).get("slide_type") for c in nb.cells]
        assert kinds == ["slide", None, "slide", "subslide", None]
    # every real notebook opens with a slide (its title) and has one per numbered section
    for path in sorted((ROOT / "notebooks").glob("*.py")):
        nb = bn.build_one(path, "solution")
        slides = [c for c in nb.cells if c.metadata.get("slideshow", {}).get("slide_type") == "slide"]
        assert nb.cells[0].metadata["slideshow"]["slide_type"] == "slide", path.name
        assert len(slides) >= 4, path.name


def _answer_cells(nb):
    return [c for c in nb.cells if c.cell_type == "markdown" and "answers" in c.metadata.get("tags", [])]


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")), ids=lambda p: p.stem)
def test_every_think_question_is_answered_for_instructors_only(path):
    """One answer per Think question in the solution build; none of them in the student build."""
    questions, answers = bn.think_and_answers(path)
    solution, student = bn.build_one(path, "solution"), bn.build_one(path, "student")
    assert len(_answer_cells(solution)) == 1 and not _answer_cells(student)
    student_text = "\n".join(c.source for c in student.cells)
    assert "Answers for instructors" not in student_text
    for line in answers.split("\n"):
        if bn._ITEM.match(line):  # the first line of each answer
            assert line[3:] in _answer_cells(solution)[0].source and line[3:] not in student_text, line
    assert questions.split("\n")[0] in student_text  # the questions stay for the students


def test_unanswered_or_misplaced_think_questions_stop_the_build(tmp_path):
    src = tmp_path / "99_demo.py"
    think = "# %% [markdown]\n# ## Think\n#\n# 1. Why?\n# 2. How?\n\n"
    src.write_text("# %% [markdown]\n# # Title\n\n" + think + '# %% [markdown] tags=["answers"]\n# **Answers**\n#\n'
                   "# 1. Because.\n")
    with pytest.raises(bn.BuildError, match="2 Think question"):
        bn.build_one(src, "solution")
    src.write_text("# %% [markdown]\n# # Title\n\n" + think)
    with pytest.raises(bn.BuildError, match="tagged 'answers'"):
        bn.build_one(src, "student")


def test_decks_end_with_the_questions_and_the_answers_as_speaker_notes():
    import build_slides

    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")):
        questions, answers = bn.think_and_answers(path)
        slide = build_slides.think_slide(path.stem)
        notes = slide[slide.index("<!--"):]
        assert questions in slide[:slide.index("<!--")] and answers in notes and notes.rstrip().endswith("-->")
        assert (ROOT / "slides" / "src" / f"{path.stem}.md").is_file()


@pytest.mark.parametrize("deck", sorted((ROOT / "slides" / "src").glob("*.md")), ids=lambda p: p.stem)
def test_every_slide_has_speaker_notes(deck):
    """Instructors present from the notes: every slide of every deck carries one (a plain comment,
    not only a Marp directive such as <!-- _class: ... -->)."""
    import re

    text = deck.read_text()
    body = text[text.index("\n---\n", 4) + 5:]  # after the front matter
    for slide in body.split("\n---\n"):
        notes = [c for c in re.findall(r"<!--(.*?)-->", slide, re.S) if not c.strip().startswith("_")]
        heading = next((line for line in slide.strip().split("\n") if line.startswith("#")), slide[:40])
        assert notes, f"{deck.name}: the slide '{heading}' has no speaker notes"


def test_notebooks_decks_and_benchmarks_sample_through_the_engine():
    """A GAN is sampled by ``adversarial.generate(nets, z)`` (the average of G when the run keeps one): a
    caller that indexes the raw G could score the wrong generator of an averaged recipe. Allowed: the
    hand-written training loops (G and D taken apart to train them) and notebook 07's one-parameter G."""
    allowed = ('G, D = nets["G"], nets["D"]', 'nets["G"].theta')
    offenders = []
    for path in sorted([*ROOT.glob("notebooks/*.py"), *ROOT.glob("slides/*.py"), *ROOT.glob("benchmarks/*.py")]):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if '["G"]' in line and not any(a in line for a in allowed):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "sample with adversarial.generate(nets, z), not nets['G']:\n" + "\n".join(offenders)


def test_decks_name_the_cpu_of_each_record():
    import build_slides

    recorded = {"a": {"machine": "x86_64, 2 cores (AMD EPYC), 24 GiB RAM", "metrics": {"t (s)": 90.0}},
                "b": {"machine": "x86_64, 2 cores (Intel(R) Xeon(R) Processor @ 2.80GHz), 24 GiB RAM", "metrics": {}},
                "c": {"machine": "arm64, 8 cores (Apple M2), 16 GiB RAM", "metrics": {}}}
    text = ("{{ a :: t (s) :: .0f }} s on {{ a :: machine :: cpu }}, {{ b :: machine :: cpu }}, "
            "{{ c :: machine :: cpu }}")
    assert build_slides.fill(text, recorded) == "90 s on AMD EPYC, Intel Xeon, Apple M2"
    with pytest.raises(build_slides.SlideError, match="machine :: cpu"):
        build_slides.fill("{{ a :: machine :: .1f }}", recorded)
    # no slide names a CPU by hand: the record says which one ran (speaker notes may compare records)
    for deck in sorted((ROOT / "slides" / "src").glob("*.md")):
        for line in deck.read_text().splitlines():
            if not line.startswith("<!--"):
                assert "Intel Xeon" not in line and "AMD EPYC" not in line, f"{deck.name}: {line}"


@pytest.mark.parametrize("deck", sorted(p.stem for p in (ROOT / "slides" / "src").glob("*.md")))
def test_every_number_a_deck_quotes_is_in_the_committed_records(deck):
    """A deck's placeholders ({{ record :: metric :: format }}) resolve against benchmarks/results as committed:
    a re-recorded run that drops a metric fails here in seconds, not in the browser tests' deck build."""
    import build_slides

    text = (ROOT / "slides" / "src" / f"{deck}.md").read_text()
    filled = build_slides.fill(text, build_slides.records(), deck=f"{deck}.md")
    assert "{{" not in filled


def _typeset(n: int) -> str:
    """n formulas as Marp writes them: an SVG of role img inside each mjx-container."""
    return "".join(f'<p><mjx-container class="MathJax" jax="SVG"><svg width="{i}ex" role="img" focusable="false">'
                   "<g/></svg></mjx-container></p>" for i in range(n))


def test_each_typeset_formula_is_labelled_with_its_tex_in_order():
    import build_slides

    markdown = ("---\nmarp: true\nmath: mathjax\n---\n\n# $\\mathcal{L}(q)$ and $$\\log p(x)\n= a$$\n\n"
                "<!-- $\\theta$ in a note is not typeset -->\n`$code$` costs \\$5, then $x < y$.\n\n"
                "```\n$in a code block$\n```\n<style>em { content: '$'; }</style>\n")
    html = build_slides.label_maths(_typeset(3), markdown, "test")
    assert re.findall(r'aria-label="([^"]*)"', html) == ["\\mathcal{L}(q)", "\\log p(x) = a", "x &lt; y"]
    with pytest.raises(build_slides.SlideError, match="test: 3 formulas in the source but 2 typeset"):
        build_slides.label_maths(_typeset(2), markdown, "test")
