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
import re
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
# One run of several notebooks shares its models: a notebook that loads what an earlier one trained records its
# wall time in the run, and what it would take alone: that plus the training time of the models it loaded.
WALL_SHARED = "notebook wall time in this run, models of earlier notebooks loaded (s)"
WALL_ALONE = "notebook wall time alone, estimated: this run's plus the loaded models' training (s)"


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


def checkpoints_used(executed: Path) -> dict:
    """How many models and cached evaluations a notebook trained / computed and how many it loaded, from
    the lines ``train.train_or_load`` and ``compute_or_load`` print in its executed cells."""
    text = "\n".join("".join(output.get("text", "")) for cell in json.loads(executed.read_text())["cells"]
                     for output in cell.get("outputs", []) if output.get("output_type") == "stream")
    lines = text.splitlines()
    loaded = [re.search(r"\(trained in (\d+) s\)", line) for line in lines if line.startswith("Loaded ")]
    return {"trained": sum(line.startswith("Trained in ") for line in lines),
            "loaded": sum(m is not None for m in loaded),
            "loaded models' training (s)": sum(int(m.group(1)) for m in loaded if m is not None),
            "evaluations loaded": sum(line.startswith("Loaded ") and "(computed by" in line for line in lines)}


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
        # a run that reloads models trained before it started does not time their training: say so in the records
        reused = args.output is not None and any((Path(os.environ["COURSE_OUTPUT"]) / "checkpoints").glob("*.pt"))
        totals = {"trained": 0, "loaded": 0, "evaluations loaded": 0, "seconds": 0.0}
        for nb in notebooks:
            seconds = run(nb, out_dir, records, {"FAST": args.fast})
            record_path = records / f"{nb.stem}.json"
            if not record_path.is_file():
                print(f"{nb.stem} recorded no results (it must call results.record).", file=sys.stderr)
                return 1
            entry = json.loads(record_path.read_text())
            # models trained here, and loaded because an earlier notebook of this run trained them (shared cache)
            entry["checkpoints"] = used = checkpoints_used(out_dir / nb.name)
            if reused:
                entry["metrics"][WALL_REUSED] = round(seconds, 1)
            elif used["loaded"]:
                entry["metrics"][WALL_SHARED] = round(seconds, 1)
                entry["metrics"][WALL_ALONE] = round(seconds + used["loaded models' training (s)"], 1)
            else:
                entry["metrics"][WALL] = round(seconds, 1)
            record_path.write_text(json.dumps(entry, indent=2) + "\n")
            print(f"{nb.stem}: {seconds:.1f} s; models trained {entry['checkpoints']['trained']}, "
                  f"loaded {entry['checkpoints']['loaded']}")
            totals = {k: v + (seconds if k == "seconds" else used[k]) for k, v in totals.items()}
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                shutil.copy(out_dir / nb.name, args.keep / nb.name)
        print(f"this run: {totals['seconds']:.0f} s, models trained {totals['trained']}, loaded {totals['loaded']} "
              f"(each distinct model is trained once: the later notebooks load it)")
        target = Path(tmp) / "RESULTS.md" if args.fast else BENCH / "RESULTS.md"
        print(write_table(records, target))
    return 0


if __name__ == "__main__":
    sys.exit(main())
