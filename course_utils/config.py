"""One call at the top of every notebook: mode, seed, device and folders.

    cfg = config.setup(fast=FAST, seed=SEED, device=DEVICE)
    n_steps = cfg.scale(full=5000, fast=200)

Environment variables (all optional):

- ``COURSE_FAST=1`` forces FAST mode whatever the notebook's parameter says (CI sets it).
- ``COURSE_DATA`` is the data folder (default: ``~/.cache/dgm-course/data``).
- ``COURSE_OUTPUT`` is where checkpoints and results go (default: ``~/.cache/dgm-course/outputs``).
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from course_utils import device as device_lib

_TRUE = {"1", "true", "yes", "on"}


def _cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dgm-course"


def data_dir() -> Path:
    """The data folder: ``$COURSE_DATA`` or a per-user default."""
    return Path(os.environ.get("COURSE_DATA") or _cache_home() / "data").expanduser()


def output_dir() -> Path:
    """The folder for checkpoints and recorded results: ``$COURSE_OUTPUT`` or a per-user default."""
    return Path(os.environ.get("COURSE_OUTPUT") or _cache_home() / "outputs").expanduser()


def fast_from_env(default: bool = False) -> bool:
    """True when ``COURSE_FAST`` is set to a true value, else ``default``."""
    return os.environ.get("COURSE_FAST", "").strip().lower() in _TRUE or bool(default)


@dataclass
class RunConfig:
    """What a notebook needs to know about this run."""

    fast: bool
    seed: int
    device: torch.device
    generator: torch.Generator = field(repr=False)
    data_dir: Path
    output_dir: Path

    @property
    def mode(self) -> str:
        return "FAST" if self.fast else "full"

    def scale(self, full, fast):
        """Pick the full-mode or the FAST-mode value of a size (steps, epochs, subset size...)."""
        return fast if self.fast else full

    def describe(self) -> str:
        return f"device: {device_lib.describe(self.device)} | seed: {self.seed} | mode: {self.mode}"


def seed_everything(seed: int) -> torch.Generator:
    """Seed python, numpy and torch (all devices); return a fresh CPU ``torch.Generator``."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    return torch.Generator().manual_seed(seed)


def setup(fast: bool = False, seed: int = 0, device: str = "auto", verbose: bool = True) -> RunConfig:
    """Seed everything, resolve the device and the folders, print one line, return a ``RunConfig``.

    ``COURSE_FAST=1`` in the environment wins over ``fast``; ``device`` is ``auto``, ``cpu``,
    ``cuda``, ``cuda:N`` or ``mps`` (see ``course_utils.device.resolve``).
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {seed!r}")
    cfg = RunConfig(
        fast=fast_from_env(fast),
        seed=seed,
        device=device_lib.resolve(device),
        generator=seed_everything(seed),
        data_dir=data_dir(),
        output_dir=output_dir(),
    )
    if verbose:
        print(cfg.describe())
    return cfg
