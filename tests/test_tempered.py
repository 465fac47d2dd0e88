"""The tempered GAN (notebook 07): the lambda schedule, the lens loss against its closed form and
gradient, the lens networks, the training loop with and without a lens; the segments toy; the VAE
that notebooks 04 and 07 compare with."""

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from course_utils import checks, config, gan, tempered, toys, variational


def test_lambda_schedule_closed_form():
    K = 1000
    assert tempered.lambda_schedule(0, K) == 1.0
    assert tempered.lambda_schedule(K // 2, K) == pytest.approx(1 - math.sin(math.pi / 4))
    assert tempered.lambda_schedule(K - 1, K) == pytest.approx(1 - math.sin((K - 1) * math.pi / (2 * K)))
    assert tempered.lambda_schedule(K, K) == 0.0 and tempered.lambda_schedule(5 * K, K) == 0.0
    values = [tempered.lambda_schedule(t, K) for t in range(2 * K)]
    assert all(a >= b for a, b in zip(values, values[1:]))  # never rises
    assert all(0.0 <= v <= 1.0 for v in values)
    # fastest at first (slope -pi / 2K), flat where it reaches 0 (slope 0 at K)
    assert values[0] - values[K // 10] > 10 * (values[K - K // 10] - values[K])
    with pytest.raises(ValueError, match="K must be"):
        tempered.lambda_schedule(3, 0)
    with pytest.raises(ValueError, match="t must be"):
        tempered.lambda_schedule(-1, 10)


def _case(seed=0, n=16, shape=(1, 5, 5), lam=0.7):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, *shape, generator=g, dtype=torch.float64)
    lensed = x + 0.2 * torch.randn(n, *shape, generator=g, dtype=torch.float64)
    return 2 * torch.randn(n, generator=g, dtype=torch.float64), torch.randn(n, generator=g,
                                                                             dtype=torch.float64), lensed, x, lam


def test_lens_loss_value_and_gradient():
    real, fake, lensed, x, lam = _case()
    d = lensed[0].numel()
    # value: -lam * (BCE on real as 1 + BCE on fake as 0) + mean squared error
    bce = -(torch.sigmoid(real).log().mean() + (1 - torch.sigmoid(fake)).log().mean())
    expected = -lam * bce + ((lensed - x) ** 2).sum() / (len(x) * d)
    assert tempered.lens_loss(real, fake, lensed, x, lam).item() == pytest.approx(expected.item(), rel=1e-12)
    # gradient through a linear D on the lensed images: closed form
    w = torch.randn(d, dtype=torch.float64)
    lensed = lensed.clone().requires_grad_(True)
    logits = lensed.flatten(1) @ w
    tempered.lens_loss(logits, fake, lensed, x, lam).backward()
    n = len(x)
    by_hand = (-lam * (-(1 - torch.sigmoid(logits.detach())) / n)[:, None] * w
               + 2 * (lensed.detach() - x).flatten(1) / (n * d)).view_as(x)
    assert torch.allclose(lensed.grad, by_hand, atol=1e-12)
    # lambda = 0: only the reconstruction is left, minimised by the identity
    assert tempered.lens_loss(real, fake, x, x, 0.0).item() == 0.0
    # the critic version: -lam * (E f(fake) - E f(real)) + MSE
    value = tempered.lens_loss(real, fake, x, x, 2.0, d_loss=gan.critic_loss)
    assert value.item() == pytest.approx(-2.0 * (fake.mean() - real.mean()).item())


def test_lens_loss_checker_accepts_the_reference_and_rejects_wrong_ones():
    cases = [_case(0), _case(1, 8, (2,), 1.0), _case(2, 4, (3, 2, 2), 0.0)]
    assert checks.check_exercise("lens_loss", tempered.lens_loss, cases) is tempered.lens_loss

    def summed(real, fake, lensed, x, lam):  # the lecture's sum over pixels, averaged over images only
        return -lam * gan.discriminator_loss(real, fake) + (lensed - x).flatten(1).pow(2).sum(1).mean()

    def wrong_sign(real, fake, lensed, x, lam):
        return lam * gan.discriminator_loss(real, fake) + (lensed - x).pow(2).mean()

    def no_fake_term(real, fake, lensed, x, lam):
        return -lam * F.binary_cross_entropy_with_logits(real, torch.ones_like(real)) + (lensed - x).pow(2).mean()

    def norm_not_squared(real, fake, lensed, x, lam):
        return -lam * gan.discriminator_loss(real, fake) + (lensed - x).flatten(1).norm(dim=1).mean()

    for wrong in (summed, wrong_sign, no_fake_term, norm_not_squared):
        with pytest.raises(checks.ExerciseError):
            checks.check_exercise("lens_loss", wrong, cases, reference=tempered.lens_loss)


def test_schedule_checker_rejects_wrong_schedules():
    cases = [(t, K) for K in (1, 7, 100) for t in (0, 1, K // 2, K - 1, K, 2 * K)]
    checks.check_exercise("lambda_schedule", tempered.lambda_schedule, cases, reference=tempered.lambda_schedule)
    for wrong in (lambda t, K: max(0.0, 1 - t / K),  # linear
                  lambda t, K: 1 - math.sin(t * math.pi / (2 * K)),  # never stops at 0
                  lambda t, K: math.cos(t * math.pi / (2 * K)) if t < K else 0.0):  # the other quarter wave
        with pytest.raises(checks.ExerciseError):
            checks.check_exercise("lambda_schedule", wrong, cases, reference=tempered.lambda_schedule)


def test_lenses_start_as_the_identity_and_learn():
    torch.manual_seed(0)
    for lens, x in ((tempered.image_lens(), torch.rand(4, 1, 28, 28)), (tempered.image_lens(3, 8, 2), torch.rand(2, 3,
                                                                                                                 8, 8)),
                    (tempered.point_lens(2, 16, 2), torch.randn(10, 2))):
        assert torch.equal(lens(x), x)
        opt = torch.optim.SGD(lens.parameters(), lr=0.1)
        (lens(x) - (x + 1)).pow(2).mean().backward()  # pull towards x + 1
        opt.step()
        assert not torch.equal(lens(x), x)
    with pytest.raises(ValueError, match="Linear or Conv2d"):
        tempered.Lens(nn.Sequential(nn.ReLU()))


def test_segments():
    real, fake = toys.segments(0.7, 100, torch.Generator().manual_seed(0))
    assert real.shape == fake.shape == (100, 2)
    assert torch.equal(real[:, 0], torch.zeros(100)) and torch.allclose(fake[:, 0], torch.full((100,), 0.7))
    assert torch.equal(real[:, 1], fake[:, 1]) and 0 <= real[:, 1].min() and real[:, 1].max() <= 1
    theta = torch.tensor(0.3, requires_grad=True)
    _, fake = toys.segments(theta, 10)
    fake[:, 0].sum().backward()
    assert theta.grad.item() == 10.0


def test_course_vae_trains_a_short_one_and_reloads_it(isolated_env):
    cfg = config.setup(fast=True, seed=0, device="cpu", verbose=False)
    x = torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    vae, history, source, label = variational.course_vae(cfg, x, short_steps=3, name="test_vae")
    assert not vae.training and "trained here" in source
    assert label == "VAE (prior: a mixture of 200), 3 steps of 512 images"
    assert vae.prior is not None and vae.prior.mu.shape == (200, 32)  # the recipe's learned prior
    assert history.steps["loss"] == [0, 2]
    again, _, _, _ = variational.course_vae(cfg, x, short_steps=3, name="test_vae")
    for a, b in zip(vae.parameters(), again.parameters()):
        assert torch.equal(a, b)


def test_course_vae_is_built_and_trained_from_its_seed_alone(isolated_env):
    """The short VAE is one model whatever ran before: earlier draws do not change it."""
    cfg = config.setup(fast=True, seed=0, device="cpu", verbose=False)
    x = torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    a, _, _, _ = variational.course_vae(cfg, x, short_steps=3, name="vae_a", use_03=False)
    torch.randn(7)
    torch.rand(3)
    b, _, _, _ = variational.course_vae(cfg, x, short_steps=3, name="vae_b", use_03=False)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)


def test_course_vae_finds_notebook_03s_model_by_the_recipe_both_share(isolated_env):
    """Notebook 03 saves its main model under variational.settings_03(VAE_03 + its overrides, steps); notebook
    08 looks it up by the same call, so changing the recipe in the library changes both together."""
    from course_utils import train
    cfg = config.setup(fast=True, seed=0, device="cpu", verbose=False)
    r = variational.VAE_03
    model = train.seeded(1, lambda: variational.VAE(latent=r["latent"], hidden=r["hidden"], depth=r["depth"],
                                                    prior_components=r["prior_components"]))
    steps = cfg.scale(full=r["epochs"] * (60000 // r["batch"]), fast=300)
    train.train_or_load("03_vae", model, lambda: train.History(), variational.settings_03(r, steps))
    vae, _, source, label = variational.course_vae(cfg, torch.rand(8, 1, 28, 28))
    assert source == "notebook 03's model"
    assert label == f"notebook 03's VAE (prior: a mixture of 200), {steps} steps of {r['batch']} images"
    for a, b in zip(vae.parameters(), model.parameters()):
        assert torch.equal(a, b)
    # another recipe (a run of notebook 03 with VAE_OVERRIDES) is another model: not found, trained here
    other = variational.settings_03({**r, "latent": 16}, steps)
    assert other != variational.settings_03(r, steps) and other["latent"] == 16
