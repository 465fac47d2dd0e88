"""Training scaffolding every notebook reuses: a step loop with a progress bar and a divergence
guard, a metrics history, atomic checkpoints, and "load if trained before, else train and save".

The lesson (the model, the loss, the update) stays in the notebook, inside ``step_fn``:

    def step_fn(step):
        x, _ = train_set.sample(128, cfg.generator, cfg.device)
        loss = ...
        opt.zero_grad(); loss.backward(); opt.step()
        return {"loss": loss}

    history = train.fit(step_fn, n_steps=cfg.scale(5000, 200), progress=not cfg.fast)

GANs are the exception after notebook 04 teaches their loop: ``adversarial.train_gan`` holds that
update rule once, and runs it through ``fit``.
"""

from __future__ import annotations

import contextvars
import hashlib
import io
import json
import math
import os
import pickle
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping

import numpy as np
import torch
from tqdm.auto import tqdm

from course_utils import config, storage


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


def _scalar_metrics(metrics, step: int) -> dict[str, float]:
    """``step_fn``'s dict as floats, or a message saying what it must return."""
    if not isinstance(metrics, Mapping):
        raise TypeError(
            f"step_fn returned {type(metrics).__name__} at step {step}; it must return a dict of "
            'scalar metrics. Fix: end step_fn with e.g. `return {"loss": loss}`.'
        )
    values = {}
    for name, value in metrics.items():
        try:
            values[name] = float(value.detach()) if isinstance(value, torch.Tensor) else float(value)
        except (TypeError, ValueError, RuntimeError) as err:
            shape = f" of shape {tuple(value.shape)}" if hasattr(value, "shape") else ""
            raise TypeError(
                f"step_fn's metric {name!r} is a {type(value).__name__}{shape} at step {step}, not one number. "
                "Fix: return a scalar, e.g. loss.mean() or loss.item()."
            ) from err
    return values


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
    optimizers: Iterable[torch.optim.Optimizer] = (),
    schedulers: Iterable = (),
    generators: Iterable[torch.Generator] = (),
    stop: Callable[[int], bool] | None = None,
) -> History:
    """Call ``step_fn(step)`` for ``step = 0 .. n_steps - 1`` and log what it returns.

    step_fn returns a dict of scalar metrics (floats or 0-d tensors). Every ``log_every`` steps
    (and at the last step) they are logged and checked for NaN / inf (``DivergenceError``);
    only then are tensors turned into floats, so a GPU is not synchronised at every step.
    ``progress`` shows a tqdm bar (default: on, off when ``COURSE_FAST=1``). ``stop(step)``, if
    given, is asked after each step: True ends training there (e.g. a time budget), that step logged.

    Inside ``train_or_load``, a long run that passes its ``optimizers`` is resumable: every
    ``snapshot_seconds()`` (3 minutes) the model, ``optimizers``, ``schedulers``, every random
    state (``generators`` included), the step and the history are saved beside the checkpoint, and
    a rerun after an interruption continues from there, bit-identical to an uninterrupted run. For
    that, everything step_fn changes from step to step must live in those: the model trained by
    ``train_or_load`` (EMA copies and buffers included), the optimisers, the schedulers and the
    generators. A fit that passes no optimiser writes no snapshot (its rerun starts over) and says so
    once, when its first snapshot would have been due.
    """
    if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 0:
        raise ValueError(f"n_steps must be a whole number >= 0, got {n_steps!r}.")
    if isinstance(log_every, bool) or not isinstance(log_every, int) or log_every < 1:
        raise ValueError(f"log_every must be a whole number >= 1 (log every that many steps), got {log_every!r}.")
    history = history if history is not None else History()
    show = _progress_default() if progress is None else progress
    state = _FitState(list(optimizers), list(schedulers), list(generators))
    active = ACTIVE_RUN.get()  # the train_or_load call this fit runs inside, if any
    index = active.begin_fit() if active is not None else None
    # only a fit that names its optimisers can be resumed exactly; any other restarts from scratch
    run = active if state.optimizers else None
    unresumable = active is not None and run is None
    first = run.resume(index, state, history) if run is not None else 0
    start = began = time.perf_counter()
    with tqdm(total=n_steps, initial=first, desc=desc, disable=not show, leave=False) as bar:
        for step in range(first, n_steps):
            metrics = step_fn(step)
            last = step == n_steps - 1 or (stop is not None and stop(step))
            if step % log_every == 0 or last:
                values = _scalar_metrics(metrics, step)
                check_finite(values, step, max_value)
                history.log(step, **values)
                bar.set_postfix({k: f"{v:.4g}" for k, v in values.items()}, refresh=False)
            bar.update(1)
            if last:
                break
            if run is not None and run.due():
                history.seconds += time.perf_counter() - start
                start = time.perf_counter()
                run.snapshot(index, step + 1, state, history)
            elif unresumable and time.perf_counter() - began >= active.every:
                unresumable = False  # said once
                print(f"{desc}: no snapshot written, so a stopped run starts over: this loop passes no optimizers= "
                      "to train.fit. Fix: pass optimizers=, schedulers= and generators= (everything the step "
                      "changes besides the model).")
    history.seconds += time.perf_counter() - start
    return history


# ---------------------------------------------------------------------------------------------
# Checkpoints


def save_checkpoint(path, state: Mapping) -> Path:
    """Write ``state`` (tensors, numbers, strings, lists, dicts) to ``path`` atomically.

    The file is written beside its destination, flushed to the disk and renamed into place
    (``storage.atomic_write``), so an interrupted save or a power cut never leaves a
    half-written checkpoint behind.
    """
    return storage.atomic_write(path, lambda f: torch.save(dict(state), f))


def load_checkpoint(path, map_location="cpu") -> dict:
    """Read a checkpoint with ``weights_only=True`` (no arbitrary code is unpickled)."""
    path = Path(path)
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise
    except pickle.UnpicklingError as err:
        # torch's own message advises weights_only=False: the one thing never to do with a file
        # of unknown origin, so it is not quoted here.
        raise CheckpointError(
            f"Cannot read checkpoint {path}: it holds Python objects that a safe load refuses "
            "(it was not written by course_utils). Fix: delete it; it will be retrained."
        ) from err
    except Exception as err:  # noqa: BLE001 - truncated file, garbage, ...
        reason = (str(err).splitlines() or [type(err).__name__])[0][:200]
        raise CheckpointError(
            f"Cannot read checkpoint {path} ({reason}). Fix: delete it; it will be retrained."
        ) from err


def _entry(state: Mapping, key: str, path: Path):
    """``state[key]``, or a message saying the file is not a checkpoint of this kind."""
    if not isinstance(state, Mapping) or key not in state:
        raise CheckpointError(
            f"{path} has no {key!r} entry: it was not written by course_utils.train. "
            "Fix: delete it; it will be computed again."
        )
    return state[key]


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


def seeded(seed: int, make: Callable[[], torch.nn.Module]) -> torch.nn.Module:
    """``make()`` run with torch's global random state seeded by ``seed`` and put back afterwards:
    a model built this way starts from the same weights whatever ran (or was loaded from the
    cache) before it, and building it changes no later draw."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return make()


def fingerprint(model: torch.nn.Module, settings: Mapping) -> str:
    """A short hash of the settings and of every parameter / buffer name and shape."""
    arch = [(k, list(v.shape)) for k, v in model.state_dict().items()]
    blob = json.dumps({"settings": settings, "arch": arch}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _plain(settings: Mapping) -> dict:
    """Settings as JSON types only (what ``weights_only=True`` may load)."""
    return json.loads(json.dumps(dict(settings), default=str))


def plain_result(value, where: str = "result"):
    """``value`` with numpy scalars and arrays and 0-d tensors turned into Python numbers and lists.

    What comes back loads with ``weights_only=True``: None, bool, int, float, str, tensors, and
    lists, tuples and dicts of them. Anything else raises ``TypeError`` naming where it sits.
    """
    if isinstance(value, np.generic):  # first: np.float64 is also a Python float
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        return value.item() if value.dim() == 0 else value.contiguous()
    if isinstance(value, Mapping):
        return {plain_result(k, f"a key of {where}"): plain_result(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [plain_result(v, f"{where}[{i}]") for i, v in enumerate(value)]
        return items if isinstance(value, list) else tuple(items)
    raise TypeError(
        f"{where} is a {type(value).__name__}, which cannot be stored and safely reloaded. "
        "Fix: return numbers, strings, tensors, and lists / dicts of them (e.g. float(x), x.tolist())."
    )


def _round_trip(state: Mapping):
    """``state`` as ``torch.load(weights_only=True)`` will give it back (proves it reloads)."""
    buffer = io.BytesIO()
    torch.save(dict(state), buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def _output_folder(folder) -> Path:
    return Path(folder) if folder is not None else config.output_dir() / "checkpoints"


MANIFEST = "MANIFEST.json"  # in a pretrained folder: file name -> SHA-256 of its bytes


def sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def find_pretrained(filename: str, folder=None) -> Path | None:
    """``filename`` (a checkpoint or cached evaluation, named by its settings' fingerprint) in the
    pretrained folder (``folder`` or ``$COURSE_PRETRAINED``), checked against the folder's manifest;
    None when there is no such folder or file. A file whose SHA-256 differs from the manifest's, or
    that the manifest does not list, stops with a message: a class never trusts a damaged copy."""
    folder = Path(folder) if folder is not None else config.pretrained_dir()
    if folder is None:
        return None
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise CheckpointError(f"COURSE_PRETRAINED={folder} has no {MANIFEST}: it was not made by "
                              "tools/pack_pretrained.py. Fix: unpack the archive your instructor gave you "
                              "there, or unset COURSE_PRETRAINED.")
    path = folder / filename
    if not path.is_file():
        return None
    try:
        expected = json.loads(manifest_path.read_text())["files"].get(filename)
    except (ValueError, KeyError, AttributeError) as err:
        raise CheckpointError(f"{manifest_path} is damaged ({err!r}). Fix: unpack the archive again.") from err
    if expected is None or sha256(path) != expected:
        why = "is not listed in" if expected is None else "does not match its checksum in"
        raise CheckpointError(f"{path} {why} {MANIFEST}: the copy is damaged or was added by hand. "
                              "Fix: unpack the archive again, or unset COURSE_PRETRAINED to train here.")
    return path


def checkpoint_path(name: str, model: torch.nn.Module, settings: Mapping, folder=None) -> Path:
    """``<output>/checkpoints/<name>-<fingerprint>.pt``: one file per exact configuration."""
    return _output_folder(folder) / f"{name}-{fingerprint(model, settings)}.pt"


def compute_or_load(name: str, compute: Callable[[], dict], settings: Mapping, folder=None,
                    verbose: bool = True) -> dict:
    """``compute()``'s result, saved on the first call and read back on later calls with the same settings.

    For slow evaluations of a trained model (e.g. an importance-weighted test log-likelihood):
    ``settings`` holds the model's training settings plus the evaluation's own (samples, images,
    seed). The result is stored as plain values (``plain_result``: numpy and 0-d torch scalars
    become Python numbers), checked to reload with ``weights_only=True``, and written to
    ``<output>/checkpoints/<name>-<hash>.pt`` atomically. The first call returns exactly what
    later calls will load. The folder is checked for writing before ``compute()`` starts.
    verbose=False: no line when loading (for results loaded many times per notebook, e.g. scores).
    """
    folder = _output_folder(folder)
    blob = json.dumps(_plain(settings), sort_keys=True)
    path = folder / f"{name}-{hashlib.sha256(blob.encode()).hexdigest()[:12]}.pt"
    if not path.is_file():
        path = find_pretrained(path.name) or path
    if path.is_file():
        result = _entry(load_checkpoint(path), "result", path)
        if verbose:
            print(f"Loaded {path.name} (computed by an earlier run); delete it to compute again.")
        return result
    storage.check_writable(folder, "COURSE_OUTPUT")
    state = _round_trip({"result": plain_result(compute()), "settings": _plain(settings)})
    save_checkpoint(path, state)
    return state["result"]


# ---------------------------------------------------------------------------------------------
# Train or load: an interrupted run leaves the model as it found it


def _random_states(generators: Iterable[torch.Generator]) -> dict:
    """Every random state a training run may advance: Python, numpy, torch (CPU, CUDA, MPS)."""
    states = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
        "generators": [(g, g.get_state()) for g in generators],
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    mps = getattr(torch, "mps", None)
    if mps is not None and getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        states["mps"] = mps.get_rng_state()
    return states


def _restore_random_states(states: dict) -> None:
    random.setstate(states["python"])
    np.random.set_state(states["numpy"])
    torch.set_rng_state(states["torch"])
    for g, state in states["generators"]:
        g.set_state(state)
    if "cuda" in states:
        torch.cuda.set_rng_state_all(states["cuda"])
    if "mps" in states:
        torch.mps.set_rng_state(states["mps"])


def _plain_random_states(states: dict) -> dict:
    """``_random_states`` with what ``weights_only=True`` refuses (numpy arrays, generator objects)
    turned into tensors and lists; the generators' states keep their order."""
    name, keys, pos, has_gauss, cached = states["numpy"]
    python = states["python"]
    plain = {"python": [python[0], list(python[1]), python[2]],
             "numpy": [name, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached],
             "torch": states["torch"], "generators": [state for _, state in states["generators"]]}
    plain.update({k: states[k] for k in ("cuda", "mps") if k in states})
    return plain


def _restore_plain_random_states(plain: dict, generators: list[torch.Generator]) -> None:
    if len(plain["generators"]) != len(generators):
        raise CheckpointError(f"the snapshot holds {len(plain['generators'])} generators, "
                              f"the run has {len(generators)}")
    name, keys, pos, has_gauss, cached = plain["numpy"]
    python = plain["python"]
    _restore_random_states({"python": (python[0], tuple(python[1]), python[2]),
                            "numpy": (name, keys.numpy().astype(np.uint32), pos, has_gauss, cached),
                            "torch": plain["torch"], "generators": list(zip(generators, plain["generators"])),
                            **{k: plain[k] for k in ("cuda", "mps") if k in plain}})


def _undo_training(model: torch.nn.Module, initial: Mapping, modes: list[bool], randomness: dict) -> None:
    """Put the model's weights, buffers and modes, and every random state, back as they were."""
    with torch.no_grad():
        model.load_state_dict(initial)
    for module, training in zip(model.modules(), modes):
        module.training = training
    _restore_random_states(randomness)


# ---------------------------------------------------------------------------------------------
# Snapshots: a long run that is stopped continues where it was

SNAPSHOT_SECONDS = 180.0


def snapshot_seconds() -> float:
    """How often a run inside ``train_or_load`` writes its snapshot, in seconds of training:
    ``COURSE_SNAPSHOT_SECONDS`` if set (0: after every step), else 180."""
    value = os.environ.get("COURSE_SNAPSHOT_SECONDS", "")
    if value == "":
        return SNAPSHOT_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"COURSE_SNAPSHOT_SECONDS must be a number of seconds >= 0, got {value!r}. "
                         "Fix: set it to e.g. 180, or unset it.")
    return seconds


@dataclass
class _FitState:
    """What a ``fit`` call's step function advances besides the model."""

    optimizers: list
    schedulers: list
    generators: list


class _Run:
    """The run ``train_or_load`` has in progress: its snapshot file, and the snapshot to resume from.

    ``fit`` calls ``begin_fit`` (train_fn may call fit more than once: each call has an index),
    ``resume`` (restores the snapshot if it belongs to this fit call), ``due`` and ``snapshot``."""

    def __init__(self, path: Path, model: torch.nn.Module, settings: Mapping, generators: Iterable[torch.Generator]):
        self.path, self.model, self.settings = path, model, _plain(settings)
        self.generators = list(generators)
        self.fits, self.saved = 0, None  # saved: the step of the snapshot on disk
        self.every, self.last = snapshot_seconds(), time.perf_counter()
        self.pending = self._read()

    def _read(self) -> dict | None:
        if not self.path.is_file():
            return None
        try:
            state = load_checkpoint(self.path)
        except CheckpointError as err:
            print(f"Ignoring the snapshot {self.path.name} ({str(err).split('. Fix')[0]}); training from the start.")
            return None
        if not isinstance(state, Mapping) or state.get("settings") != self.settings:
            print(f"Ignoring the snapshot {self.path.name}: it was made with other settings; training from the start.")
            return None
        return state

    def begin_fit(self) -> int:
        self.fits += 1
        return self.fits - 1

    def resume(self, index: int, fit_state: _FitState, history: History) -> int:
        """Restore the snapshot if it was taken in fit call ``index``; returns the step to start at."""
        snap = self.pending
        if snap is None or snap["fit"] != index:
            return 0
        self.pending = None
        if (len(snap["optimizers"]), len(snap["schedulers"])) != (len(fit_state.optimizers), len(fit_state.schedulers)):
            raise CheckpointError(f"The snapshot {self.path} does not fit this run's optimisers and schedulers. "
                                  "Fix: delete it; training starts from the beginning.")
        load_model(self.model, snap["model"], source=f"snapshot {self.path}")
        for module, training in zip(self.model.modules(), snap["modes"]):
            module.training = training
        for optimizer, state in zip(fit_state.optimizers, snap["optimizers"]):
            optimizer.load_state_dict(state)
        for scheduler, state in zip(fit_state.schedulers, snap["schedulers"]):
            scheduler.load_state_dict(state)
        _restore_plain_random_states(snap["random"], self.generators + fit_state.generators)
        restored = History.from_state(snap["history"])
        history.values, history.steps, history.seconds = restored.values, restored.steps, restored.seconds
        print(f"Resumed from the snapshot {self.path.name} at step {snap['step']} "
              f"({restored.seconds:.0f} s of training already done).")
        self.saved, self.last = snap["step"], time.perf_counter()
        return snap["step"]

    def due(self) -> bool:
        return time.perf_counter() - self.last >= self.every

    def snapshot(self, index: int, step: int, fit_state: _FitState, history: History) -> None:
        """Save the run as it stands after ``step`` steps of fit call ``index`` (atomically)."""
        if self.pending is not None and self.pending["fit"] > index:
            return  # a later fit call's snapshot is still waiting to be resumed: keep it
        state = {
            "settings": self.settings, "fit": index, "step": step,
            "model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "modes": [m.training for m in self.model.modules()],
            "optimizers": [o.state_dict() for o in fit_state.optimizers],
            "schedulers": [s.state_dict() for s in fit_state.schedulers],
            "random": _plain_random_states(_random_states(self.generators + fit_state.generators)),
            "history": history.state_dict(),
        }
        save_checkpoint(self.path, state)
        self.saved, self.last = step, time.perf_counter()


# The run train_or_load has in progress, for the fit calls its train_fn makes: a context variable (set
# and reset around train_fn, like decimal's context), so a fit outside train_or_load, or in another
# thread, sees None.
ACTIVE_RUN: contextvars.ContextVar[_Run | None] = contextvars.ContextVar("course_active_run", default=None)


def snapshot_path(checkpoint: Path) -> Path:
    """Where the snapshot of a run that will be saved to ``checkpoint`` lives: beside it."""
    return checkpoint.with_name(checkpoint.stem + ".resume.pt")


def train_or_load(
    name: str,
    model: torch.nn.Module,
    train_fn: Callable[[], History],
    settings: Mapping,
    folder=None,
    generators: Iterable[torch.Generator] = (),
) -> History:
    """Load ``model``'s weights if this exact configuration was trained before, else train and save.

    ``settings`` holds everything that changes the result (sizes, steps, learning rate, seed,
    FAST flag): change one and the model is trained again. A model this exact configuration of
    which an instructor trained is loaded from ``$COURSE_PRETRAINED`` (``find_pretrained``: same
    file name, checked against the folder's SHA-256 manifest) before anything is trained.
    ``train_fn()`` trains ``model`` in place and returns its ``History``; the history is saved and
    restored with the weights.

    Interrupted training is undone: if ``train_fn`` (or the save) stops for any reason (the
    stop button, an error, a divergence), the model's weights and buffers, its train / eval
    modes, and the random states (Python, numpy, torch's global ones and ``generators``, e.g.
    ``cfg.generator``) are put back as they were, so running the cell again gives the same
    checkpoint as an uninterrupted run. For that, ``train_fn`` must build its optimiser (and any
    other state it steps) itself, and any ``torch.Generator`` it draws from must be created
    inside it or passed in ``generators``.

    And nothing is lost: while ``train_fn``'s ``fit`` runs, a snapshot of the run is written
    every few minutes beside the checkpoint (``snapshot_path``; see ``fit`` for what it holds);
    running the cell again continues from the last snapshot, and the checkpoint comes out
    bit-identical to an uninterrupted run's. A snapshot made with other settings is never
    resumed; it is deleted once the checkpoint is saved.

    The output folder is checked for writing before training starts (``COURSE_OUTPUT``).
    """
    path = checkpoint_path(name, model, settings, folder)
    pretrained = None if path.is_file() else find_pretrained(path.name)
    if path.is_file() or pretrained is not None:
        source = path if path.is_file() else pretrained
        state = load_checkpoint(source)
        if pretrained is not None and _plain(_entry(state, "settings", source)) != _plain(settings):
            raise CheckpointError(f"{source} was trained with other settings than this run's, although its "
                                  "name says otherwise. Fix: unpack the archive again, or unset COURSE_PRETRAINED.")
        path = source
        load_model(model, _entry(state, "model", path), source=f"checkpoint {path}")
        try:
            history = History.from_state(_entry(state, "history", path))
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise CheckpointError(f"{path} has a damaged training history ({err!r}). "
                                  "Fix: delete it; it will be retrained.") from err
        where = "from COURSE_PRETRAINED " if pretrained is not None else ""
        print(f"Loaded {path.name} {where}(trained in {history.seconds:.0f} s); delete it to train again.")
        return history
    storage.check_writable(path.parent, "COURSE_OUTPUT")
    generators = list(generators)
    initial = {k: v.detach().clone() for k, v in model.state_dict().items()}
    modes = [m.training for m in model.modules()]
    randomness = _random_states(generators)
    run = _Run(snapshot_path(path), model, settings, generators)
    token = ACTIVE_RUN.set(run)
    try:
        history = train_fn()
        model_state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        save_checkpoint(path, {"model": model_state, "history": history.state_dict(), "settings": _plain(settings)})
    except BaseException:
        _undo_training(model, initial, modes, randomness)
        if run.saved is not None:
            print(f"Training stopped; its snapshot at step {run.saved} is kept ({run.path.name}): "
                  "run the cell again to continue from there.")
        raise
    finally:
        ACTIVE_RUN.reset(token)
    run.path.unlink(missing_ok=True)
    print(f"Trained in {history.seconds:.0f} s; saved {path}.")
    return history
