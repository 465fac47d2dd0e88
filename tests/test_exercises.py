"""The reasoning exercises' checkers: each accepts every correct form a student may write (the reference,
another exact formula, another correct estimator) and rejects the typical slips, on the check cells' own
cases (copied from the notebooks)."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_utils import checks, dynamics, hybrids, variational


def accepts(name, fn, cases, **kwargs):
    return checks.check_exercise(name, fn, cases, **kwargs) is fn


def rejects(name, fn, cases, **kwargs):
    with pytest.raises(checks.ExerciseError):
        checks.check_exercise(name, fn, cases, **kwargs)
    return True


def test_01_same_alphabet_share():
    cases = [torch.tensor([1, 2, 3]), torch.tensor([5, 5]), torch.tensor([40, 14, 26, 55, 3, 20])]

    def by_counting_pairs(n):  # same-alphabet pairs over all pairs of distinct characters
        return sum(math.comb(int(k), 2) for k in n) / math.comb(int(n.sum()), 2)

    assert accepts("same_alphabet_share", by_counting_pairs, cases)
    assert rejects("same_alphabet_share", lambda n: float((n.double() ** 2).sum() / n.sum() ** 2), cases)  # replacement
    assert rejects("same_alphabet_share", lambda n: 1 / len(n), cases)  # one alphabet in A


def test_01_trials_to_tell_apart():
    cases = [(0.8, 0.045), (0.5, 0.12), (0.92, 0.03), (0.3, 0.07)]
    assert accepts("trials_to_tell_apart", lambda p, d: math.ceil(8 * p * (1 - p) / d ** 2), cases)
    assert accepts("trials_to_tell_apart", lambda p, d: int(2 * 2 * 2 * p * (1 - p) / d ** 2) + 1, cases)
    assert rejects("trials_to_tell_apart", lambda p, d: math.ceil(4 * p * (1 - p) / d ** 2), cases)  # one model's se
    assert rejects("trials_to_tell_apart", lambda p, d: 8 * p * (1 - p) / d ** 2, cases)  # not a whole number


def test_02_mixture_moments():
    g = torch.Generator().manual_seed(2)
    cases = [(torch.tensor([0.5, 0.5], dtype=torch.float64), torch.tensor([-3.0, 3.0], dtype=torch.float64),
              torch.ones(2, dtype=torch.float64)),
             (torch.tensor([0.2, 0.3, 0.5], dtype=torch.float64), torch.randn(3, generator=g, dtype=torch.float64),
              torch.rand(3, generator=g, dtype=torch.float64) + 0.1)]

    def via_second_moment(w, m, v):
        mean = (w * m).sum()
        return torch.stack([mean, (w * (v + m ** 2)).sum() - mean ** 2])

    assert accepts("mixture_moments", via_second_moment, cases)
    assert rejects("mixture_moments", lambda w, m, v: torch.stack([(w * m).sum(), (w * v).sum()]), cases)  # within only


def test_02_mc_elbo_accepts_the_entropy_in_closed_form():
    g = torch.Generator().manual_seed(1)
    joint = lambda x, z: -0.5 * ((x - z.sum(-1)) ** 2 + (z ** 2).sum(-1))  # noqa: E731
    cases = [(torch.tensor(0.7), torch.randn(50, 3, generator=g), joint, torch.randn(3, generator=g),
              torch.randn(3, generator=g))]

    def sampled(x, z, log_joint, mu, logvar):
        return (log_joint(x, z) - torch.distributions.Normal(mu, (0.5 * logvar).exp()).log_prob(z).sum(-1)).mean()

    def exact_entropy(x, z, log_joint, mu, logvar):
        return log_joint(x, z).mean() + torch.distributions.Normal(mu, (0.5 * logvar).exp()).entropy().sum()

    assert accepts("mc_elbo", sampled, cases) and accepts("mc_elbo", exact_entropy, cases)
    assert rejects("mc_elbo", lambda x, z, log_joint, mu, logvar: log_joint(x, z).mean(), cases)  # no entropy


def test_03_bernoulli_log_likelihood_accepts_bce_with_logits():
    g = torch.Generator().manual_seed(0)
    cases = [(torch.bernoulli(torch.full((3, 10), 0.5), generator=g), torch.randn(3, 10, generator=g)),
             (torch.bernoulli(torch.full((2, 784), 0.2), generator=g), 30 * torch.randn(5, 2, 784, generator=g))]

    def bce(x, logits):
        return -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").sum(-1)

    assert accepts("bernoulli_log_likelihood", bce, cases)
    naive = lambda x, logits: (x * torch.log(torch.sigmoid(logits))  # noqa: E731 - log 0 at large logits
                               + (1 - x) * torch.log(1 - torch.sigmoid(logits))).sum(-1)
    assert rejects("bernoulli_log_likelihood", naive, cases)


def test_03_iw_bound():
    g = torch.Generator().manual_seed(3)
    cases = [torch.randn(7, 4, generator=g) - 100.0, torch.randn(1, 3, generator=g, dtype=torch.float64),
             torch.tensor([[-1000.0, -1001.0], [-1003.0, -1000.5], [-999.0, -1050.0]], dtype=torch.float64)]
    assert accepts("iw_bound", lambda w: torch.logsumexp(w, 0) - math.log(w.shape[0]), cases)
    assert rejects("iw_bound", lambda w: w.exp().mean(0).log(), cases)  # underflows to -inf
    assert rejects("iw_bound", lambda w: torch.logsumexp(w, 0), cases)  # the sum, not the mean


def test_04_expected_modes():
    cases = [(25, 2500), (25, 50), (1000, 2000), (1000, 26_000), (8, 3)]
    assert accepts("expected_modes", lambda k, n: k - k * math.exp(n * math.log1p(-1 / k)), cases)
    assert rejects("expected_modes", lambda k, n: 1 - (1 - 1 / k) ** n, cases)  # P(a given mode is hit)
    assert rejects("expected_modes", lambda k, n: float(min(k, n)), cases)


def test_05_alternating_jacobian_is_the_numerical_one():
    cases = [(0.5, 0.1), (1.0, 0.7), (0.5, 3.0)]
    for a, h in cases:
        numerical = dynamics.update_jacobian(dynamics.GAN if a == 0.5 else dynamics.WGAN, h, mode="alternating")
        np.testing.assert_allclose(numerical, dynamics.jacobian_alternating(a, h), atol=1e-8)
    assert accepts("alternating_jacobian", lambda a, h: np.eye(2) + h * np.array([[-h * a * a, -a], [a, 0.0]]), cases)
    assert rejects("alternating_jacobian", lambda a, h: np.array([[1.0, -h * a], [h * a, 1.0]]), cases)  # simultaneous
    assert rejects("alternating_jacobian", lambda a, h: np.array([[1.0, -h * a], [h * a, 1 - (h * a) ** 2]]),
                   cases)  # theta first


def test_06_js_estimate():
    cases = [torch.tensor(2 * math.log(2)), torch.tensor([0.0, 0.3, 1.0]), torch.rand(5, dtype=torch.float64)]
    assert accepts("js_estimate", lambda loss: (math.log(4) - loss) / 2, cases)
    assert rejects("js_estimate", lambda loss: math.log(2) - loss, cases)
    assert rejects("js_estimate", lambda loss: (loss - math.log(4)) / 2, cases)


def test_07_lens_push():
    g = torch.Generator().manual_seed(0)
    cases = [(torch.tensor([-3.0, 0.0, 3.0]), 1.0), (torch.randn(6, generator=g, dtype=torch.float64), 0.29),
             (torch.tensor([10.0, 30.0]), 2.5)]
    assert accepts("lens_push", lambda logits, lam: lam * torch.sigmoid(-logits), cases)
    assert rejects("lens_push", lambda logits, lam: lam * torch.sigmoid(logits), cases)
    d_sigmoid = lambda logits, lam: lam * torch.sigmoid(logits) * (1 - torch.sigmoid(logits))  # noqa: E731
    assert rejects("lens_push", d_sigmoid, cases)  # the slope of D, not of log D


def test_08_mixture_nll_bound():
    cases = [(torch.tensor([88.0, 120.0]), torch.tensor(0.01)),
             (torch.tensor(85.0, dtype=torch.float64), torch.tensor([0.5, 0.1, 1.0], dtype=torch.float64))]
    assert accepts("mixture_nll_bound", lambda nll, w: nll + torch.log(1 / w), cases)
    assert rejects("mixture_nll_bound", lambda nll, w: nll + torch.log(w), cases)
    assert rejects("mixture_nll_bound", lambda nll, w: nll - torch.log1p(-w), cases)


def test_08_frechet_terms_accepts_the_rank_tolerance_and_the_clamp():
    g = torch.Generator().manual_seed(0)

    def spd(f):
        a = torch.randn(f, f, generator=g, dtype=torch.float64)
        return a @ a.T / f + 0.1 * torch.eye(f, dtype=torch.float64)

    cases = [(torch.randn(f, generator=g, dtype=torch.float64), spd(f),
              torch.randn(f, generator=g, dtype=torch.float64), spd(f)) for f in (1, 2, 5, 32)]

    def terms(nonzero):
        def learner(mu1, sigma1, mu2, sigma2):
            w, v = torch.linalg.eigh(sigma1)
            root = v @ torch.diag(nonzero(w).sqrt()) @ v.T
            trace_root = nonzero(torch.linalg.eigvalsh(root @ sigma2 @ root)).sqrt().sum()
            return torch.stack([(mu1 - mu2).pow(2).sum(), sigma1.trace() + sigma2.trace() - 2 * trace_root])
        return learner

    tolerance = terms(lambda lam: torch.where(lam > lam.numel() * torch.finfo(lam.dtype).eps * lam.max(), lam, 0.0))
    assert accepts("frechet_terms", tolerance, cases, atol=1e-8)
    assert accepts("frechet_terms", terms(lambda lam: lam.clamp(min=0)), cases, atol=1e-8)


def _mc_kl_cases():  # notebook 08's check cell
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(6, 2, generator=g), torch.randn(6, 2, generator=g) - 1
    z = mu + (0.5 * logvar).exp() * torch.randn(6, 2, generator=g)
    return [(z, mu, logvar, hybrids.PRIORS["mixture"].log_prob), (z, mu, logvar, hybrids.PRIORS["normal"].log_prob),
            (z.double(), mu.double(), logvar.double(), hybrids.ArmsPrior(k=3, shift=1.0).log_prob)]


def test_08_mc_kl():
    cases = _mc_kl_cases()

    def by_hand(z, mu, logvar, log_prior):  # log q written out, summed over the code's dimensions
        var = logvar.exp()
        log_q = (-0.5 * (math.log(2 * math.pi) + logvar + (z - mu) ** 2 / var)).sum(-1)
        return log_q - log_prior(z)

    assert accepts("mc_kl", by_hand, cases)
    assert rejects("mc_kl", lambda z, mu, logvar, log_prior: log_prior(z) - (by_hand(z, mu, logvar, log_prior)
                                                                             + log_prior(z)), cases)  # sign
    # the closed form to N(0, I) is right for one case only: the mixture has no closed form
    assert rejects("mc_kl", lambda z, mu, logvar, log_prior: variational.gaussian_kl(mu, logvar).sum(-1), cases)
    # log q per dimension, not summed: another shape
    assert rejects("mc_kl", lambda z, mu, logvar, log_prior: variational.gaussian_log_prob(z, mu, logvar)
                   - log_prior(z)[:, None], cases)
