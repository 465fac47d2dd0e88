"""Copy the student notebooks into the workspace folder that JupyterLab opens (``make lab``).

    python tools/workspace.py [--build build/student] [--workspace workspace]

- a notebook not yet in the workspace is copied;
- one the student has not touched since it was copied is refreshed when the course changed it;
- one the student has edited (or executed: outputs count as edits) is never overwritten.

``workspace/.course-manifest.json`` remembers the hash of each copy this script wrote.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ".course-manifest.json"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sync(build: Path, workspace: Path) -> dict[str, list[str]]:
    """Bring ``workspace`` up to date with ``build``; return what was ``added``, ``updated``, ``kept``."""
    workspace.mkdir(parents=True, exist_ok=True)
    manifest_path = workspace / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    report = {"added": [], "updated": [], "kept": [], "current": []}
    notebooks = sorted(build.glob("*.ipynb"))
    if not notebooks:
        raise SystemExit(f"No student notebooks in {build}: run `make build` first.")
    for src in notebooks:
        dest = workspace / src.name
        new = _digest(src)
        if not dest.exists():
            action = "added"
        elif _digest(dest) != manifest.get(src.name):
            report["kept"].append(src.name)  # edited by the student: theirs wins
            continue
        elif new == manifest.get(src.name):
            report["current"].append(src.name)
            continue
        else:
            action = "updated"
        tmp = dest.with_name(f".{dest.name}.tmp")
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
        manifest[src.name] = new
        report[action].append(src.name)
    tmp = manifest_path.with_name(MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, manifest_path)
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, default=ROOT / "build" / "student")
    parser.add_argument("--workspace", type=Path, default=ROOT / "workspace")
    args = parser.parse_args(argv)
    report = sync(args.build, args.workspace)
    for action in ("added", "updated"):
        if report[action]:
            print(f"{action}: {', '.join(report[action])}")
    for name in report["kept"]:
        print(f"kept your edited {name} (the course's current version is {args.build / name})")
    print(f"workspace: {args.workspace}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
