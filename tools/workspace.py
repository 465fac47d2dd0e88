"""Copy the student notebooks into the workspace folder that JupyterLab opens (``make lab``).

    python tools/workspace.py [--build build/student] [--workspace workspace]

- a notebook not yet in the workspace is copied;
- one the student has not touched since it was copied is refreshed when the course changed it;
- one the student has edited (or executed: outputs count as edits) is never overwritten.

``workspace/.course-manifest.json`` remembers the hash of each copy this script wrote. If it is
lost or damaged, a copy identical to the current build counts as untouched (and is recorded
again); any other copy counts as the student's, and is kept.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ".course-manifest.json"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    """Write beside ``path``, fsync, rename: never a half-written notebook or manifest."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_manifest(path: Path) -> dict[str, str]:
    """The manifest (notebook name -> hash of the copy we wrote); ``{}`` if missing or damaged."""
    if not path.is_file():
        return {}
    try:
        manifest = json.loads(path.read_text())
        if not isinstance(manifest, dict) or not all(isinstance(v, str) for v in manifest.values()):
            raise ValueError("not a name -> hash mapping")
    except (ValueError, UnicodeDecodeError) as err:
        print(f"warning: {path} is damaged ({type(err).__name__}); rebuilding it. Notebooks identical to "
              "the course's build are refreshed as usual; every other one is kept as yours.", file=sys.stderr)
        return {}
    return manifest


def sync(build: Path, workspace: Path) -> dict[str, list[str]]:
    """Bring ``workspace`` up to date with ``build``; return what was ``added``, ``updated``, ``kept``."""
    workspace.mkdir(parents=True, exist_ok=True)
    manifest_path = workspace / MANIFEST
    manifest = read_manifest(manifest_path)
    report = {"added": [], "updated": [], "kept": [], "current": []}
    notebooks = sorted(build.glob("*.ipynb"))
    if not notebooks:
        raise SystemExit(f"No student notebooks in {build}: run `make build` first.")
    for src in notebooks:
        dest = workspace / src.name
        new = _digest(src)
        if not dest.exists():
            action = "added"
        elif _digest(dest) == new:  # identical to the build: untouched, whatever the manifest says
            manifest[src.name] = new
            report["current"].append(src.name)
            continue
        elif _digest(dest) != manifest.get(src.name):
            report["kept"].append(src.name)  # edited by the student: theirs wins
            continue
        elif new == manifest.get(src.name):
            report["current"].append(src.name)
            continue
        else:
            action = "updated"
        _write_atomically(dest, src.read_bytes())
        manifest[src.name] = new
        report[action].append(src.name)
    _write_atomically(manifest_path, (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())
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
