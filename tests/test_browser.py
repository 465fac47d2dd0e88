"""The course in a real browser: Debian's chromium, driven by playwright.

- JupyterLab: a server is started on loopback on a free port; built *student* notebooks are
  opened, every cell run (FAST mode), and their widgets moved: the VAE's latent map, latent
  sliders and interpolation (03), the GAN's latent walk (04), the Dirac-GAN explorer (05); each
  move must change the picture. Server and kernels are shut down at the end, even on failure.
- The instructors' decks (tools/build_slides.py) are built once, served from their folder on
  loopback, and every request for anything outside that folder is blocked: every slide has
  content, every figure loads, all maths is typeset (no raw TeX left), the console stays clean,
  and a screenshot of each deck is written to COURSE_TEST_OUTPUT (default: the test's tmp folder);
  axe-core (npm, pinned beside Marp) finds no WCAG 2 A / AA violation on any slide and every figure
  has alternative text that describes it.

Without chromium or playwright (or npm, for the decks) the tests skip with the reason;
COURSE_REQUIRE_BROWSER=1 turns the skip into a failure.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]


def _missing() -> str | None:
    if not Path(CHROMIUM).is_file():
        return f"no chromium at {CHROMIUM} (apt-get install chromium, or set COURSE_CHROMIUM)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright)"
    return None


REASON = _missing()
if REASON and os.environ.get("COURSE_REQUIRE_BROWSER") == "1":
    raise RuntimeError(f"COURSE_REQUIRE_BROWSER=1 but the browser tests cannot run: {REASON}")
pytestmark = [pytest.mark.skipif(REASON is not None, reason=REASON or ""),
              pytest.mark.slow]  # JupyterLab, chromium and the decks' build


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server on 127.0.0.1 serving tmp_path/notebooks; yields (base_url, token, folder)."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    port, token = _free_port(), secrets.token_hex(16)
    # no "notified about Jupyter news?" toast over the screenshots
    settings = tmp_path / "lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    # the models go where the test run's notebooks put theirs (make test shares COURSE_OUTPUT): the widgets are
    # under test here, and a notebook's FAST models are trained once, by whichever run of it comes first
    outputs = os.environ.get("COURSE_OUTPUT") or str(tmp_path / "outputs")
    env = {**os.environ, "COURSE_FAST": "1", "COURSE_OUTPUT": outputs, "MPLBACKEND": "module://matplotlib_inline.backend_inline",
           "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "lab-settings")}
    log = open(tmp_path / "lab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--port-retries=0",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}", "--allow-root",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2).read()
                break
            except OSError:
                if server.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"JupyterLab did not start: {(tmp_path / 'lab.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield base, token, folder
    finally:
        try:  # shut the kernels down through the API, then the server
            request = urllib.request.Request(f"{base}/api/shutdown?token={token}", method="POST")
            urllib.request.urlopen(request, timeout=10)
            server.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            pass
        if server.poll() is None:
            os.killpg(server.pid, 9)
            server.wait()
        log.close()


def _run_all_and_wait(page, timeout_s: float) -> None:
    page.locator(".jp-Notebook").first.wait_for(timeout=60_000)
    # Run All only once the kernel is up (the status bar says "| Idle"): before that it can be lost
    page.get_by_text(re.compile(r"\| Idle")).first.wait_for(timeout=120_000)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    # done when the last code cell shows its execution count and no cell is queued or running
    last_prompt = page.locator(".jp-CodeCell .jp-InputPrompt").last
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        finished = re.fullmatch(r"\[\d+\]:?", last_prompt.inner_text().strip())
        if finished and page.locator(".jp-InputPrompt", has_text="[*]").count() == 0:
            return
        time.sleep(1)
    raise AssertionError(f"cells still running after {timeout_s:.0f} s")


def _picture(widget) -> str:
    return widget.locator("img").last.get_attribute("src") or ""


def _wait_for_new_picture(widget, before: str, what: str) -> None:
    deadline = time.time() + 30
    while time.time() < deadline:
        if _picture(widget) != before:
            return
        time.sleep(0.1)
    raise AssertionError(f"the widget's picture did not change after {what}")


def _shots(tmp_path) -> Path:
    folder = Path(os.environ.get("COURSE_TEST_OUTPUT", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _open_notebook(p, lab, name: str, timeout_s: float = 600):
    """Launch chromium, open the student build of `name` in JupyterLab and run every cell;
    returns (browser, page, errors) with no traceback in any output."""
    base, token, folder = lab
    built = ROOT / "build" / "student" / f"{name}.ipynb"
    if not built.is_file():
        pytest.fail(f"{built} is missing: run `make build` first")
    shutil.copy(built, folder / built.name)
    browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(f"{base}/lab/tree/{built.name}?token={token}", timeout=120_000)
    _run_all_and_wait(page, timeout_s=timeout_s)
    outputs_with_errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
                                       has_text="Traceback")
    assert outputs_with_errors.count() == 0, outputs_with_errors.first.inner_text()
    return browser, page, errors


def _figure_widget(page, slider_label: str):
    """The FigureControls box holding the slider labelled `slider_label` (the innermost box)."""
    slider = page.locator(".widget-slider", has=page.get_by_text(slider_label, exact=True))
    box = page.locator(".widget-vbox", has=slider).last
    box.scroll_into_view_if_needed(timeout=30_000)
    box.locator("img").last.wait_for(timeout=30_000)
    return box, box.locator(".widget-slider", has=page.get_by_text(slider_label, exact=True))


def _nudge(page, box, slider, what: str, presses: int = 1) -> float:
    """Move `slider` right with the keyboard; wait for the picture to change; returns the ms."""
    before = _picture(box)
    assert before.startswith(("blob:", "data:")), before[:60]
    slider.locator(".noUi-handle").focus()
    start = time.perf_counter()
    for _ in range(presses):
        page.keyboard.press("ArrowRight")
    _wait_for_new_picture(box, before, what)
    return 1000 * (time.perf_counter() - start)


def test_vae_widgets_respond_in_jupyterlab(lab, tmp_path):
    from playwright.sync_api import sync_playwright

    shots, timings = _shots(tmp_path), {}
    with sync_playwright() as p:
        browser, page, errors = _open_notebook(p, lab, "03_vae")
        try:
            # latent map (2-D VAE): z1; latent sliders (32-D VAE): the first one; interpolation: image a
            for label, presses in (("z1", 6), ("image a", 1)):
                box, slider = _figure_widget(page, label)
                timings[label] = _nudge(page, box, slider, f"moving the '{label}' slider", presses)
            sliders = page.locator(".widget-slider", has=page.get_by_text(re.compile(r"^z\[\d+\]$")))
            label = sliders.first.locator(".widget-label").inner_text().strip()
            box, slider = _figure_widget(page, label)
            timings[label] = _nudge(page, box, slider, f"moving the '{label}' slider", 6)
            page.screenshot(path=str(shots / "03_vae_widgets.png"))
            assert not errors, errors
            print(json.dumps({f"{k}_round_trip_ms": round(v) for k, v in timings.items()}))
        finally:
            browser.close()


def test_gan_latent_walk_responds_in_jupyterlab(lab, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser, page, errors = _open_notebook(p, lab, "04_gan")
        try:
            box, slider = _figure_widget(page, "noise a")
            ms = _nudge(page, box, slider, "moving the 'noise a' slider")
            page.screenshot(path=str(_shots(tmp_path) / "04_gan_latent_walk.png"))
            assert not errors, errors
            print(json.dumps({"latent_walk_round_trip_ms": round(ms)}))
        finally:
            browser.close()


def test_dirac_explorer_responds_in_jupyterlab(lab, tmp_path):
    from playwright.sync_api import sync_playwright

    shots = _shots(tmp_path)
    with sync_playwright() as p:
        browser, page, errors = _open_notebook(p, lab, "05_dirac_gan")
        try:
            # the explorer: the widget box that holds the regulariser dropdown
            explorer = page.locator(".widget-vbox", has=page.locator("select")).filter(has_text="regulariser").last
            explorer.scroll_into_view_if_needed(timeout=30_000)
            explorer.locator("img").last.wait_for(timeout=30_000)
            first = _picture(explorer)
            assert first.startswith(("blob:", "data:")), first[:60]

            start = time.perf_counter()
            regulariser = explorer.locator(".widget-dropdown", has_text="regulariser").locator("select")
            regulariser.select_option("R1")
            _wait_for_new_picture(explorer, first, "choosing R1")
            dropdown_ms = 1000 * (time.perf_counter() - start)
            page.screenshot(path=str(shots / "05_dirac_explorer_r1.png"))

            slider = explorer.locator(".widget-slider", has_text="step h")
            slider_ms = _nudge(page, explorer, slider, "moving the step-size slider")
            page.screenshot(path=str(shots / "05_dirac_explorer_h.png"))
            assert not errors, errors
            print(json.dumps({"dropdown_round_trip_ms": round(dropdown_ms), "slider_round_trip_ms": round(slider_ms)}))
        finally:
            browser.close()


# ---------------------------------------------------------------------------------------------
# The instructors' decks

DECKS = sorted(p.stem for p in (ROOT / "slides" / "src").glob("*.md"))
RAW_TEX = ("$$", "\\(", "\\[", "\\frac", "\\mathbb", "\\mathcal", "\\lVert", "\\theta")


@pytest.fixture(scope="module")
def decks(tmp_path_factory):
    """Build every deck once (tools/build_slides.py) and serve the folder on loopback; yields
    (origin, folder)."""
    if shutil.which("npm") is None and not (ROOT / "slides" / "node_modules" / ".bin" / "marp").is_file():
        reason = "npm is not installed (apt-get install npm): the decks cannot be built"
        if os.environ.get("COURSE_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    import build_slides  # tools/, on sys.path through conftest

    out = tmp_path_factory.mktemp("slides")
    build_slides.build(out)
    handler = functools.partial(_QuietHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", out
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output readable
        pass


def _deck_problems(page, source: str, shots: Path | None = None, name: str = "deck") -> list[str]:
    """Open slide after slide of the loaded deck; what is wrong with it (empty list: nothing).
    Writes a screenshot of every slide to `shots` when given."""
    problems = []
    sections = page.locator("section[id]")
    n = sections.count()
    expected = source.count("\n---\n")  # the front matter's closing line, then one per slide break
    if n != expected:
        problems.append(f"{n} slides rendered, {expected} in the source")
    for i in range(n):
        section = sections.nth(i)
        text = (section.text_content() or "").strip()
        if not text and not section.locator("img").count():
            problems.append(f"slide {i + 1} is empty")
        overflow = section.evaluate("s => s.scrollHeight - s.clientHeight")
        if overflow > 2:
            problems.append(f"slide {i + 1} overflows its frame by {overflow} px")
        if shots is not None:
            page.evaluate(f"location.hash = '#{i + 1}'")
            page.wait_for_timeout(150)
            page.screenshot(path=str(shots / f"{name}_{i + 1:02d}.png"))
    body = page.evaluate("Array.from(document.querySelectorAll('section')).map(s => s.textContent).join(' ')")
    raw = [t for t in RAW_TEX if t in body]
    if raw:
        problems.append(f"raw TeX left in the slides: {raw}")
    if "$" in source and not page.locator("section mjx-container").count():
        problems.append("no typeset maths")
    images = page.evaluate("Array.from(document.images)"
                           ".map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0])")
    broken = [src for src, ok in images if not ok]
    if broken:
        problems.append(f"figures that did not load: {broken}")
    return problems


# WCAG 2.0 / 2.1 / 2.2, levels A and AA, and axe's heading rules (best practice, not WCAG success criteria)
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_EXTRA_RULES = ("heading-order", "empty-heading", "page-has-heading-one")
MIN_ALT_WORDS = 8  # a figure's alternative text says what it shows, not a file name or "figure"


def _axe_violations(page) -> list[str]:
    """axe-core's WCAG 2 A / AA violations on the loaded deck, slide by slide (as a viewer sees each one:
    colour contrast is only judged on what is visible), one line per rule and element."""
    import build_slides  # tools/, on sys.path through conftest

    if not build_slides.AXE.is_file():
        pytest.fail(f"{build_slides.AXE} is missing: run `make slides` once (npm ci installs axe-core beside Marp)")
    page.add_script_tag(content=build_slides.AXE.read_text())
    found = {}
    for i in range(page.locator("section[id]").count()):
        page.evaluate(f"location.hash = '#{i + 1}'")
        page.wait_for_timeout(100)
        for rule, impact, help_text, target in page.evaluate(
                """async ([tags, extra]) => {
                    const rules = Object.fromEntries(extra.map(r => [r, {enabled: true}]));
                    const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, rules});
                    return result.violations.flatMap(
                        v => v.nodes.map(n => [v.id, v.impact, v.help, n.target.join(" ")]));
                }""", [AXE_TAGS, list(AXE_EXTRA_RULES)]):
            found.setdefault((rule, target), f"{rule} ({impact}): {help_text}, at {target} (slide {i + 1})")
    return sorted(found.values())


def _short_alternatives(page) -> list[str]:
    """The figures whose alternative text has fewer than MIN_ALT_WORDS words (axe accepts alt="" as a
    decorative image: a deck's figures never are)."""
    images = page.evaluate("Array.from(document.querySelectorAll('section img'))"
                           ".map(i => [i.getAttribute('src'), i.getAttribute('alt') || ''])")
    return [f"{src}: alt {alt!r}" for src, alt in images if len(alt.split()) < MIN_ALT_WORDS]


def _misnamed_formulas(page) -> list[str]:
    """Formulas whose accessible name (their TeX, ``build_slides.label_maths``) lacks a letter or digit the
    SVG draws (MathJax's glyphs carry their character in ``data-c``; NFKC turns a maths italic x into x):
    names shifted by one formula fail this."""
    import unicodedata

    found = page.evaluate("""Array.from(document.querySelectorAll('mjx-container > svg')).map(s => [
        s.getAttribute('aria-label') || '',
        Array.from(s.querySelectorAll('[data-c]')).map(g => String.fromCodePoint(parseInt(g.dataset.c, 16)))])""")
    wrong = []
    for label, glyphs in found:
        drawn = {unicodedata.normalize("NFKC", g) for g in glyphs}
        missing = {g for g in drawn if len(g) == 1 and g.isascii() and g.isalnum() and g not in label}
        if not label or missing:
            wrong.append(f"{label!r} draws {sorted(missing)}")
    return wrong


def _open_deck(browser, url: str, origin: str):
    """A page showing `url` with every request outside `origin` blocked; returns (page, blocked, errors)."""
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    blocked, errors = [], []

    def only_the_built_folder(route):
        if route.request.url.startswith(origin + "/"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_built_folder)
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(url, wait_until="load")
    return page, blocked, errors


@pytest.mark.parametrize("deck", DECKS)
def test_deck_renders_offline(decks, deck, tmp_path):
    from playwright.sync_api import sync_playwright

    import build_slides

    origin, folder = decks
    # the deck as built: its source, then the Think slide the build appends from its notebook
    source = (ROOT / "slides" / "src" / f"{deck}.md").read_text() + build_slides.think_slide(deck)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page, blocked, errors = _open_deck(browser, f"{origin}/{deck}.html", origin)
            problems = _deck_problems(page, source, _shots(tmp_path), f"deck_{deck}")
            assert page.locator("img").count() == source.count("](figures/"), "a figure of the source is not shown"
            assert not problems, f"{deck}: {problems}"
            assert not blocked, f"{deck} asked for files outside its folder: {blocked}"
            assert not errors, f"{deck}: console errors {errors}"
            assert not _short_alternatives(page), f"{deck}: figures without a description"
            assert not _misnamed_formulas(page), f"{deck}: formulas named by another's TeX"
            violations = _axe_violations(page)
            assert not violations, f"{deck}: {len(violations)} WCAG violation(s):\n" + "\n".join(violations)
        finally:
            browser.close()


def test_deck_checks_catch_a_broken_deck(decks, tmp_path):
    """The same checks on a deck built to fail: TeX that Marp does not typeset, a figure from the
    network, a figure that does not exist, a slide too long for its frame, an empty slide."""
    from playwright.sync_api import sync_playwright

    import build_slides

    origin, folder = decks
    src = tmp_path / "src"
    src.mkdir()
    source = ("---\nmarp: true\nmath: mathjax\n---\n\n# Broken\n\nTeX outside dollars, \\frac{1}{2}, is left raw; "
              "$\\theta$ is typeset.\n\n![](https://example.org/remote.png)\n\n---\n\n"
              + "\n\n".join(f"- line {i}" for i in range(40)) + "\n\n---\n\n<!-- only a note -->\n")
    (src / "broken.md").write_text(source)
    build_slides.build(folder, only=["broken"], src=src)
    (folder / "broken.html").write_text((folder / "broken.html").read_text().replace(
        "</section>", '<img src="figures/missing.png"></section>', 1))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page, blocked, errors = _open_deck(browser, f"{origin}/broken.html", origin)
            problems = " | ".join(_deck_problems(page, source))
            assert "raw TeX" in problems and "did not load" in problems and "missing.png" in problems
            assert "slide 2 overflows" in problems and "slide 3 is empty" in problems
            assert blocked == ["https://example.org/remote.png"]
            # accessibility: a figure without alternative text, faint text, an image described by its size only
            assert any("missing.png" in line for line in _short_alternatives(page))
            page.evaluate("document.querySelector('section p').style.color = '#c8c8c8'")
            rules = {line.split(" ", 1)[0] for line in _axe_violations(page)}
            assert {"image-alt", "color-contrast"} <= rules, rules
        finally:
            browser.close()


def test_deck_prints_to_pdf(decks, tmp_path):
    """make slides PDF=1: Marp prints a deck to PDF with the same chromium."""
    import build_slides

    build_slides.build(tmp_path, only=["02_elbo"], pdf=True)
    pdf = (tmp_path / "02_elbo.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000


def test_deck_index_links_every_deck(decks):
    origin, folder = decks
    index = (folder / "index.html").read_text()
    for deck in DECKS:
        assert f'href="{deck}.html"' in index and (folder / f"{deck}.html").is_file()
