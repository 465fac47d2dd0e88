"""Run every notebook in full mode with papermill and print / write the table of headline numbers.

    python tools/benchmark.py                      # all notebooks, full mode -> benchmarks/RESULTS.md
    python tools/benchmark.py --only 01_siamese    # one notebook; the others' rows are kept
    python tools/benchmark.py --fast               # dry run in FAST mode; writes nothing in benchmarks/
    python tools/benchmark.py --keep executed/     # also keep the executed notebooks, with their outputs

Checkpoints go to a fresh temporary folder, so every model is trained from scratch and timed.
Each notebook records its numbers with ``course_utils.results.record``; this script adds the
notebook's wall time, keeps one JSON per notebook in ``benchmarks/results/`` and rebuilds
``benchmarks/RESULTS.md`` from all of them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import papermill

from course_utils import results

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "solution"
BENCH = ROOT / "benchmarks"
WALL = "notebook wall time (s)"
WALL_REUSED = "notebook wall time, models reloaded from --output (s)"


def run(notebook: Path, out_dir: Path, records: Path, parameters: dict) -> float:
    """Execute one notebook with papermill and ``parameters``; return its wall time in seconds."""
    os.environ["COURSE_RESULTS"] = str(records)
    os.environ.pop("COURSE_FAST", None)  # the FAST parameter decides, not the caller's shell
    start = time.perf_counter()
    papermill.execute_notebook(
        str(notebook), str(out_dir / notebook.name), parameters=parameters,
        kernel_name="python3", cwd=str(out_dir), progress_bar=False,
    )
    return time.perf_counter() - start


def write_table(records_dir: Path, path: Path) -> str:
    table = results.markdown_table(results.load(records_dir))
    path.write_text(
        "# Benchmark results\n\n"
        "Written by `make benchmark` (`tools/benchmark.py`): every notebook run in full mode with papermill.\n"
        "Each row is a number the notebook measured and recorded in that run; `paper` is the published figure.\n\n"
        + table
    )
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="notebook stems to run (default: all)")
    parser.add_argument("--fast", action="store_true", help="FAST mode dry run; benchmarks/ is left alone")
    parser.add_argument("--keep", type=Path, help="folder to copy the executed notebooks (with outputs) into")
    parser.add_argument("--output", type=Path, help="keep the trained models and cached evaluations in this "
                        "COURSE_OUTPUT (e.g. to pack them for a class: tools/pack_pretrained.py) instead of a "
                        "temporary folder; models already there are reloaded, not retrained")
    args = parser.parse_args(argv)
    notebooks = sorted(BUILD.glob("[0-9][0-9]_*.ipynb"))
    if args.only:
        notebooks = [nb for nb in notebooks if nb.stem in args.only]
    if not notebooks:
        print(f"No notebooks to run in {BUILD} (run `make build`; --only {args.only}).", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        records = Path(tmp) / "records" if args.fast else BENCH / "results"
        records.mkdir(parents=True, exist_ok=True)
        out_dir = Path(tmp) / "executed"
        out_dir.mkdir()
        # no checkpoint reuse unless asked: train from scratch
        os.environ["COURSE_OUTPUT"] = str(args.output.expanduser().resolve() if args.output else Path(tmp) / "outputs")
        for nb in notebooks:
            # a run that reloads trained models does not time the training: say so in the record
            checkpoints = Path(os.environ["COURSE_OUTPUT"]) / "checkpoints"
            reused = args.output is not None and any(checkpoints.glob(f"{nb.stem[:2]}_*"))
            seconds = run(nb, out_dir, records, {"FAST": args.fast})
            record_path = records / f"{nb.stem}.json"
            if not record_path.is_file():
                print(f"{nb.stem} recorded no results (it must call results.record).", file=sys.stderr)
                return 1
            entry = json.loads(record_path.read_text())
            entry["metrics"][WALL_REUSED if reused else WALL] = round(seconds, 1)
            record_path.write_text(json.dumps(entry, indent=2) + "\n")
            print(f"{nb.stem}: {seconds:.1f} s")
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                shutil.copy(out_dir / nb.name, args.keep / nb.name)
        target = Path(tmp) / "RESULTS.md" if args.fast else BENCH / "RESULTS.md"
        print(write_table(records, target))
    return 0


if __name__ == "__main__":
    sys.exit(main())
