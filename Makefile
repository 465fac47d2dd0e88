# make lab        set everything up, build the student notebooks into workspace/, open JupyterLab
# make test       set everything up and run the whole test suite (FAST mode, offline, every tier)
# make test-fast  the fast tier only: unit tests without notebooks, browsers or real training (minutes)
# make test-timed make test, writing how long each unit took (tests/unit_seconds.json: longest start first)
# make benchmark  run every notebook in full mode with papermill -> benchmarks/RESULTS.md
#                 (ONLY="03_vae" runs some; KEEP=dir keeps the executed notebooks)
# make build      (re)build build/solution and build/student from notebooks/*.py
# make assignments  write the nbgrader course tree into grading/ (source/ and release/; never the gradebook)
# make slides     build the instructors' decks -> build/slides/index.html (offline HTML; PDF=1 adds PDFs)
# make clean      remove build/ (never touches workspace/: the student's notebooks and their checkpoint copies)

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_FLAGS ?=
# workers of make test (pytest-xdist): auto = one per core
JOBS ?= auto
# extra flags for jupyter lab, e.g. LAB_FLAGS="--no-browser --port 8899"
LAB_FLAGS ?=
# JupyterLab refuses to run as root (containers, CI) unless told
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)
# glibc's malloc (Linux) for every target: memory freed by PyTorch stays in the heap for the next batch (no trim,
# 256 MB of padding) instead of going back to the kernel and being faulted in again, page by page; blocks of over
# 32 MB (glibc's largest mmap threshold) are still mapped apart. The same results, bit for bit, in less time: make
# test 704 -> 621 s on 2 cores (AMD EPYC); notebook 04's FAST run 63 -> 53 s, the kernel's share of its CPU time
# 21 -> 8 %. Other systems ignore it.
export GLIBC_TUNABLES ?= glibc.malloc.trim_threshold=4294967296:glibc.malloc.top_pad=268435456:glibc.malloc.mmap_threshold=33554432

.PHONY: install build assignments lab lint test test-fast test-timed benchmark slides clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

build: $(STAMP)
	$(PY) tools/build_notebooks.py

assignments: $(STAMP)
	$(PY) tools/build_assignments.py $(if $(ONLY),--only $(ONLY))

lab: build
	$(PY) tools/workspace.py
	$(VENV)/bin/jupyter lab --notebook-dir=workspace $(ROOT_FLAG) $(LAB_FLAGS)

# style: ruff (pycodestyle, pyflakes, lines of at most 120 characters; pyproject.toml's [tool.ruff])
lint: $(STAMP)
	$(PY) -m ruff check .

# Every tier, spread over the cores (pytest-xdist: JOBS workers, default one per core, single-threaded so that
# the workers do not fight over the cores). Each test file runs whole on one worker, and so does each notebook's
# pair of builds, solution first, with the browser's and papermill's runs of that notebook: the later runs load
# the models and scores the first saved in COURSE_OUTPUT (the units: tests/conftest.py's work_unit).
test: build lint
	OMP_NUM_THREADS=1 COURSE_FAST=1 $(PY) -m pytest $(PYTEST_FLAGS) -n $(JOBS) --dist loadfile tests \
		--nbval-lax --nbval-current-env --nbval-cell-timeout=600 -p no:cacheprovider \
		build/solution build/student

# make test, recording each unit's seconds for the scheduler (after adding or much changing a notebook or a slow
# test; a unit missing from the table is estimated from its number of tests)
test-timed:
	COURSE_UNIT_SECONDS=tests/unit_seconds.json $(MAKE) test

# the fast tier, for a developer between edits: the unit tests without the slow ones (no notebook, browser
# or real training run), in a few minutes
test-fast: lint
	COURSE_FAST=1 $(PY) -m pytest $(PYTEST_FLAGS) -m "not slow" -p no:cacheprovider tests

slides: $(STAMP)
	$(PY) tools/build_slides.py $(if $(PDF),--pdf)

benchmark: build
	$(PY) tools/benchmark.py $(if $(ONLY),--only $(ONLY)) $(if $(KEEP),--keep $(KEEP)) $(if $(OUTPUT),--output $(OUTPUT))

clean:
	rm -rf build
