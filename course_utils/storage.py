"""Writing files so that nothing is lost: atomic writes, a writability check before long work,
and the clean-up of temporary files that an interrupted write left behind.

    storage.check_writable(folder, "COURSE_OUTPUT")     # before a 12-minute training run
    storage.atomic_write(path, lambda f: torch.save(state, f))

An atomic write goes to ``.NAME.tmp<PID>`` beside its destination, is flushed to the disk
(``fsync``) and only then renamed over the destination: a crash, a full disk or a power cut
leaves either the old file or the new one, never a half-written or empty one.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import BinaryIO, Callable

# ``.NAME.tmp<PID>`` (this module), and the older ``NAME.tmp<PID>`` / ``.tmp<PID>.npz`` forms
_TEMPORARY = re.compile(r"\.tmp(\d+)(\.npz)?$")
STALE_AFTER_S = 24 * 3600  # where a process cannot be asked whether it still runs


class NotWritableError(PermissionError):
    """A folder the course must write to (outputs, results, workspace) cannot be written."""


def check_writable(folder, setting: str) -> Path:
    """Create ``folder`` if needed and prove that a file can be written there; return it.

    Raises ``NotWritableError`` naming the folder and the environment variable that moves it,
    so a long computation never starts when its result could not be saved.
    """
    folder = Path(folder)
    probe = folder / f".write-test{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise NotWritableError(
            f"Cannot write to {folder} ({reason}). Fix: set {setting} to a folder you can write to "
            f"(e.g. `export {setting}=$HOME/dgm-course-outputs` before starting Jupyter, or "
            f"os.environ['{setting}'] = ... before config.setup), or make this folder writable; then rerun."
        ) from err
    return folder


def _process_gone(pid: int) -> bool:
    if os.name != "posix":
        return False  # os.kill(pid, 0) would terminate the process on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # exists, owned by someone else
    return False


def remove_stale_temporaries(folder) -> list[Path]:
    """Delete temporary files in ``folder`` left by interrupted writes; return what was removed.

    A temporary file is stale when the process that wrote it (the PID in its name) no longer
    runs, or, where that cannot be asked, when it is older than a day. A write in progress in
    another live process is never touched.
    """
    removed = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    now = time.time()
    for path in entries:
        match = _TEMPORARY.search(path.name)
        if not match or not path.is_file():
            continue
        pid = int(match.group(1))
        try:
            old = now - path.stat().st_mtime > STALE_AFTER_S
            if pid != os.getpid() and (_process_gone(pid) or old):
                path.unlink()
                removed.append(path)
        except OSError:
            pass  # gone already, or not ours to remove
    return removed


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path, write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(f)`` on a temporary file beside ``path``, fsync it, rename it to ``path``.

    Stale temporaries of earlier interrupted writes in the same folder are removed first.
    If ``write`` fails (or is interrupted) the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_folder(path.parent)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def atomic_write_text(path, text: str) -> Path:
    """``atomic_write`` for a text file (UTF-8)."""
    return atomic_write(path, lambda f: f.write(text.encode("utf-8")))
