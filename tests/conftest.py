"""Shared fixtures. Real-data tests read the data folder (``COURSE_DATA``), like the notebooks."""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))


@pytest.fixture(autouse=True)
def no_pretrained_models(monkeypatch):
    """A class's COURSE_PRETRAINED folder never stands in for the training a test checks."""
    monkeypatch.delenv("COURSE_PRETRAINED", raising=False)


@pytest.fixture(scope="session")
def data_root() -> Path:
    from course_utils import config

    return config.data_dir()


@pytest.fixture()
def isolated_env(monkeypatch, tmp_path):
    """Outputs and results go to a temporary folder; downloads are off."""
    monkeypatch.setenv("COURSE_OUTPUT", str(tmp_path / "outputs"))
    monkeypatch.setenv("COURSE_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("COURSE_DOWNLOAD", "0")
    return tmp_path
