"""Training scaffolding every notebook reuses: a step loop with a progress bar and a divergence
guard, a metrics history, atomic checkpoints, and "load if trained before, else train and save".

The lesson (the model, the loss, the update) stays in the notebook, inside ``step_fn``:

    def step_fn(step):
        x, _ = train_set.sample(128, cfg.generator, cfg.device)
        loss = ...
        opt.zero_grad(); loss.backward(); opt.step()
        return {"loss": loss}

    history = train.fit(step_fn, n_steps=cfg.scale(5000, 200), progress=not cfg.fast)
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import torch
from tqdm.auto import tqdm

from course_utils import config


class DivergenceError(RuntimeError):
    """The loss became NaN / infinite (or exceeded a bound): training stopped."""


class CheckpointError(RuntimeError):
    """A checkpoint could not be read, or does not fit the model it is loaded into."""


class History:
    """Metrics logged during training, each with the step it was logged at.

    ``history["loss"]`` is a numpy array of values, ``history.steps["loss"]`` their steps.
    """

    def __init__(self) -> None:
        self.values: dict[str, list[float]] = {}
        self.steps: dict[str, list[int]] = {}
        self.seconds = 0.0

    def log(self, step: int, **metrics) -> None:
        for name, value in metrics.items():
            self.values.setdefault(name, []).append(float(value))
            self.steps.setdefault(name, []).append(int(step))

    def __getitem__(self, name: str) -> np.ndarray:
        return np.asarray(self.values[name])

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def keys(self):
        return self.values.keys()

    def last(self, name: str) -> float:
        return self.values[name][-1]

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.values.items())
        return f"History({last}; {self.seconds:.1f} s)"

    def state_dict(self) -> dict:
        """Plain lists and floats, so a checkpoint loads with ``weights_only=True``."""
        return {"values": self.values, "steps": self.steps, "seconds": self.seconds}

    @classmethod
    def from_state(cls, state: Mapping) -> "History":
        history = cls()
        history.values = {k: list(v) for k, v in state["values"].items()}
        history.steps = {k: list(v) for k, v in state["steps"].items()}
        history.seconds = float(state["seconds"])
        return history


def check_finite(metrics: Mapping[str, float], step: int, max_value: float | None = None) -> None:
    """Raise ``DivergenceError`` if a metric is NaN / inf, or above ``max_value`` (when given)."""
    for name, value in metrics.items():
        bad = not math.isfinite(value)
        if bad or (max_value is not None and abs(value) > max_value):
            what = f"is {value}" if bad else f"reached {value:.3g} (> {max_value:g})"
            raise DivergenceError(
                f"Training diverged: {name} {what} at step {step}. Fix: lower the learning rate "
                "(e.g. 10x), check that inputs are scaled to [0, 1], or clip gradients; then rerun."
            )


def _progress_default() -> bool:
    return not config.fast_from_env()


def fit(
    step_fn: Callable[[int], Mapping[str, float | torch.Tensor]],
    n_steps: int,
    *,
    log_every: int = 10,
    progress: bool | None = None,
    desc: str = "training",
    max_value: float | None = None,
    history: History | None = None,
) -> History:
    """Call ``step_fn(step)`` for ``step = 0 .. n_steps - 1`` and log what it returns.

    step_fn returns a dict of scalar metrics (floats or 0-d tensors). Every ``log_every`` steps
    (and at the last step) they are logged and checked for NaN / inf (``DivergenceError``);
    only then are tensors turned into floats, so a GPU is not synchronised at every step.
    ``progress`` shows a tqdm bar (default: on, off when ``COURSE_FAST=1``).
    """
    history = history if history is not None else History()
    show = _progress_default() if progress is None else progress
    start = time.perf_counter()
    with tqdm(total=n_steps, desc=desc, disable=not show, leave=False) as bar:
        for step in range(n_steps):
            metrics = step_fn(step)
            if step % log_every == 0 or step == n_steps - 1:
                values = {k: float(v.detach()) if isinstance(v, torch.Tensor) else float(v) for k, v in metrics.items()}
                check_finite(values, step, max_value)
                history.log(step, **values)
                bar.set_postfix({k: f"{v:.4g}" for k, v in values.items()}, refresh=False)
            bar.update(1)
    history.seconds += time.perf_counter() - start
    return history


# ---------------------------------------------------------------------------------------------
# Checkpoints


def save_checkpoint(path, state: Mapping) -> Path:
    """Write ``state`` (tensors, numbers, strings, lists, dicts) to ``path`` atomically.

    The file is written beside its destination and renamed into place, so an interrupted save
    never leaves a half-written checkpoint behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        torch.save(dict(state), tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load_checkpoint(path, map_location="cpu") -> dict:
    """Read a checkpoint with ``weights_only=True`` (no arbitrary code is unpickled)."""
    path = Path(path)
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as err:  # noqa: BLE001 - truncated file, foreign pickle, ...
        reason = (str(err).splitlines() or [type(err).__name__])[0][:200]
        raise CheckpointError(
            f"Cannot read checkpoint {path} ({reason}). Fix: delete it; it will be retrained."
        ) from err


def load_model(model: torch.nn.Module, state_dict: Mapping, source="checkpoint") -> None:
    """``model.load_state_dict`` with a message that names the checkpoint and the fix."""
    try:
        model.load_state_dict(state_dict)
    except RuntimeError as err:
        first = str(err).splitlines()[1:3]
        raise CheckpointError(
            f"{source} was saved from a different architecture than {type(model).__name__}: "
            f"{' '.join(s.strip() for s in first)} Fix: delete it (it will be retrained) "
            "or give this model its own checkpoint name."
        ) from err


def fingerprint(model: torch.nn.Module, settings: Mapping) -> str:
    """A short hash of the settings and of every parameter / buffer name and shape."""
    arch = [(k, list(v.shape)) for k, v in model.state_dict().items()]
    blob = json.dumps({"settings": settings, "arch": arch}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _plain(settings: Mapping) -> dict:
    """Settings as JSON types only (what ``weights_only=True`` may load)."""
    return json.loads(json.dumps(dict(settings), default=str))


def checkpoint_path(name: str, model: torch.nn.Module, settings: Mapping, folder=None) -> Path:
    """``<output>/checkpoints/<name>-<fingerprint>.pt``: one file per exact configuration."""
    folder = Path(folder) if folder is not None else config.output_dir() / "checkpoints"
    return folder / f"{name}-{fingerprint(model, settings)}.pt"


def compute_or_load(name: str, compute: Callable[[], dict], settings: Mapping, folder=None) -> dict:
    """``compute()``'s result, saved on the first call and read back on later calls with the same settings.

    For slow evaluations of a trained model (e.g. an importance-weighted test log-likelihood):
    ``settings`` holds the model's training settings plus the evaluation's own (samples, images,
    seed). The result is a dict of numbers, strings, lists and dicts, so it loads with
    ``weights_only=True``; it is written to ``<output>/checkpoints/<name>-<hash>.pt`` atomically.
    """
    folder = Path(folder) if folder is not None else config.output_dir() / "checkpoints"
    blob = json.dumps(_plain(settings), sort_keys=True)
    path = folder / f"{name}-{hashlib.sha256(blob.encode()).hexdigest()[:12]}.pt"
    if path.is_file():
        result = load_checkpoint(path)["result"]
        print(f"Loaded {path.name} (computed by an earlier run); delete it to compute again.")
        return result
    result = compute()
    save_checkpoint(path, {"result": result, "settings": _plain(settings)})
    return result


def train_or_load(
    name: str,
    model: torch.nn.Module,
    train_fn: Callable[[], History],
    settings: Mapping,
    folder=None,
) -> History:
    """Load ``model``'s weights if this exact configuration was trained before, else train and save.

    ``settings`` holds everything that changes the result (sizes, steps, learning rate, seed,
    FAST flag): change one and the model is trained again. ``train_fn()`` trains ``model`` in
    place and returns its ``History``; the history is saved and restored with the weights.
    """
    path = checkpoint_path(name, model, settings, folder)
    if path.is_file():
        state = load_checkpoint(path)
        load_model(model, state["model"], source=f"checkpoint {path}")
        history = History.from_state(state["history"])
        print(f"Loaded {path.name} (trained in {history.seconds:.0f} s); delete it to train again.")
        return history
    history = train_fn()
    model_state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    save_checkpoint(path, {"model": model_state, "history": history.state_dict(), "settings": _plain(settings)})
    print(f"Trained in {history.seconds:.0f} s; saved {path}.")
    return history
