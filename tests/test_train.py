import math
import os
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from course_utils import storage, train


def test_history_logs_and_round_trips():
    h = train.History()
    h.log(0, loss=2.0, acc=0.1)
    h.log(10, loss=torch.tensor(1.0))
    assert h["loss"].tolist() == [2.0, 1.0] and h.steps["loss"] == [0, 10] and h.steps["acc"] == [0]
    assert "loss" in h and h.last("loss") == 1.0
    h.seconds = 3.5
    again = train.History.from_state(h.state_dict())
    assert again.values == h.values and again.steps == h.steps and again.seconds == 3.5


def test_fit_reaches_the_least_squares_solution():
    """SGD on a linear model converges to the closed-form least-squares weights."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(256, 3, generator=g)
    y = X @ torch.tensor([1.5, -2.0, 0.5]) + 0.3 + 0.01 * torch.randn(256, generator=g)
    A = torch.cat([X, torch.ones(256, 1)], dim=1)
    w_star = torch.linalg.lstsq(A, y[:, None]).solution.squeeze()
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def step_fn(step):
        loss = ((model(X).squeeze(1) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"loss": loss}

    history = train.fit(step_fn, 400, log_every=50, progress=False)
    w = torch.cat([model.weight.detach().squeeze(), model.bias.detach()])
    assert torch.allclose(w, w_star, atol=1e-3)
    assert history.steps["loss"] == [0, 50, 100, 150, 200, 250, 300, 350, 399]
    assert history["loss"][-1] < history["loss"][0] and history.seconds > 0


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_fit_stops_on_nan_with_a_fix(bad):
    calls = []

    def step_fn(step):
        calls.append(step)
        return {"loss": torch.tensor(bad if step >= 25 else 1.0)}  # once NaN, NaN for good

    with pytest.raises(train.DivergenceError, match=r"loss is (nan|inf) at step 30.*learning rate"):
        train.fit(step_fn, 100, log_every=10, progress=False)
    assert calls[-1] == 30  # caught at the first check after it happened


def test_fit_stops_when_a_bound_is_exceeded():
    with pytest.raises(train.DivergenceError, match="reached 1e\\+07"):
        train.fit(lambda s: {"loss": 10.0 ** s}, 10, log_every=1, progress=False, max_value=1e6)


def test_checkpoint_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "ck" / "m.pt"
    train.save_checkpoint(path, {"w": torch.ones(3), "step": 7})
    assert train.load_checkpoint(path)["step"] == 7

    def broken_save(obj, f):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        train.save_checkpoint(path, {"w": torch.zeros(3), "step": 8})
    monkeypatch.undo()
    assert train.load_checkpoint(path)["step"] == 7  # the old checkpoint survived
    assert [p.name for p in path.parent.iterdir()] == ["m.pt"]  # no temporary file left behind


class NotATensor:
    pass


def test_load_refuses_arbitrary_objects_and_garbage(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"obj": NotATensor()}, path)
    with pytest.raises(train.CheckpointError, match="evil.pt.*delete it") as caught:
        train.load_checkpoint(path)
    # torch's own advice (weights_only=False) is the one thing a student must never do
    assert "weights_only=False" not in str(caught.value) and "not written by course_utils" in str(caught.value)
    path.write_bytes(b"\x00garbage")
    with pytest.raises(train.CheckpointError, match="delete it"):
        train.load_checkpoint(path)


def test_checkpoint_from_another_architecture_is_explained(tmp_path):
    path = train.save_checkpoint(tmp_path / "a.pt", {"model": torch.nn.Linear(4, 2).state_dict()})
    state = train.load_checkpoint(path)
    with pytest.raises(train.CheckpointError, match="a.pt was saved from a different architecture.*delete it"):
        train.load_model(torch.nn.Linear(4, 3), state["model"], source=f"checkpoint {path}")


def test_train_or_load_trains_once_then_reloads(tmp_path, capsys):
    runs = []

    def make_train_fn(model):
        def train_fn():
            runs.append(1)
            with torch.no_grad():
                model.weight.fill_(0.25)
            h = train.History()
            h.log(0, loss=1.0)
            return h
        return train_fn

    settings = {"steps": 10, "lr": 0.1, "device": torch.device("cpu")}
    a = torch.nn.Linear(2, 2)
    h1 = train.train_or_load("toy", a, make_train_fn(a), settings, folder=tmp_path)
    b = torch.nn.Linear(2, 2)
    h2 = train.train_or_load("toy", b, make_train_fn(b), settings, folder=tmp_path)
    assert len(runs) == 1 and torch.equal(a.weight, b.weight) and h2.values == h1.values
    assert "Loaded toy-" in capsys.readouterr().out
    # another setting or another architecture under the same name: trained again, nothing breaks
    c = torch.nn.Linear(2, 2)
    train.train_or_load("toy", c, make_train_fn(c), {**settings, "lr": 0.2}, folder=tmp_path)
    d = torch.nn.Linear(2, 5)
    train.train_or_load("toy", d, make_train_fn(d), settings, folder=tmp_path)
    assert len(runs) == 3 and len(list(tmp_path.glob("toy-*.pt"))) == 3


def test_a_class_loads_the_instructors_models_from_course_pretrained(isolated_env, monkeypatch, capsys):
    """Trained once (the instructor), packed with a manifest, loaded read-only by a fresh run (the
    class) without training; a damaged copy or a file the manifest does not list is refused."""
    import json
    import subprocess
    import sys

    def train_fn_for(model, runs):
        def train_fn():
            runs.append(1)
            with torch.no_grad():
                model.weight.fill_(0.5)
            h = train.History()
            h.log(0, loss=2.0)
            return h
        return train_fn

    instructor = isolated_env / "instructor"
    runs = []
    a = torch.nn.Linear(3, 1)
    train.train_or_load("model", a, train_fn_for(a, runs), {"steps": 5}, folder=instructor)
    train.compute_or_load("score", lambda: {"nll": 84.9}, {"steps": 5}, folder=instructor)
    pretrained = isolated_env / "class-models"
    subprocess.run([sys.executable, str(Path(__file__).resolve().parent.parent / "tools" / "pack_pretrained.py"),
                    str(instructor), str(pretrained)], check=True, capture_output=True)
    monkeypatch.setenv("COURSE_PRETRAINED", str(pretrained))
    pretrained.chmod(0o555)  # read-only: the class never writes there
    try:
        b = torch.nn.Linear(3, 1)
        history = train.train_or_load("model", b, train_fn_for(b, runs), {"steps": 5})
        assert len(runs) == 1 and torch.equal(a.weight, b.weight) and history.values == {"loss": [2.0]}
        assert "from COURSE_PRETRAINED" in capsys.readouterr().out
        assert train.compute_or_load("score", lambda: {"nll": 0.0}, {"steps": 5}) == {"nll": 84.9}
        c = torch.nn.Linear(3, 1)  # other settings: not in the folder, trained here
        train.train_or_load("model", c, train_fn_for(c, runs), {"steps": 6})
        assert len(runs) == 2
    finally:
        pretrained.chmod(0o755)
    victim = next(pretrained.glob("model-*.pt"))
    victim.write_bytes(victim.read_bytes()[:-1] + b"x")
    with pytest.raises(train.CheckpointError, match="does not match its checksum"):
        train.train_or_load("model", torch.nn.Linear(3, 1), lambda: train.History(), {"steps": 5})
    manifest = json.loads((pretrained / train.MANIFEST).read_text())
    manifest["files"].pop(victim.name)
    (pretrained / train.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(train.CheckpointError, match="is not listed in"):
        train.train_or_load("model", torch.nn.Linear(3, 1), lambda: train.History(), {"steps": 5})
    (pretrained / train.MANIFEST).unlink()
    with pytest.raises(train.CheckpointError, match="has no MANIFEST.json"):
        train.train_or_load("model", torch.nn.Linear(3, 1), lambda: train.History(), {"steps": 5})


def test_train_or_load_default_folder_is_the_output_dir(isolated_env):
    m = torch.nn.Linear(1, 1)
    train.train_or_load("x", m, lambda: train.History(), {"a": 1})
    assert list((isolated_env / "outputs" / "checkpoints").glob("x-*.pt"))


def test_compute_or_load_computes_once_per_settings(tmp_path, capsys):
    calls = []

    def compute():
        calls.append(1)
        return {"nll": 84.5, "log_px_at": {1: -88.0, 1000: -85.0}, "note": "ok"}

    settings = {"steps": 10, "k": 1000}
    first = train.compute_or_load("eval", compute, settings, folder=tmp_path)
    again = train.compute_or_load("eval", compute, settings, folder=tmp_path)
    assert again == first and len(calls) == 1 and "Loaded eval-" in capsys.readouterr().out
    assert again["log_px_at"][1000] == -85.0  # integer keys survive the weights_only load
    train.compute_or_load("eval", compute, {**settings, "k": 5000}, folder=tmp_path)
    assert len(calls) == 2 and len(list(tmp_path.glob("eval-*.pt"))) == 2


def test_compute_or_load_explains_a_corrupted_file(tmp_path):
    train.compute_or_load("eval", lambda: {"x": 1.0}, {"a": 1}, folder=tmp_path)
    (path,) = tmp_path.glob("eval-*.pt")
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(train.CheckpointError, match="delete it"):
        train.compute_or_load("eval", lambda: {"x": 1.0}, {"a": 1}, folder=tmp_path)


# ------------------------------------------------------------------ bad input to fit


def test_step_fn_that_returns_no_dict_is_explained():
    with pytest.raises(TypeError, match=r"step_fn returned NoneType at step 0.*return \{\"loss\": loss\}"):
        train.fit(lambda step: None, 5, progress=False)
    with pytest.raises(TypeError, match="step_fn returned float"):
        train.fit(lambda step: 1.0, 5, progress=False)


def test_metric_that_is_not_one_number_is_explained():
    with pytest.raises(TypeError, match=r"metric 'loss' is a Tensor of shape \(3,\) at step 0.*loss.mean\(\)"):
        train.fit(lambda step: {"loss": torch.ones(3)}, 5, progress=False)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_log_every_must_be_a_positive_int(bad):
    with pytest.raises(ValueError, match="log_every must be a whole number >= 1"):
        train.fit(lambda step: {"loss": 1.0}, 5, log_every=bad, progress=False)


def test_n_steps_must_be_a_whole_number():
    with pytest.raises(ValueError, match="n_steps"):
        train.fit(lambda step: {"loss": 1.0}, 2.0, progress=False)
    assert train.fit(lambda step: {"loss": 1.0}, 0, progress=False).values == {}


# ------------------------------------------------------------------ interrupted training


class Noisy(torch.nn.Module):
    """Dropout (torch's global RNG), batch norm (buffers) and two layers: everything that a
    half-finished run leaves changed."""

    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.BatchNorm1d(16), torch.nn.ReLU(),
                                       torch.nn.Dropout(0.3), torch.nn.Linear(16, 1))

    def forward(self, x):
        return self.net(x)


def _cell(folder, interrupt_at=None, exception=KeyboardInterrupt, resumable=False, settings=None):
    """A notebook's training cell: model built earlier, optimiser inside train_fn, batches from a
    shared generator (like cfg.generator), noise from torch's, numpy's and Python's global RNGs.

    Returns the model, the cell (a function to call, as often as the student runs it) and the
    switch that says at which step the student presses stop (None: never); ``stop["steps"]``
    lists the steps step_fn ran. resumable: a learning-rate schedule too, and fit is told the
    optimiser, the schedule and a generator made inside train_fn (what a snapshot must keep).
    """
    torch.manual_seed(0)
    np.random.seed(0)
    random.seed(0)
    batches = torch.Generator().manual_seed(1)
    model = Noisy()
    X = torch.randn(512, 4)
    y = X.sum(1, keepdim=True)
    stop = {"at": interrupt_at, "steps": []}

    def train_fn():
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=20)
        jitter = torch.Generator().manual_seed(5)
        model.train()

        def step_fn(step):
            if step == stop["at"]:
                raise exception("interrupted by the student")
            stop["steps"].append(step)
            index = torch.randint(512, (32,), generator=batches)
            noise = float(np.random.rand()) * 0.01 + random.random() * 0.01
            if resumable:
                noise += float(torch.rand(1, generator=jitter)) * 0.01
            loss = ((model(X[index]) - y[index]) ** 2).mean() + noise
            opt.zero_grad()
            loss.backward()
            opt.step()
            if resumable:
                schedule.step()
            return {"loss": loss}

        state = {"optimizers": [opt], "schedulers": [schedule], "generators": [jitter]} if resumable else {}
        return train.fit(step_fn, 20, log_every=5, progress=False, **state)

    def cell():
        return train.train_or_load("noisy", model, train_fn, settings or {"steps": 20}, folder=folder,
                                   generators=[batches])

    return model, cell, stop


@pytest.mark.parametrize("exception", [KeyboardInterrupt, RuntimeError, train.DivergenceError])
def test_interrupted_training_rerun_gives_the_clean_checkpoint_bit_for_bit(tmp_path, exception):
    """Issue 9.1: interrupt mid-way, run the same cell again: the same checkpoint as a clean run."""
    clean_model, clean_cell, _ = _cell(tmp_path / "clean")
    clean_history = clean_cell()
    after_clean = torch.rand(3)  # where torch's global RNG stands after a clean run
    (clean_file,) = (tmp_path / "clean").glob("noisy-*.pt")

    model, cell, stop = _cell(tmp_path / "rerun", interrupt_at=12, exception=exception)
    model.eval()  # modes are restored too
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(exception, match="interrupted"):
        cell()
    assert list((tmp_path / "rerun").glob("*.pt")) == []  # nothing saved
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), f"{k} was left half-trained"
    assert not model.training and not model.net[3].training

    stop["at"] = None  # the student runs the cell again and lets it finish
    model.train()
    history = cell()
    assert torch.equal(torch.rand(3), after_clean)
    (rerun_file,) = (tmp_path / "rerun").glob("noisy-*.pt")
    assert rerun_file.name == clean_file.name
    clean, rerun = train.load_checkpoint(clean_file), train.load_checkpoint(rerun_file)
    assert clean["model"].keys() == rerun["model"].keys()
    for k in clean["model"]:
        assert torch.equal(clean["model"][k], rerun["model"][k]), k
    for k, v in clean_model.state_dict().items():
        assert torch.equal(v, model.state_dict()[k]), k
    assert history.values == clean_history.values


def test_without_the_restore_the_rerun_would_differ(tmp_path, monkeypatch):
    """The test above can fail: with the undo switched off (train_or_load before issue 9), the
    rerun continues from the half-trained weights and generator, and saves other weights."""
    clean_model, clean_cell, _ = _cell(tmp_path / "clean")
    clean_cell()
    monkeypatch.setattr(train, "_undo_training", lambda *args: None)
    model, cell, stop = _cell(tmp_path / "old", interrupt_at=12)
    with pytest.raises(KeyboardInterrupt):
        cell()
    stop["at"] = None
    cell()
    assert not torch.equal(model.net[4].weight, clean_model.net[4].weight)


def _weights(folder):
    (file,) = [p for p in folder.glob("noisy-*.pt") if not p.name.endswith(".resume.pt")]  # not the snapshot
    return train.load_checkpoint(file)["model"]


def test_a_stopped_run_continues_from_its_snapshot_bit_identical(tmp_path, monkeypatch):
    """Issue 21: stopped twice, run again each time: it continues from the last snapshot and the
    checkpoint is the clean run's, tensor by tensor; the snapshot is gone afterwards."""
    monkeypatch.setenv("COURSE_SNAPSHOT_SECONDS", "0")  # a snapshot after every step
    clean_model, clean_cell, _ = _cell(tmp_path / "clean", resumable=True)
    clean_history = clean_cell()
    after_clean = torch.rand(3)
    assert list((tmp_path / "clean").glob("*.resume.pt")) == []

    model, cell, stop = _cell(tmp_path / "rerun", interrupt_at=7, resumable=True)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    for at in (7, 15):
        stop["at"], stop["steps"] = at, []
        with pytest.raises(KeyboardInterrupt):
            cell()
        for k, v in model.state_dict().items():  # the model is still put back as it was
            assert torch.equal(v, before[k]), k
        (snapshot,) = (tmp_path / "rerun").glob("noisy-*.resume.pt")
        assert train.load_checkpoint(snapshot)["step"] == at
    assert stop["steps"] == list(range(7, 15))  # the second try continued from step 7
    stop["at"], stop["steps"] = None, []
    history = cell()
    assert stop["steps"] == list(range(15, 20))
    clean, rerun = _weights(tmp_path / "clean"), _weights(tmp_path / "rerun")
    for k in clean:
        assert torch.equal(clean[k], rerun[k]), k
    assert history.values == clean_history.values and history.steps == clean_history.steps
    assert torch.equal(torch.rand(3), after_clean)  # every random state as after a clean run
    assert list((tmp_path / "rerun").glob("*.resume.pt")) == []


def test_a_fit_that_names_no_optimiser_is_never_snapshotted(tmp_path, monkeypatch, capsys):
    """Its optimiser's state could not be restored, so a rerun starts over (and still ends with the
    clean run's checkpoint), whatever COURSE_SNAPSHOT_SECONDS says; it says so, once, naming the fix."""
    monkeypatch.setenv("COURSE_SNAPSHOT_SECONDS", "0")
    clean_model, clean_cell, _ = _cell(tmp_path / "clean")
    clean_cell()
    said = [line for line in capsys.readouterr().out.splitlines() if "no snapshot written" in line]
    assert len(said) == 1 and "Fix: pass optimizers=" in said[0]
    _, resumable_cell, _ = _cell(tmp_path / "resumable", resumable=True)
    resumable_cell()
    assert "no snapshot written" not in capsys.readouterr().out
    model, cell, stop = _cell(tmp_path / "rerun", interrupt_at=12)
    with pytest.raises(KeyboardInterrupt):
        cell()
    assert list((tmp_path / "rerun").glob("*.pt")) == []
    stop["at"], stop["steps"] = None, []
    cell()
    assert stop["steps"] == list(range(20))
    clean, rerun = _weights(tmp_path / "clean"), _weights(tmp_path / "rerun")
    assert all(torch.equal(clean[k], rerun[k]) for k in clean)


def test_without_restoring_the_random_states_the_resumed_run_would_differ(tmp_path, monkeypatch):
    """The test above can fail: a snapshot that skipped the random states gives other weights."""
    monkeypatch.setenv("COURSE_SNAPSHOT_SECONDS", "0")
    clean_model, clean_cell, _ = _cell(tmp_path / "clean", resumable=True)
    clean_cell()
    monkeypatch.setattr(train, "_restore_plain_random_states", lambda *args: None)
    model, cell, stop = _cell(tmp_path / "rerun", interrupt_at=9, resumable=True)
    with pytest.raises(KeyboardInterrupt):
        cell()
    stop["at"] = None
    cell()
    assert not torch.equal(_weights(tmp_path / "rerun")["net.4.weight"], _weights(tmp_path / "clean")["net.4.weight"])


def test_a_snapshot_from_other_settings_is_never_resumed(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_SNAPSHOT_SECONDS", "0")
    _, cell, _ = _cell(tmp_path / "a", interrupt_at=12, resumable=True)
    with pytest.raises(KeyboardInterrupt):
        cell()
    (snapshot,) = (tmp_path / "a").glob("*.resume.pt")
    other = {"steps": 20, "note": "other settings"}
    clean_model, clean_cell, _ = _cell(tmp_path / "clean", resumable=True, settings=other)
    clean_cell()
    model, cell, stop = _cell(tmp_path / "b", resumable=True, settings=other)
    expected = train.snapshot_path(train.checkpoint_path("noisy", model, other, tmp_path / "b"))
    assert expected != snapshot and not expected.exists()  # other settings, another file name
    expected.parent.mkdir()
    expected.write_bytes(snapshot.read_bytes())  # even under the right name, it is refused
    cell()
    assert "made with other settings" in capsys.readouterr().out
    assert stop["steps"] == list(range(20))
    clean, b = _weights(tmp_path / "clean"), _weights(tmp_path / "b")
    assert all(torch.equal(clean[k], b[k]) for k in clean)


@pytest.mark.parametrize("bad", ["-1", "soon", "nan"])
def test_snapshot_seconds_setting_is_checked(monkeypatch, bad):
    monkeypatch.setenv("COURSE_SNAPSHOT_SECONDS", bad)
    with pytest.raises(ValueError, match="COURSE_SNAPSHOT_SECONDS"):
        train.snapshot_seconds()
    monkeypatch.setenv("COURSE_SNAPSHOT_SECONDS", "")
    assert train.snapshot_seconds() == train.SNAPSHOT_SECONDS


def test_an_interrupted_save_also_restores_the_model(tmp_path, monkeypatch):
    model, cell, _ = _cell(tmp_path)
    before = {k: v.clone() for k, v in model.state_dict().items()}

    def interrupted_save(path, state):
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "save_checkpoint", interrupted_save)
    with pytest.raises(KeyboardInterrupt):
        cell()
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k


# ------------------------------------------------------------------ output folder


def test_unwritable_output_stops_before_training_naming_the_folder_and_setting(tmp_path, monkeypatch):
    """Issue 9.2: found before the 12-minute run, not after it."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("COURSE_OUTPUT", str(blocker / "outputs"))  # cannot create a folder in a file
    calls = []
    with pytest.raises(storage.NotWritableError, match=rf"Cannot write to {blocker}.*COURSE_OUTPUT"):
        train.train_or_load("m", torch.nn.Linear(1, 1), lambda: calls.append(1), {"a": 1})
    with pytest.raises(PermissionError, match="COURSE_OUTPUT"):
        train.compute_or_load("e", lambda: calls.append(1), {"a": 1})
    assert calls == []


def test_permission_denied_output_is_named(tmp_path, monkeypatch):
    """What a read-only folder gives a non-root user (root ignores permissions, so faked here)."""
    real_write = type(tmp_path).write_bytes

    def denied(self, data):
        if self.name.startswith(".write-test"):
            raise PermissionError(13, "Permission denied")
        return real_write(self, data)

    monkeypatch.setattr(type(tmp_path), "write_bytes", denied)
    with pytest.raises(storage.NotWritableError, match=r"Cannot write to .*ck \(Permission denied\).*COURSE_OUTPUT"):
        train.train_or_load("m", torch.nn.Linear(1, 1), lambda: train.History(), {"a": 1}, folder=tmp_path / "ck")


# ------------------------------------------------------------------ what compute_or_load stores


def test_compute_or_load_round_trips_numpy_and_torch_scalars(tmp_path, capsys):
    """Issue 9.4: numpy scalars were saved, then refused on reload ("delete it"), for ever."""
    def compute():
        return {"nll": np.float64(84.94), "count": np.int64(17), "flag": np.bool_(True),
                "t": torch.tensor(1.5), "curve": np.arange(3, dtype=np.float32),
                "per_k": {np.int64(1000): np.float32(-85.08)}, "w": torch.ones(2, requires_grad=True) * 2,
                "pair": (np.float64(1.0), 2)}

    first = train.compute_or_load("eval", compute, {"k": 5000}, folder=tmp_path)
    again = train.compute_or_load("eval", compute, {"k": 5000}, folder=tmp_path)
    assert "Loaded eval-" in capsys.readouterr().out
    assert first.keys() == again.keys()
    assert again["nll"] == 84.94 and type(again["nll"]) is float
    assert again["count"] == 17 and type(again["count"]) is int and again["flag"] is True
    assert again["t"] == 1.5 and again["curve"] == [0.0, 1.0, 2.0] and again["pair"] == (1.0, 2)
    assert abs(again["per_k"][1000] - -85.08) < 1e-5 and torch.equal(again["w"], torch.full((2,), 2.0))
    for k in first:  # the first call returns what later calls load
        assert str(first[k]) == str(again[k]), k


def test_compute_or_load_refuses_what_it_could_not_reload(tmp_path):
    with pytest.raises(TypeError, match=r"result\['model'\] is a Linear.*Fix"):
        train.compute_or_load("eval", lambda: {"model": torch.nn.Linear(1, 1)}, {"a": 1}, folder=tmp_path)
    assert list(tmp_path.glob("*.pt")) == []  # nothing written that would later be "damaged"


# ------------------------------------------------------------------ checkpoint contents


def test_checkpoint_without_its_keys_is_explained(tmp_path):
    model = torch.nn.Linear(2, 2)
    path = train.checkpoint_path("m", model, {"a": 1}, tmp_path)
    train.save_checkpoint(path, {"weights": model.state_dict()})
    with pytest.raises(train.CheckpointError, match=r"has no 'model' entry.*delete it"):
        train.train_or_load("m", model, lambda: train.History(), {"a": 1}, folder=tmp_path)
    train.save_checkpoint(path, {"model": model.state_dict()})
    with pytest.raises(train.CheckpointError, match=r"has no 'history' entry"):
        train.train_or_load("m", model, lambda: train.History(), {"a": 1}, folder=tmp_path)
    train.compute_or_load("e", lambda: {"x": 1}, {"a": 1}, folder=tmp_path)
    (ev,) = tmp_path.glob("e-*.pt")
    train.save_checkpoint(ev, {"other": 1})
    with pytest.raises(train.CheckpointError, match=r"has no 'result' entry"):
        train.compute_or_load("e", lambda: {"x": 1}, {"a": 1}, folder=tmp_path)


# ------------------------------------------------------------------ leftovers of interrupted saves


def _dead_pid() -> int:
    pid = 2**22 - 7
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except OSError:
            pass
        pid -= 1


def test_stale_temporaries_are_removed_and_saves_are_fsynced(tmp_path, monkeypatch):
    """Issue 9.8: `.NAME.pt.tmp<PID>` of a dead process goes; a live writer's file stays."""
    dead = _dead_pid()
    stale = [tmp_path / f".m.pt.tmp{dead}", tmp_path / f"03_vae.tmp{dead}", tmp_path / f"x.tmp{dead}.npz"]
    for p in stale:
        p.write_bytes(b"half")
    live = tmp_path / f".other.pt.tmp{os.getppid()}"  # a process that runs
    live.write_bytes(b"in progress")
    order = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (order.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (order.append("replace"), real_replace(a, b))[1])
    train.save_checkpoint(tmp_path / "m.pt", {"step": 1})
    assert order[:2] == ["fsync", "replace"]  # the data reaches the disk before the rename
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["m.pt", live.name])
    assert train.load_checkpoint(tmp_path / "m.pt")["step"] == 1
