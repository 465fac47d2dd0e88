"""The Wasserstein-GAN pieces (notebook 06): the exact 1-D W1, the critic's losses, the gradient
penalty against finite differences, weight clipping."""

import numpy as np
import pytest
import torch
from scipy import stats

from course_utils import gan, metrics


def test_wasserstein_1d_matches_scipy_and_closed_forms():
    rng = np.random.default_rng(0)
    for n, m in [(100, 100), (37, 211), (1, 5)]:
        x, y = rng.normal(size=n), rng.exponential(size=m) + 0.3
        assert metrics.wasserstein_1d(x, y) == pytest.approx(stats.wasserstein_distance(x, y), rel=1e-12, abs=1e-12)
    # two point masses: W1 = |theta| whatever theta (the JS divergence is log 2 for every theta != 0)
    for theta in (-3.0, 0.0, 0.01, 2.5):
        assert metrics.wasserstein_1d(np.zeros(10), np.full(10, theta)) == pytest.approx(abs(theta))
    # a shift moves W1 by exactly the shift; tensors are accepted
    x = torch.randn(500, generator=torch.Generator().manual_seed(0))
    assert metrics.wasserstein_1d(x, x + 0.7) == pytest.approx(0.7)
    assert metrics.wasserstein_1d(x, x) == 0.0
    with pytest.raises(ValueError, match="at least one sample"):
        metrics.wasserstein_1d([], [1.0])


def test_critic_losses():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, -2.0])
    assert gan.critic_loss(real, fake).item() == pytest.approx(-1.0 - 2.0)  # E fake - E real
    assert gan.generator_loss_critic(fake).item() == pytest.approx(1.0)
    # a 1-Lipschitz critic f(x) = x separating two point masses estimates W1 = |theta|
    theta = 2.5
    f = lambda x: x  # noqa: E731
    assert -gan.critic_loss(f(torch.full((4,), theta)), f(torch.zeros(4))).item() == pytest.approx(theta)


def _finite_difference_gp(critic, xhat, centre=1.0, h=1e-6):
    """The same penalty with the input gradient taken by central differences (float64)."""
    norms = []
    for point in xhat:
        grad = torch.zeros_like(point)
        flat = grad.view(-1)
        for i in range(flat.numel()):
            e = torch.zeros_like(point).view(-1)
            e[i] = h
            e = e.view_as(point)
            flat[i] = (critic(point[None] + e) - critic(point[None] - e)).sum() / (2 * h)
        norms.append(grad.norm())
    return (torch.stack(norms) - centre).pow(2).mean()


@pytest.mark.parametrize("shape", [(2,), (1, 4, 4)])
def test_gradient_penalty_matches_finite_differences(shape):
    torch.manual_seed(0)
    n_in = int(np.prod(shape))
    critic = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(n_in, 16), torch.nn.Tanh(), torch.nn.Linear(16,
                                                                                                                 1)).double()
    real, fake = torch.randn(6, *shape, dtype=torch.float64), torch.randn(6, *shape, dtype=torch.float64)
    penalty = gan.gradient_penalty(critic, real, fake, torch.Generator().manual_seed(3))
    eps = torch.rand((6,) + (1,) * len(shape), generator=torch.Generator().manual_seed(3), dtype=torch.float32).double()
    xhat = eps * real + (1 - eps) * fake
    assert penalty.item() == pytest.approx(_finite_difference_gp(critic, xhat).item(), rel=1e-6)
    assert penalty.requires_grad  # it trains the critic
    penalty.backward()
    assert critic[1].weight.grad is not None and critic[3].weight.grad is not None  # (biases do not move grad_x)


def test_finite_difference_penalty_agrees_with_autograd_and_a_closed_form():
    torch.manual_seed(1)
    critic = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(8, 12), torch.nn.Tanh(), torch.nn.Linear(12,
                                                                                                              1)).double()
    real, fake = torch.randn(5, 2, 4, dtype=torch.float64), torch.randn(5, 2, 4, dtype=torch.float64)
    eps = torch.rand(5, dtype=torch.float64)
    by_fd = gan.gradient_penalty_fd(critic, real, fake, eps)
    assert by_fd.item() == pytest.approx(gan.gradient_penalty(critic, real, fake, eps=eps).item(), rel=1e-7)
    xhat = eps[:, None, None] * real + (1 - eps[:, None, None]) * fake
    assert by_fd.item() == pytest.approx(_finite_difference_gp(critic, xhat).item(), rel=1e-9)
    # a linear critic f(x) = w.x has gradient w everywhere: penalty (||w|| - centre)^2
    linear = torch.nn.Linear(3, 1).double()
    norm = linear.weight.norm().item()
    x, y = torch.randn(4, 3, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64)
    for centre in (0.0, 1.0):
        assert gan.gradient_penalty_fd(linear, x, y, torch.rand(4, dtype=torch.float64), centre=centre).item() == \
            pytest.approx((norm - centre) ** 2, rel=1e-8)
    # a wrong penalty (squared norm, no centring) is told apart
    wrong = (gan.gradient_penalty(critic, real, fake, eps=eps, centre=0.0)).item()
    assert abs(wrong - by_fd.item()) > 1e-3


def test_gradient_penalty_is_zero_for_a_unit_slope_critic_and_checks_shapes():
    critic = torch.nn.Linear(3, 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[0.6, 0.8, 0.0]]))  # ||grad|| = 1 everywhere
    x, y = torch.randn(5, 3), torch.randn(5, 3)
    assert gan.gradient_penalty(critic, x, y).item() == pytest.approx(0.0, abs=1e-12)
    assert gan.gradient_penalty(critic, x, y, centre=0.0).item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="one shape"):
        gan.gradient_penalty(critic, x, y[:4])
    # one-sided (WGAN-LP): slopes below the centre cost nothing, slopes above cost as before
    with torch.no_grad():
        critic.weight.mul_(0.5)
    assert gan.gradient_penalty(critic, x, y).item() == pytest.approx(0.25)
    assert gan.gradient_penalty(critic, x, y, one_sided=True).item() == 0.0
    with torch.no_grad():
        critic.weight.mul_(6.0)  # norm 3
    assert gan.gradient_penalty(critic, x, y, one_sided=True).item() == pytest.approx(4.0)
    assert not x.requires_grad and not y.requires_grad


def test_clip_weights():
    critic = torch.nn.Linear(4, 3)
    with torch.no_grad():
        critic.weight.mul_(100)
    gan.clip_weights(critic, 0.01)
    assert all(p.abs().max() <= 0.01 for p in critic.parameters())
    assert (critic.weight.abs() == 0.01).any()  # large weights pile up at the bound


def test_stacked_images_take_each_channel_from_its_own_image():
    from course_utils import data

    images = torch.arange(5, dtype=torch.float32)[:, None, None, None].expand(5, 1, 2, 2).clone()
    labels = torch.tensor([0, 1, 2, 3, 4])
    x, y = data.stacked(images, labels, 200, generator=torch.Generator().manual_seed(0))
    assert x.shape == (200, 3, 2, 2) and y.shape == (200, 3)
    assert torch.equal(x[:, :, 0, 0].long(), y)  # image i has value i and label i
    assert len({tuple(r) for r in y.tolist()}) > 50  # the channels vary independently
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        data.stacked(images[:, 0], labels, 3)


def test_mode_histogram_counts_tuples_and_kl():
    every = torch.cartesian_prod(torch.arange(10), torch.arange(10), torch.arange(10))  # all 1,000 modes once
    report = metrics.mode_histogram(every)
    assert report["modes"] == 1000 and report["kl"] == pytest.approx(0.0, abs=1e-12)
    assert report["counts"][123] == 1 and report["counts"].sum() == 1000
    one = metrics.mode_histogram(torch.tensor([[1, 2, 3]] * 7))
    assert one["modes"] == 1 and one["kl"] == pytest.approx(np.log(1000)) and one["counts"][123] == 7
    half = metrics.mode_histogram(every[:500])
    assert half["modes"] == 500 and half["kl"] == pytest.approx(np.log(2))


def test_stacked_modes_reads_each_channel_with_the_classifier():
    # a stand-in classifier, so the test needs no training: the class is the mean intensity x 10
    class Head(torch.nn.Module):
        out_features = 10

        def forward(self, mean):
            return torch.nn.functional.one_hot((mean[:, 0] * 10).long().clamp(0, 9), 10).float() * 20

    class ByIntensity(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.head, self.anchor = Head(), torch.nn.Parameter(torch.zeros(1))  # anchor: a device to run on

        def features(self, x):
            return x.flatten(1).mean(1, keepdim=True)

    images = torch.tensor([[0.05, 0.55, 0.95], [0.15, 0.15, 0.15]])[:, :, None, None].expand(2, 3, 28, 28)
    report = metrics.stacked_modes(ByIntensity(), images)
    assert report["modes"] == 2 and report["counts"][59] == 1 and report["counts"][111] == 1


def _w1_cases():
    g = torch.Generator().manual_seed(0)
    return [(torch.randn(100, generator=g, dtype=torch.float64), 2 + torch.rand(100, generator=g, dtype=torch.float64)),
            (torch.randn(257, generator=g, dtype=torch.float64),  # the two CDFs cross
             0.5 + 3 * torch.randn(257, generator=g, dtype=torch.float64))]


def test_w1_checker_accepts_sorted_samples_and_rejects_unsorted_or_mean_differences():
    from course_utils import checks

    reference = lambda x, y: torch.tensor(metrics.wasserstein_1d(x, y), dtype=x.dtype)  # noqa: E731
    right = lambda x, y: (x.sort().values - y.sort().values).abs().mean()  # noqa: E731
    assert checks.check_exercise("w1_sorted", right, _w1_cases(), atol=1e-9, reference=reference) is right
    for wrong in (lambda x, y: (x - y).abs().mean(),  # pairs the points in their given order
                  lambda x, y: (x.mean() - y.mean()).abs()):  # a lower bound only
        with pytest.raises(checks.ExerciseError):
            checks.check_exercise("w1_sorted", wrong, _w1_cases(), atol=1e-9, reference=reference)


def test_gradient_penalty_checker_accepts_the_autograd_version_and_rejects_wrong_ones():
    from course_utils import checks

    torch.manual_seed(0)
    f_points = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1)).double()
    f_images = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3), torch.nn.Tanh(), torch.nn.Flatten(), torch.nn.Linear(48,
                                                                                                                  1)).double()
    cases = [(f_points, torch.randn(32, 2, dtype=torch.float64), 3 * torch.randn(32, 2, dtype=torch.float64),
              torch.rand(32, dtype=torch.float64)),
             (f_images, torch.rand(3, 1, 6, 6, dtype=torch.float64), torch.rand(3, 1, 6, 6, dtype=torch.float64),
              torch.rand(3, dtype=torch.float64))]
    reference = lambda *case: gan.gradient_penalty_fd(*case)  # noqa: E731  (notebook 06, exercise 2)
    right = lambda critic, real, fake, eps: gan.gradient_penalty(critic, real, fake, eps=eps)  # noqa: E731
    assert checks.check_exercise("gradient_penalty", right, cases, atol=1e-6, reference=reference) is right

    def squared_norm(critic, real, fake, eps):  # (||g||^2 - 1)^2 instead of (||g|| - 1)^2
        e = eps.reshape((-1,) + (1,) * (real.dim() - 1))
        xhat = e * real + (1 - e) * fake
        xhat.requires_grad_(True)
        (grad,) = torch.autograd.grad(critic(xhat).sum(), xhat, create_graph=True)
        return (grad.flatten(1).pow(2).sum(1) - 1).pow(2).mean()

    def one_eps(critic, real, fake, eps):  # one mixing weight for the whole batch
        return gan.gradient_penalty(critic, real, fake, eps=torch.full_like(eps, float(eps[0])))

    for wrong in (squared_norm, one_eps, lambda c, r, f, e: gan.gradient_penalty(c, r, f, eps=e, centre=0.0)):
        with pytest.raises(checks.ExerciseError):
            checks.check_exercise("gradient_penalty", wrong, cases, atol=1e-6, reference=reference)


def test_optimal_critic_attains_w1_and_its_checker_rejects_the_flipped_slope():
    from course_utils import checks

    g = torch.Generator().manual_seed(0)
    t = torch.linspace(-6, 6, 2401, dtype=torch.float64)
    real = torch.cat([torch.randn(5000, generator=g) * 0.5 - 2, torch.randn(5000, generator=g) * 0.5 + 2])
    for fake in (torch.randn(10000, generator=g), 1 + 0.5 * torch.randn(10000, generator=g), real + 0.5):
        F_r, F_g = ((v.double()[None, :] <= t[:, None]).double().mean(1) for v in (real, fake))
        f = metrics.optimal_critic_1d(t, F_r, F_g)
        assert f[0] == 0 and torch.all(torch.diff(f).abs() <= torch.diff(t) + 1e-12)  # 1-Lipschitz
        gap = (np.interp(real.numpy(), t.numpy(), f.numpy()).mean()
               - np.interp(fake.numpy(), t.numpy(), f.numpy()).mean())
        assert gap == pytest.approx(metrics.wasserstein_1d(real, fake), rel=0.01)  # the supremum, up to the grid
    cases = [(t, F_r, F_g)]
    assert checks.check_exercise("optimal_critic", metrics.optimal_critic_1d, cases) is metrics.optimal_critic_1d
    with pytest.raises(checks.ExerciseError, match="optimal_critic"):  # the slope sign(F_r - F_g): the worst critic
        checks.check_exercise("optimal_critic", lambda t, a, b: metrics.optimal_critic_1d(t, b, a), cases)
