"""One call at the top of every notebook: mode, seed, device and folders.

    cfg = config.setup(fast=FAST, seed=SEED, device=DEVICE)
    n_steps = cfg.scale(full=5000, fast=200)

Environment variables (all optional):

- ``COURSE_FAST=1`` forces FAST mode whatever the notebook's parameter says (CI sets it);
  ``COURSE_FAST=0`` (or unset) leaves the choice to the notebook's ``FAST`` parameter.
  Only the spellings in ``TRUE_WORDS`` / ``FALSE_WORDS`` are accepted, here and for ``FAST``.
- ``COURSE_DATA`` is the data folder (default: ``~/.cache/dgm-course/data``).
- ``COURSE_OUTPUT`` is where checkpoints and results go (default: ``~/.cache/dgm-course/outputs``).
- ``COURSE_DETERMINISTIC=1`` asks torch for deterministic kernels only
  (``torch.use_deterministic_algorithms``; on a GPU: slower, and an operation without a
  deterministic version stops with torch's message). On a CPU the course is deterministic without it.
"""

from __future__ import annotations

import numbers
import os
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from course_utils import colours
from course_utils import device as device_lib

TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")
SEED_MAX = 2**32 - 1  # numpy's legacy seeding accepts 0 .. 2**32 - 1


def _cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dgm-course"


def data_dir() -> Path:
    """The data folder: ``$COURSE_DATA`` or a per-user default."""
    return Path(os.environ.get("COURSE_DATA") or _cache_home() / "data").expanduser()


def output_dir() -> Path:
    """The folder for checkpoints and recorded results: ``$COURSE_OUTPUT`` or a per-user default."""
    return Path(os.environ.get("COURSE_OUTPUT") or _cache_home() / "outputs").expanduser()


def pretrained_dir() -> Path | None:
    """A read-only folder of trained models and cached evaluations handed out by an instructor
    (``$COURSE_PRETRAINED``, made by ``tools/pack_pretrained.py``), or None. Checked before training;
    see ``train.find_pretrained``."""
    value = os.environ.get("COURSE_PRETRAINED", "").strip()
    return Path(value).expanduser() if value else None


def parse_flag(value, where: str) -> bool:
    """A yes / no setting: a bool, 0 / 1, or one of the known spellings (any case).

    Anything else raises ``ValueError`` that names ``where`` (the parameter or variable to fix),
    so that ``papermill -p FAST false`` (a string) or ``COURSE_FAST=2`` is never misread.
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise ValueError(
        f"{where} = {value!r} is not a yes / no value. Fix: use True or False "
        f"(or one of {', '.join(TRUE_WORDS + FALSE_WORDS)})."
    )


def env_flag(name: str, default: bool) -> bool:
    """``parse_flag`` of the environment variable ``name``; ``default`` when it is unset or empty."""
    raw = os.environ.get(name, "")
    if not raw.strip():
        return default
    return parse_flag(raw, f"the environment variable {name}")


def fast_from_env(default: bool = False) -> bool:
    """True when ``COURSE_FAST`` is set to a true value, else ``default``.

    ``default`` is the notebook's ``FAST`` parameter: it is checked too, so a typo there stops
    with a message naming the parameters cell.
    """
    notebook = parse_flag(default, "FAST (in the notebook's parameters cell)")
    return env_flag("COURSE_FAST", False) or notebook


def check_seed(seed) -> int:
    """``seed`` as an int in ``0 .. SEED_MAX``, or a message naming the parameters cell."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"SEED must be an integer, got {seed!r}. "
                        "Fix: set e.g. SEED = 0 in the notebook's parameters cell.")
    if not 0 <= seed <= SEED_MAX:
        raise ValueError(
            f"SEED = {seed} is out of range. Fix: use an integer from 0 to {SEED_MAX:,} "
            "in the notebook's parameters cell."
        )
    return int(seed)


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


def deterministic() -> None:
    """Deterministic kernels only, for bit-identical GPU runs (``COURSE_DETERMINISTIC=1``): cuDNN's
    autotuner off, ``torch.use_deterministic_algorithms(True)`` and the cuBLAS workspace setting
    it needs (read when cuBLAS starts, so before the first matrix product on the GPU)."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(True)


def seed_everything(seed: int) -> torch.Generator:
    """Seed python, numpy and torch (all devices); return a fresh CPU ``torch.Generator``."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    return torch.Generator().manual_seed(seed)


def setup(fast: bool = False, seed: int = 0, device: str = "auto", verbose: bool = True) -> RunConfig:
    """Seed everything, resolve the device and the folders, make matplotlib's colour cycle the Okabe-Ito
    palette (``colours.use_in_matplotlib``), print one line, return a ``RunConfig``.

    ``COURSE_FAST=1`` in the environment wins over ``fast``; ``device`` is ``auto``, ``cpu``,
    ``cuda``, ``cuda:N`` or ``mps`` (see ``course_utils.device.resolve``). A bad ``fast``,
    ``seed`` or ``device`` stops here, with a message naming the parameter to fix.
    """
    seed = check_seed(seed)
    if env_flag("COURSE_DETERMINISTIC", False):
        deterministic()
    cfg = RunConfig(
        fast=fast_from_env(fast),
        seed=seed,
        device=device_lib.resolve(device),
        generator=seed_everything(seed),
        data_dir=data_dir(),
        output_dir=output_dir(),
    )
    colours.use_in_matplotlib()  # the notebook's own plots in colours every reader can tell apart
    if verbose:
        print(cfg.describe())
    return cfg
