"""Headline numbers of a notebook run, recorded with one call and gathered into one table.

    results.record("01_siamese", {"20-way one-shot accuracy (%)": 93.1}, cfg,
                   paper={"20-way one-shot accuracy (%)": 92.0})

writes ``<results>/01_siamese.json`` (``$COURSE_RESULTS``, default ``<output>/results``) and prints
this run's numbers beside the course's recorded full run (``benchmarks/results/01_siamese.json``),
so a student's numbers and the recorded ones can never silently disagree.
``tools/benchmark.py`` (``make benchmark``) runs every notebook in full mode and turns the
records into ``benchmarks/RESULTS.md`` with ``markdown_table``.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Mapping

import numpy as np
import torch

from course_utils import config, storage


RECORDED = Path(__file__).resolve().parent.parent / "benchmarks" / "results"  # the course's recorded runs


def results_dir() -> Path:
    return Path(os.environ.get("COURSE_RESULTS") or config.output_dir() / "results")


def machine() -> str:
    """E.g. ``x86_64, 2 cores (AMD EPYC 7B13), 23 GiB RAM``."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        mem = f", {pages * size / 2**30:.0f} GiB RAM"
    except (ValueError, OSError, AttributeError):
        pass
    return f"{platform.machine()}, {os.cpu_count()} cores ({cpu}){mem}"


def record(notebook: str, metrics: Mapping[str, float | int | str], cfg=None,
           paper: Mapping[str, float | str] | None = None, folder=None, recorded=RECORDED) -> Path:
    """Save this run's headline ``metrics`` (name -> value) for ``notebook``; print them beside the
    recorded full run's (``recorded/<notebook>.json``, if there is one) and the paper's; return the file.

    ``paper`` gives the published figure for a metric of the same name, shown beside it.
    A folder that cannot be written stops with a message naming it and the setting that moves it.
    """
    previous = Path(recorded) / f"{notebook}.json" if recorded is not None else None
    reference = json.loads(previous.read_text()) if previous is not None and previous.is_file() else None
    unknown = set(paper or {}) - set(metrics)
    if unknown:
        raise ValueError(f"paper figures for metrics that were not recorded: {sorted(unknown)}")
    entry = {
        "notebook": notebook,
        "metrics": {k: (v if isinstance(v, str) else float(v)) for k, v in metrics.items()},
        "paper": dict(paper or {}),
        "mode": cfg.mode if cfg is not None else ("FAST" if config.fast_from_env() else "full"),
        "device": str(cfg.device) if cfg is not None else "unknown",
        "seed": cfg.seed if cfg is not None else None,
        "machine": machine(),
        "torch": torch.__version__,
        "date": time.strftime("%Y-%m-%d"),
    }
    folder = Path(folder) if folder is not None else results_dir()
    setting = "COURSE_RESULTS" if os.environ.get("COURSE_RESULTS") else "COURSE_OUTPUT"
    storage.check_writable(folder, setting)
    path = storage.atomic_write_text(folder / f"{notebook}.json", json.dumps(entry, indent=2) + "\n")
    print(comparison(entry, reference))
    return path


def comparison(entry: dict, reference: dict | None) -> str:
    """This run's metrics as a table beside the recorded run's and the paper's figures."""
    width = max(len(name) for name in entry["metrics"]) if entry["metrics"] else 10
    width = min(width, 80)
    if reference is None:
        head = (f"{entry['notebook']}: this run ({entry['mode']}, {entry['device']}); "
                "no recorded full run to compare with")
    else:
        head = (f"{entry['notebook']}: this run ({entry['mode']}, {entry['device']}) beside the course's recorded "
                f"full run ({reference['date']}, {reference['device']}, {reference['machine']})")
    lines = [head, f"{'metric':{width}s}  {'this run':>14s}  {'recorded run':>14s}  paper"]
    recorded_metrics = reference["metrics"] if reference is not None else {}
    for name, value in entry["metrics"].items():
        theirs = _fmt(recorded_metrics[name]) if name in recorded_metrics else "-"
        paper = _fmt(entry["paper"][name]) if name in entry["paper"] else ""
        lines.append(f"{name:{width}s}  {_fmt(value):>14s}  {theirs:>14s}  {paper}")
    return "\n".join(lines)


def recorded(notebook: str, folder=RECORDED) -> dict:
    """The metrics of the course's recorded full run of ``notebook`` (``benchmarks/results``), or ``{}``
    when there is none: for a notebook to print its numbers beside the recorded ones."""
    path = Path(folder) / f"{notebook}.json"
    return json.loads(path.read_text())["metrics"] if path.is_file() else {}


def load(folder) -> list[dict]:
    """Every record in ``folder``, sorted by notebook."""
    return [json.loads(p.read_text()) for p in sorted(Path(folder).glob("*.json"))]


def spread(values) -> str:
    """'mean ± sd' of per-seed values (sample sd, ddof 1; 0 for a single value), for the
    notebooks' over-seeds tables."""
    values = np.asarray(values, dtype=float)
    return f"{values.mean():6.2f} ± {values.std(ddof=1) if len(values) > 1 else 0:5.2f}"


def _fmt(value) -> str:
    if isinstance(value, str):
        return value
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:,.0f}"


def markdown_table(records: list[dict]) -> str:
    """Two markdown tables: one row per metric (with the paper's figure), then one row per run."""
    lines = [
        "| notebook | metric | this run | paper |",
        "| --- | --- | ---: | ---: |",
    ]
    for r in records:
        for name, value in r["metrics"].items():
            paper = r["paper"].get(name)
            lines.append(f"| {r['notebook']} | {name} | {_fmt(value)} | {'' if paper is None else _fmt(paper)} |")
    lines += ["", "| notebook | mode | device | machine | torch | date |", "| --- | --- | --- | --- | --- | --- |"]
    for r in records:
        lines.append(f"| {r['notebook']} | {r['mode']} | {r['device']} | {r['machine']} | {r['torch']} | {r['date']} |")
    return "\n".join(lines) + "\n"
