"""Choosing a torch device: ``auto`` means cuda, then mps, then cpu."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import torch

CHOICES = ("auto", "cpu", "cuda", "cuda:N", "mps")


def _outside_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning point at the first caller outside course_utils
    (the notebook line that asked for the device), not at the library's own lines."""
    package = str(Path(__file__).resolve().parent)
    frame, level = sys._getframe(1), 1  # 1 = the function that calls warnings.warn
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def resolve(name: str | torch.device | None = "auto") -> torch.device:
    """Turn a device string into a ``torch.device`` that exists on this machine.

    ``auto`` (or None) picks cuda, then mps, then cpu. An explicit accelerator that is absent
    falls back to cpu with a warning, so a notebook written on a GPU machine still runs on a laptop.
    An unknown string raises ``ValueError`` listing the valid choices.
    """
    if isinstance(name, torch.device):
        name = str(name)
    name = "auto" if name is None else str(name).strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    kind, colon, index = name.partition(":")
    if colon and not index:
        raise ValueError(
            f"Device {name!r} has a ':' but no index. Use 'cuda' or 'cuda:0' "
            "(set DEVICE in the notebook's parameters cell)."
        )
    if kind not in ("cpu", "cuda", "mps") or (index and not index.isdigit()) or (index and kind != "cuda"):
        raise ValueError(
            f"Unknown device {name!r}. Use one of {', '.join(CHOICES)} "
            "(set DEVICE in the notebook's parameters cell)."
        )
    if kind == "cuda":
        if not torch.cuda.is_available():
            warnings.warn(
                f"DEVICE={name!r} was requested but CUDA is not available here; falling back to cpu. "
                "Set DEVICE = 'auto' to silence this, or install a CUDA build of torch on a GPU machine.",
                RuntimeWarning,
                stacklevel=_outside_stacklevel(),
            )
            return torch.device("cpu")
        if index and int(index) >= torch.cuda.device_count():
            raise ValueError(
                f"DEVICE={name!r} but only {torch.cuda.device_count()} CUDA device(s) exist; "
                "use 'cuda:0' or 'auto'."
            )
        return torch.device(name)
    if kind == "mps" and not _mps_available():
        warnings.warn(
            "DEVICE='mps' was requested but Apple's MPS backend is not available here; falling back to cpu.",
            RuntimeWarning,
            stacklevel=_outside_stacklevel(),
        )
        return torch.device("cpu")
    return torch.device(kind)


def describe(device: torch.device) -> str:
    """A short human description, e.g. ``cpu (2 threads)`` or ``cuda (NVIDIA A100)``."""
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        n = torch.get_num_threads()
        return f"cpu ({n} thread{'s' if n != 1 else ''})"
    return str(device)
