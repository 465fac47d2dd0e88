"""The widgets in a real browser: JupyterLab in Debian's chromium, driven by playwright.

A server is started on loopback on a free port; the built *student* notebook is opened, every
cell run (FAST mode), and the Dirac-GAN explorer of notebook 05 moved: a dropdown and a slider,
each of which must change the picture. Server and kernels are shut down at the end, even on
failure. Without chromium or playwright the tests skip with the reason; COURSE_REQUIRE_BROWSER=1
turns the skip into a failure.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
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
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")


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
    env = {**os.environ, "COURSE_FAST": "1", "COURSE_OUTPUT": str(tmp_path / "outputs"), "MPLBACKEND": "module://matplotlib_inline.backend_inline",
           "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
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
    deadline = time.time() + 20
    while time.time() < deadline:
        if _picture(widget) != before:
            return
        time.sleep(0.1)
    raise AssertionError(f"the explorer's picture did not change after {what}")


def test_dirac_explorer_responds_in_jupyterlab(lab, tmp_path):
    from playwright.sync_api import sync_playwright

    base, token, folder = lab
    built = ROOT / "build" / "student" / "05_dirac_gan.ipynb"
    if not built.is_file():
        pytest.fail(f"{built} is missing: run `make build` first")
    shutil.copy(built, folder / built.name)
    shots = Path(os.environ.get("COURSE_TEST_OUTPUT", tmp_path))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors = []
            page.on("pageerror", lambda err: errors.append(str(err)))
            page.goto(f"{base}/lab/tree/{built.name}?token={token}", timeout=120_000)
            _run_all_and_wait(page, timeout_s=600)
            outputs_with_errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
                                               has_text="Traceback")
            assert outputs_with_errors.count() == 0, outputs_with_errors.first.inner_text()
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

            second = _picture(explorer)
            handle = explorer.locator(".widget-slider", has_text="step h").locator(".noUi-handle")
            handle.focus()
            start = time.perf_counter()
            page.keyboard.press("ArrowRight")
            _wait_for_new_picture(explorer, second, "moving the step-size slider")
            slider_ms = 1000 * (time.perf_counter() - start)
            page.screenshot(path=str(shots / "05_dirac_explorer_h.png"))
            assert not errors, errors
            print(json.dumps({"dropdown_round_trip_ms": round(dropdown_ms), "slider_round_trip_ms": round(slider_ms)}))
        finally:
            browser.close()
