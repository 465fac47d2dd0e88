"""storage: atomic writes, the writability check, and the clean-up of interrupted writes."""

import os
import time

import pytest

from course_utils import storage


def test_atomic_write_replaces_whole_or_not_at_all(tmp_path):
    path = tmp_path / "sub" / "f.txt"
    storage.atomic_write_text(path, "first")
    assert path.read_text() == "first"

    def half_then_fail(f):
        f.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        storage.atomic_write(path, half_then_fail)
    assert path.read_text() == "first"
    assert [p.name for p in path.parent.iterdir()] == ["f.txt"]


def test_check_writable_creates_the_folder_and_leaves_nothing(tmp_path):
    folder = storage.check_writable(tmp_path / "a" / "b", "COURSE_OUTPUT")
    assert folder.is_dir() and list(folder.iterdir()) == []


def test_check_writable_names_folder_and_setting(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(storage.NotWritableError, match=r"Cannot write to .*/f/x .*set COURSE_RESULTS to a folder"):
        storage.check_writable(tmp_path / "f" / "x", "COURSE_RESULTS")
    assert issubclass(storage.NotWritableError, PermissionError)


def test_old_temporaries_go_even_when_their_process_cannot_be_asked(tmp_path, monkeypatch):
    monkeypatch.setattr(storage, "_process_gone", lambda pid: False)  # e.g. Windows
    old, new = tmp_path / f".a.pt.tmp{os.getppid()}", tmp_path / f".b.pt.tmp{os.getppid()}"
    old.write_bytes(b"")
    new.write_bytes(b"")
    day_ago = time.time() - storage.STALE_AFTER_S - 60
    os.utime(old, (day_ago, day_ago))
    unrelated = tmp_path / "notes.tmp"  # no PID: never ours
    unrelated.write_text("keep")
    assert storage.remove_stale_temporaries(tmp_path) == [old]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([new.name, "notes.tmp"])


def test_own_temporary_is_never_removed(tmp_path):
    mine = tmp_path / f".a.pt.tmp{os.getpid()}"
    mine.write_bytes(b"")
    assert storage.remove_stale_temporaries(tmp_path) == [] and mine.exists()
    assert storage.remove_stale_temporaries(tmp_path / "missing") == []
