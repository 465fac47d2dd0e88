"""The course's fixed yardstick for generated digits: shipped weights checked by SHA-256, the
10,000-sample protocol and its floor, the unbiased kernel distance, and classifiers built from
their own seed whatever was drawn before."""

import hashlib
import os
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch

from course_utils import config, data, metrics

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_weights_are_the_checksummed_file_under_2_mb():
    path = metrics.YARDSTICK_WEIGHTS
    assert path.is_file() and path.stat().st_size < 2_000_000
    assert hashlib.sha256(path.read_bytes()).hexdigest() == metrics.YARDSTICK_SHA256
    # shipped as package data, so an installed course finds it
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert any(path.match(pattern) for pattern in package_data["course_utils"])
    model = metrics.load_yardstick()
    assert not model.training and not any(p.requires_grad for p in model.parameters())


def test_a_changed_or_missing_file_is_refused(tmp_path):
    blob = bytearray(metrics.YARDSTICK_WEIGHTS.read_bytes())
    blob[-100] ^= 1
    (tmp_path / "w.pt").write_bytes(bytes(blob))
    with pytest.raises(metrics.YardstickError, match="not the course's yardstick"):
        metrics.load_yardstick(path=tmp_path / "w.pt")
    with pytest.raises(metrics.YardstickError, match="missing.*reinstall"):
        metrics.load_yardstick(path=tmp_path / "absent.pt")


def _naive_mmd(x, y):
    """MMD^2, unbiased, with explicit loops over pairs i != j."""
    k = lambda a, b: (float(a @ b) / a.shape[0] + 1) ** 3  # noqa: E731
    n, m = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(n) for j in range(m)) / (n * m)
    return xx + yy - 2 * xy


def test_kernel_distance_against_explicit_pairs_and_unbiased():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(13, 5, generator=g, dtype=torch.float64), torch.randn(9, 5, generator=g,
                                                                             dtype=torch.float64) + 0.3
    assert metrics.kernel_distance(x, y, chunk=4) == pytest.approx(_naive_mmd(x.numpy(), y.numpy()), rel=1e-10)
    # one distribution: the estimate averages to 0 at any n (the biased V-statistic would not)
    same = [metrics.kernel_distance(torch.randn(20, 4, generator=g), torch.randn(30, 4,
                                                                                 generator=g)) for _ in range(400)]
    assert abs(np.mean(same)) < 3 * np.std(same) / np.sqrt(len(same))
    shifted = metrics.kernel_distance(torch.randn(200, 4, generator=g) + 1, torch.randn(300, 4, generator=g))
    assert shifted > 10 * np.std(same)
    with pytest.raises(ValueError, match="at least 2"):
        metrics.kernel_distance(torch.randn(1, 4), torch.randn(5, 4))


@pytest.fixture(scope="module")
def yardstick(data_root):
    return metrics.Yardstick("cpu", root=data_root, verbose=False)


@pytest.mark.slow
def test_the_reference_is_computed_once_per_output_folder(isolated_env, data_root, capsys):
    """Every notebook builds the yardstick: its test features, kernel mean and floor are computed by the
    first and loaded, unchanged to the bit, by the rest."""
    first = metrics.Yardstick("cpu", root=data_root, verbose=False)
    assert "Loaded yardstick_reference" not in capsys.readouterr().out
    again = metrics.Yardstick("cpu", root=data_root, verbose=False)
    assert "Loaded yardstick_reference" in capsys.readouterr().out
    assert (again.floor, again._reference_kernel, again._scale) == (first.floor, first._reference_kernel, first._scale)
    assert torch.equal(again.reference_features, first.reference_features)
    assert torch.equal(again.reference_probs, first.reference_probs)


@pytest.mark.slow
def test_a_score_is_computed_once_per_output_folder(isolated_env, data_root, monkeypatch):
    """A second run (or a student build after the solution's) loads each 10,000-image score instead of
    classifying the images again: the same numbers to the bit; other images get a score of their own."""
    ys = metrics.Yardstick("cpu", root=data_root, verbose=False)
    images = ys.training_images(10_000)
    features, probs = metrics.classify(ys.classifier, images)
    direct = metrics.SampleScorer.score(ys, images)  # the uncached computation
    first = ys.score(images)
    for key, value in direct.items():
        assert np.array_equal(first[key], value) and type(first[key]) is type(value), key
    mu, sigma = ys.statistics(images)
    expected = metrics.feature_statistics(features)
    assert np.array_equal(mu, expected[0]) and np.array_equal(sigma, expected[1]) and sigma.dtype == np.float64

    classified = []
    classify = metrics.classify
    monkeypatch.setattr(metrics, "classify", lambda *a, **k: classified.append(1) or classify(*a, **k))
    again = metrics.Yardstick("cpu", root=data_root, verbose=False)
    second = again.score(images.clone())
    assert not classified  # loaded
    assert second.keys() == first.keys() and all(np.array_equal(second[k], first[k]) for k in first)
    assert all(np.array_equal(a, b) for a, b in zip(again.statistics(images), (mu, sigma))) and not classified
    other = again.score(images.flip(-1))  # mirrored digits: new bytes, computed
    assert classified and other["frechet"] > 2 * first["frechet"]


def test_tensor_digest_reads_dtype_shape_and_values():
    x = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    digest = metrics.tensor_digest(x)
    assert digest == metrics.tensor_digest(x.clone()) == metrics.tensor_digest(x.t().contiguous().t())
    assert digest != metrics.tensor_digest(x.double())
    assert digest != metrics.tensor_digest(x.reshape(4, 3))
    y = x.clone()
    y[2, 3] = torch.nextafter(y[2, 3], torch.tensor(100.0))  # one value, one ulp
    assert digest != metrics.tensor_digest(y)


@pytest.mark.slow
def test_yardstick_protocol_on_real_digits(yardstick, data_root):
    assert yardstick.accuracy > 98.5  # the shipped classifier reads real digits
    test = data.mnist("test", root=data_root)
    same = yardstick.score(test.images)
    assert same["frechet"] == pytest.approx(0, abs=1e-6) and same["classes_present"] == 10
    floor = yardstick.score(yardstick.training_images(10_000))
    assert floor["frechet"] == pytest.approx(yardstick.floor) and floor["x_floor"] == pytest.approx(1)
    assert floor["n"] == 10_000 and "floor" in yardstick.describe(floor) and "n = 10,000" in yardstick.describe(floor)
    with pytest.raises(ValueError, match="exactly 10,000 samples.*kernel_distance"):
        yardstick.score(test.images[:2000])
    noise = torch.rand(500, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    assert abs(yardstick.kernel_distance(yardstick.training_images(500))) < 0.01 * yardstick.kernel_distance(noise)


def test_curve_points_at_any_n(yardstick):
    real = yardstick.curve_point(yardstick.training_images(800))
    assert real["classes_present"] == 10 and real["entropy"] > 2.25
    assert real["kernel"] == pytest.approx(yardstick.kernel_distance(yardstick.training_images(800)))
    blank = yardstick.curve_point(torch.zeros(300, 1, 28, 28))
    assert blank["classes_present"] == 1 and blank["entropy"] == 0 and blank["kernel"] > 10 * abs(real["kernel"])


@pytest.mark.slow
def test_floor_curve_shows_the_bias_of_small_samples(yardstick, monkeypatch):
    curve = yardstick.floor_curve((500, 2000, 10_000))
    classified = []
    classify = metrics.classify
    monkeypatch.setattr(metrics, "classify", lambda *a, **k: classified.append(1) or classify(*a, **k))
    assert yardstick.floor_curve((500, 2000, 10_000)) == curve and not classified  # computed once, then loaded
    monkeypatch.undo()
    assert curve["n"] == [500, 2000, 10_000]
    # the same real images, a distance 5 times smaller at 10,000 than at 500: the bias of small n
    f = curve["frechet"]
    assert f[0] > f[1] > f[2] and f[0] > 4 * f[2]
    assert curve["frechet"][2] == pytest.approx(yardstick.floor)
    # the unbiased kernel distance stays near 0 at every n, far below noise images' at any n
    noise = yardstick.kernel_distance(torch.rand(500, 1, 28, 28, generator=torch.Generator().manual_seed(1)))
    assert max(abs(k) for k in curve["kernel"]) < 0.05 < noise


def test_classifier_is_built_from_its_own_seed():
    a = metrics.build_classifier(3)
    torch.randn(7)  # draws that depend on what earlier cells trained or loaded
    state = torch.get_rng_state()
    b = metrics.build_classifier(3)
    assert torch.equal(state, torch.get_rng_state())  # the global state is not advanced
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
    assert not torch.equal(next(a.parameters()), next(metrics.build_classifier(4).parameters()))


@pytest.mark.slow
def test_trained_classifier_does_not_depend_on_earlier_draws(monkeypatch, tmp_path, data_root):
    train_set = data.mnist("train", root=data_root)
    cfg = config.setup(fast=True, seed=0, device="cpu", verbose=False)
    weights = []
    for extra in (False, True):
        monkeypatch.setenv("COURSE_OUTPUT", str(tmp_path / f"out{extra}"))  # trained, not loaded
        if extra:
            torch.randn(7)
        model, _ = metrics.train_classifier(train_set, cfg, steps=20)
        weights.append([p.detach().clone() for p in model.parameters()])
    for p, q in zip(*weights):
        assert torch.equal(p, q)


@pytest.mark.skipif(os.environ.get("COURSE_SLOW") != "1",
                    reason="retrains the yardstick (minutes); COURSE_SLOW=1 runs it")
def test_the_script_reproduces_a_classifier_of_the_same_accuracy(tmp_path, yardstick):
    sys.path.insert(0, str(ROOT / "tools"))
    import train_yardstick

    result = train_yardstick.train_yardstick(tmp_path / "again.pt")
    assert abs(result["test_accuracy"] - yardstick.accuracy) < 0.2


@pytest.mark.slow
def test_another_classifier_is_labelled_and_fashion_needs_one(data_root, capsys):
    with pytest.raises(ValueError, match="pass a classifier trained on 'fashion'"):
        metrics.Yardstick("cpu", root=data_root, dataset="fashion")
    untrained = metrics.build_classifier(0).eval()
    other = metrics.Yardstick("cpu", root=data_root, classifier=untrained)
    assert not other.fixed and "a classifier trained here" in capsys.readouterr().out
    assert other.floor != pytest.approx(metrics.Yardstick("cpu", root=data_root, verbose=False).floor)
