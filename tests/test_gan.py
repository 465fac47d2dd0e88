"""gan: the reference losses against their closed forms, R1 against hand gradients, networks, EMA."""

import math

import pytest
import torch
import torch.nn.functional as F

from course_utils import gan


def test_discriminator_loss_is_binary_cross_entropy():
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(64, generator=g) * 3, torch.randn(64, generator=g) * 3
    bce = F.binary_cross_entropy_with_logits(real, torch.ones(64)) + F.binary_cross_entropy_with_logits(fake,
                                                                                                        torch.zeros(64))
    assert torch.allclose(gan.discriminator_loss(real, fake), bce)
    # and its written form -(E log D(x) + E log(1 - D(G(z))))
    d_real, d_fake = torch.sigmoid(real.double()), torch.sigmoid(fake.double())
    direct = -(d_real.log().mean() + (1 - d_fake).log().mean())
    assert torch.allclose(gan.discriminator_loss(real.double(), fake.double()), direct)


@pytest.mark.parametrize("loss, value, grad", [
    (gan.generator_loss_saturating, lambda d: (1 - d).log(), lambda d: -d),
    (gan.generator_loss_nonsaturating, lambda d: -d.log(), lambda d: -(1 - d)),
    (gan.generator_loss_logit, lambda d: ((1 - d) / d).log(), lambda d: -torch.ones_like(d)),
])
def test_generator_losses_and_their_gradients_in_the_logit(loss, value, grad):
    """Value per sample against the formula in D; d loss / d logit against the closed form."""
    logits = torch.linspace(-6, 6, 25, dtype=torch.float64, requires_grad=True)
    d = torch.sigmoid(logits.detach())
    out = loss(logits)
    assert torch.allclose(out, value(d).mean())
    out.backward()
    assert torch.allclose(logits.grad * len(logits), grad(d))
    # every one pushes D(G(z)) up: gradient descent raises the logit
    assert (logits.grad < 0).all()


def test_r1_penalty_against_hand_gradients():
    x = torch.randn(32, 3, dtype=torch.float64, requires_grad=True)
    w = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    assert torch.allclose(gan.r1_penalty(x @ w + 0.3, x), w.pow(2).sum())
    quadratic = gan.r1_penalty(x.pow(2).sum(1), x)  # grad = 2x
    assert torch.allclose(quadratic, (4 * x.detach().pow(2).sum(1)).mean())
    quadratic.backward()  # create_graph: the penalty itself trains D
    assert torch.allclose(x.grad, 8 * x.detach() / 32)


def test_networks_shapes_and_ranges():
    G, D = gan.mlp(2, 2, hidden=16, layers=3), gan.mlp(2, 1, hidden=16, layers=3)
    assert G(torch.randn(5, 2)).shape == (5, 2) and D(torch.randn(5, 2)).shape == (5, 1)
    assert sum(isinstance(m, torch.nn.Linear) for m in G) == 4
    gen, disc = gan.DCGenerator(latent=8, width=8), gan.DCDiscriminator(width=8)
    x = gen(torch.randn(4, 8))
    assert x.shape == (4, 1, 28, 28) and x.min() > 0 and x.max() < 1
    assert disc(x).shape == (4,)
    # three channels for stacked MNIST; one channel keeps the parameter names and shapes of before
    gen3, disc3 = gan.DCGenerator(latent=8, width=8, channels=3), gan.DCDiscriminator(width=8, channels=3)
    assert gen3(torch.randn(2, 8)).shape == (2, 3, 28, 28) and disc3(torch.rand(2, 3, 28, 28)).shape == (2,)
    assert {k: v.shape for k, v in gen.state_dict().items()} == {
        k: v.shape for k, v in gan.DCGenerator(latent=8, width=8, channels=1).state_dict().items()}


def test_ema_follows_the_formula():
    model = torch.nn.Linear(3, 2)
    ema = gan.EMA(model, beta=0.9)
    start = model.weight.detach().clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    ema.update()
    assert torch.allclose(ema.model.weight, 0.9 * start + 0.1 * (start + 1))
    assert not ema.model.weight.requires_grad and not ema.model.training
    with pytest.raises(ValueError, match="beta"):
        gan.EMA(model, beta=1.0)


def test_optimal_discriminator_closed_form_and_empty_support():
    p_r = torch.tensor([0.0, 1.0, 0.0, 2.0, 1e-300], dtype=torch.float64)
    p_g = torch.tensor([0.0, 0.0, 3.0, 2.0, 1e-300], dtype=torch.float64)
    assert gan.optimal_discriminator(p_r, p_g).tolist() == [0.5, 1.0, 0.0, 0.5, 0.5]


# ------------------------------------------------------------------ notebook 04's checkers


def test_dropped_mode_divergences_match_the_integrals_on_a_grid():
    # two modes 16 standard deviations apart (disjoint to about 1e-15); the generator keeps only the right one
    x = torch.linspace(-12, 12, 48001, dtype=torch.float64)
    dx = (x[1] - x[0]).item()

    def normal(m):
        return torch.exp(-0.5 * ((x - m) / 0.25) ** 2) / (0.25 * math.sqrt(2 * math.pi))

    def kl(p, q):
        mask = p > 1e-300
        return (torch.where(mask, p * (p.clamp_min(1e-300).log() - q.clamp_min(1e-300).log()), 0).sum() * dx).item()

    for w in (0.05, 0.3, 0.5, 0.8):
        p_r, p_g = w * normal(-2.0) + (1 - w) * normal(2.0), normal(2.0)
        m = (p_r + p_g) / 2
        reverse_kl, js = gan.dropped_mode_divergences(torch.tensor(w, dtype=torch.float64)).tolist()
        assert reverse_kl == pytest.approx(kl(p_g, p_r), abs=1e-6) and reverse_kl == pytest.approx(-math.log(1 - w))
        assert js == pytest.approx(0.5 * kl(p_r, m) + 0.5 * kl(p_g, m), abs=1e-6)
    # bounded by log 2, reached as the dropped mode takes all the mass
    assert gan.dropped_mode_divergences(torch.tensor(1 - 1e-12, dtype=torch.float64))[1].item() == pytest.approx(
        math.log(2), abs=1e-9)


def _check(name, learner, reference, cases):
    from course_utils import checks

    return checks.check_exercise(name, learner, cases, reference=reference)


def test_each_exercise_checker_accepts_the_reference_and_rejects_a_wrong_answer():
    from course_utils import checks

    g = torch.Generator().manual_seed(0)
    pair = (torch.randn(32, generator=g), torch.randn(32, generator=g))
    one = [torch.randn(32, generator=g), 40 * torch.randn(8, generator=g)]
    dens = [(torch.rand(20, generator=g, dtype=torch.float64), torch.rand(20, generator=g, dtype=torch.float64)),
            (torch.tensor([0.0, 1.0]), torch.tensor([0.0, 1.0]))]
    exercises = [
        ("optimal_discriminator", gan.optimal_discriminator, dens, lambda p_r, p_g: p_g / (p_r + p_g)),
        ("discriminator_loss", gan.discriminator_loss, [pair], lambda r,
         f: F.softplus(r).mean() + F.softplus(-f).mean()),
        ("generator_loss_saturating", gan.generator_loss_saturating, one, lambda f: F.softplus(f).mean()),
        # the classic confusion: the saturating loss with its sign flipped
        ("generator_loss_nonsaturating", gan.generator_loss_nonsaturating, one, lambda f: F.softplus(f).mean()),
        # the dropped mode's mass in the reverse KL without the renormalisation: -log(1 - w) vs w
        ("dropped_mode_divergences", gan.dropped_mode_divergences, [torch.tensor([0.1, 0.5, 0.9], dtype=torch.float64)],
         lambda w: torch.stack([w, gan.dropped_mode_divergences(w)[..., 1]], -1)),
    ]
    for name, reference, cases, wrong in exercises:
        assert _check(name, reference, reference, cases) is reference
        with pytest.raises(checks.ExerciseError, match=name):
            _check(name, wrong, reference, cases)
