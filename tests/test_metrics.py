"""metrics: the Fréchet distance against closed forms and scipy, the scorer, the cached classifier."""

import math

import numpy as np
import pytest
import torch

from course_utils import config, data, metrics


def test_frechet_distance_of_diagonal_gaussians_is_the_closed_form():
    """Commuting covariances: d^2 = ||mu1 - mu2||^2 + sum (sqrt(a) - sqrt(b))^2."""
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    a, b = rng.uniform(0.1, 3, 6), rng.uniform(0.1, 3, 6)
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    assert metrics.frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-10)
    # 1-D: the 2-Wasserstein distance between N(m1, s1^2) and N(m2, s2^2) is (m1-m2)^2 + (s1-s2)^2
    assert metrics.frechet_distance([1.0], [[4.0]], [0.0], [[1.0]]) == pytest.approx(1 + 1)
    assert metrics.frechet_distance(mu1, np.diag(a), mu1, np.diag(a)) == pytest.approx(0, abs=1e-9)


def test_frechet_distance_against_scipy_sqrtm_on_random_data():
    linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(1)
    for dim in (2, 16, 64):
        x = rng.normal(size=(500, dim)) @ rng.normal(size=(dim, dim))
        y = rng.normal(size=(400, dim)) @ rng.normal(size=(dim, dim)) + 0.5
        (m1, s1), (m2, s2) = metrics.feature_statistics(x), metrics.feature_statistics(y)
        covmean = linalg.sqrtm(s1 @ s2).real
        expected = ((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)
        assert metrics.frechet_distance(m1, s1, m2, s2) == pytest.approx(expected, rel=1e-6)


def test_feature_statistics_and_bad_shapes():
    x = torch.randn(100, 3, dtype=torch.float64)
    mu, sigma = metrics.feature_statistics(x)
    assert np.allclose(mu, x.mean(0).numpy()) and np.allclose(sigma, np.cov(x.numpy(), rowvar=False))
    with pytest.raises(ValueError, match=r"\(N, F\)"):
        metrics.feature_statistics(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="shapes do not match"):
        metrics.frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))


def test_scorer_on_a_fixed_network():
    torch.manual_seed(0)
    classifier = metrics.DigitClassifier().eval()
    real = torch.rand(300, 1, 28, 28)
    scorer = metrics.SampleScorer(classifier, real)
    same = scorer.score(real)
    assert same["frechet"] == pytest.approx(0, abs=1e-6)
    assert same["histogram"].sum() == pytest.approx(1) and 0 <= same["entropy"] <= math.log(10) + 1e-12
    assert 0.1 <= same["confidence"] <= 1 and same["max_entropy"] == pytest.approx(math.log(10))
    other = scorer.score(torch.zeros(300, 1, 28, 28))  # one constant image: one class, entropy 0
    assert other["frechet"] > 0 and other["entropy"] == 0 and other["classes_present"] == 1
    uint8 = scorer.score((real * 255).round().to(torch.uint8))  # uint8 images are scaled
    assert uint8["frechet"] < 1e-3
    assert "1.0x the real-vs-real floor" in metrics.describe(scorer.score(real[:150]),
                                                             floor=scorer.score(real[:150])["frechet"])


@pytest.mark.slow
def test_classifier_trains_is_cached_and_tells_digits_apart(isolated_env, data_root, capsys):
    cfg = config.setup(fast=True, seed=0, device="cpu", verbose=False)
    train_set, test_set = data.mnist("train", root=data_root), data.mnist("test", root=data_root)
    classifier, history = metrics.train_classifier(train_set, cfg, steps=150)
    acc = metrics.accuracy(classifier, test_set.images[:2000], test_set.labels[:2000])
    assert acc > 80 and not classifier.training  # chance is 10 %; 150 steps reach about 88 %
    again, history_again = metrics.train_classifier(train_set, cfg, steps=150)
    assert "Loaded classifier_MNIST-train" in capsys.readouterr().out
    assert history_again.values == history.values
    for p, q in zip(classifier.parameters(), again.parameters()):
        assert torch.equal(p, q)
    # real test digits: every class present, entropy near log 10
    scores = metrics.SampleScorer(classifier, test_set.images[:2000]).score(train_set.images[:2000])
    assert scores["classes_present"] == 10 and scores["entropy"] > 2.25


def test_frechet_terms_split_the_distance_and_match_the_1d_closed_form():
    # 1-D: (m1 - m2)^2 and (s1 - s2)^2 for standard deviations s1, s2
    mean_term, cov_term = metrics.frechet_terms([3.0], [[4.0]], [1.0], [[9.0]])
    assert mean_term == pytest.approx(4.0) and cov_term == pytest.approx(1.0)
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(6, 6)), rng.normal(size=(6, 6))
    s1, s2 = a @ a.T + 0.1 * np.eye(6), b @ b.T + 0.1 * np.eye(6)
    m1, m2 = rng.normal(size=6), rng.normal(size=6)
    terms = metrics.frechet_terms(m1, s1, m2, s2)
    assert sum(terms) == pytest.approx(metrics.frechet_distance(m1, s1, m2, s2), rel=1e-12)
    assert terms[0] == pytest.approx(float((m1 - m2) @ (m1 - m2))) and terms[1] > 0
    # tensors are accepted as well as arrays
    as_tensors = metrics.frechet_terms(*(torch.from_numpy(t) for t in (m1, s1, m2, s2)))
    assert as_tensors == pytest.approx(terms)


def _dead_unit_features(n=3000, f=64, dead=24, seed=0):
    """ReLU features (n, f) of which ``dead`` columns never fire, in a rotated basis: a singular
    covariance whose null eigenvalues come out as rounding noise, like the yardstick's (48 of 128)."""
    rng = np.random.default_rng(seed)
    x = np.maximum(rng.normal(size=(n, f)) @ rng.normal(size=(f, f)), 0)
    x[:, :dead] = 0.0
    q, _ = np.linalg.qr(rng.normal(size=(f, f)))
    return x @ q


def test_frechet_terms_of_singular_covariances_match_the_closed_form():
    """Commuting singular covariances Q diag(a) Q^T, Q diag(b) Q^T (a, b with 40 zeros of 64): the covariance
    term is sum (sqrt(a) - sqrt(b))^2. Null eigenvalues come out of eigh as noise of either sign (1e-16 here);
    a square root would turn each into about 1e-8, so the distance is exact only because they count as 0."""
    rng = np.random.default_rng(2)
    q, _ = np.linalg.qr(rng.normal(size=(64, 64)))
    a, b = rng.uniform(0.5, 3, 64), rng.uniform(0.5, 3, 64)
    a[:40], b[:40] = 0.0, 0.0
    s1, s2 = (q * a) @ q.T, (q * b) @ q.T
    _, cov_term = metrics.frechet_terms(np.zeros(64), s1, np.zeros(64), s2)
    assert cov_term == pytest.approx(((np.sqrt(a) - np.sqrt(b)) ** 2).sum(), rel=0, abs=1e-10)


def test_frechet_rounding_bounds_correct_implementations_and_not_a_wrong_one():
    """numpy with the rank tolerance (the library), torch with a clamp at 0, and scipy's sqrtm all agree
    within frechet_rounding on features with dead units; the entry-by-entry square root does not."""
    linalg = pytest.importorskip("scipy.linalg")
    (m1, s1), (m2, s2) = (metrics.feature_statistics(_dead_unit_features(seed=s)) for s in (0, 1))
    library = metrics.frechet_distance(m1, s1, m2, s2)
    bound = metrics.frechet_rounding(s1, s2)
    t1, t2 = torch.from_numpy(s1), torch.from_numpy(s2)
    w, v = torch.linalg.eigh(t1)
    root = v @ torch.diag(w.clamp(min=0).sqrt()) @ v.T
    clamped = float(((m1 - m2) ** 2).sum() + t1.trace() + t2.trace()
                    - 2 * torch.linalg.eigvalsh(root @ t2 @ root).clamp(min=0).sqrt().sum())
    by_sqrtm = float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(linalg.sqrtm(s1 @ s2).real))
    elementwise = float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(np.abs(s1 * s2)).trace())
    assert abs(clamped - library) <= bound and abs(by_sqrtm - library) <= bound
    assert abs(elementwise - library) > 100 * bound
    assert 0 < bound < 1e-3 * library  # a bound that still tells a wrong formula from rounding


@pytest.mark.slow
def test_two_sample_accuracy_is_chance_for_one_distribution_and_bayes_for_two():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(5000, 2, generator=g), torch.randn(5000, 2, generator=g)
    # 2,500 held-out points a side: balanced accuracy of a coin has sd sqrt(0.25 / 5000) = 0.007; 5 sd
    assert abs(metrics.two_sample_accuracy(a, b) - 0.5) < 0.036
    # N(0, I) against N((1, 0), I): the best possible accuracy is Phi(1 / 2) = 0.691 (Bayes);
    # a learned boundary can only lose, and chance moves it by 0.007 (sd): 5 sd either side
    shifted = torch.randn(5000, 2, generator=g) + torch.tensor([1.0, 0.0])
    bayes = 0.5 * (1 + math.erf(0.5 / math.sqrt(2)))
    acc = metrics.two_sample_accuracy(a, shifted)
    assert bayes - 0.036 < acc < bayes + 0.036
    # the units do not matter (inputs are standardised: unstandardised, Adam at 3e-3 could not
    # move a boundary to points 1,000 apart), and disjoint supports are told apart
    assert bayes - 0.036 < metrics.two_sample_accuracy(1000 * a, 1000 * shifted) < bayes + 0.036
    far = torch.rand(2000, 2, generator=g) + 3.0
    assert metrics.two_sample_accuracy(a[:2000], far) > 0.99


def test_two_sample_accuracy_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"\(n, F\)"):
        metrics.two_sample_accuracy(torch.zeros(10, 2), torch.zeros(10, 3))
    with pytest.raises(ValueError, match="at least 4"):
        metrics.two_sample_accuracy(torch.zeros(3, 2), torch.zeros(10, 2))
