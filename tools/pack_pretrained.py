"""Pack an instructor's trained models and cached evaluations for a class: COURSE_PRETRAINED.

    COURSE_OUTPUT=~/course-run make benchmark            # or run the notebooks in full mode, once
    python tools/pack_pretrained.py ~/course-run/checkpoints class-models     # a folder ...
    python tools/pack_pretrained.py ~/course-run/checkpoints class-models.tar.gz   # ... or an archive

Students unpack the folder (``tar xzf class-models.tar.gz``) and set
``COURSE_PRETRAINED=/path/to/class-models``: every notebook then loads a model trained with exactly
its settings (the file names carry the settings' fingerprint) instead of training it, after checking
the file against ``MANIFEST.json`` (SHA-256). Snapshots of unfinished runs are left out; the folder
is only ever read.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from course_utils import train  # noqa: E402 (the repository's library, also when not installed)


def pack(checkpoints: Path, target: Path) -> Path:
    """Copy every finished checkpoint of ``checkpoints`` into the folder ``target`` with a manifest
    (or, for a target ending in .tar.gz, into that archive); return the target."""
    files = sorted(p for p in Path(checkpoints).glob("*.pt") if not p.name.endswith(".resume.pt"))
    if not files:
        raise SystemExit(f"no checkpoints in {checkpoints}: run the notebooks in full mode first")
    if target.name.endswith(".tar.gz"):
        with tempfile.TemporaryDirectory() as tmp:
            folder = pack(checkpoints, Path(tmp) / target.name[: -len(".tar.gz")])
            with tarfile.open(target, "w:gz") as tar:
                tar.add(folder, arcname=folder.name)
        return target
    target.mkdir(parents=True, exist_ok=True)
    manifest = {}
    for path in files:
        shutil.copy2(path, target / path.name)
        manifest[path.name] = train.sha256(target / path.name)
    (target / train.MANIFEST).write_text(json.dumps({"files": manifest}, indent=1, sort_keys=True) + "\n")
    return target


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", type=Path,
                        help="the checkpoints folder of a full run (COURSE_OUTPUT/checkpoints)")
    parser.add_argument("target", type=Path, help="a folder, or an archive ending in .tar.gz")
    args = parser.parse_args(argv)
    out = pack(args.checkpoints, args.target)
    print(f"packed into {out}; students set COURSE_PRETRAINED to the unpacked folder")
    return 0


if __name__ == "__main__":
    sys.exit(main())
