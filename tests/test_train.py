import math

import pytest
import torch

from course_utils import train


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
        with open(f, "wb") as fh:
            fh.write(b"half a checkpoint")
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
    with pytest.raises(train.CheckpointError, match="evil.pt.*delete it"):
        train.load_checkpoint(path)
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
