"""course_utils.hybrids: the adversarial auto-encoder and the VAE-GAN of notebook 08."""

import math

import pytest
import torch

from course_utils import hybrids


def _images(n=96, seed=0):
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


def test_priors_have_the_stated_shape_and_scale():
    g = torch.Generator().manual_seed(0)
    ring = hybrids.ring_prior(20000, g)
    normal = hybrids.normal_prior(20000, g)
    assert ring.shape == normal.shape == (20000, 2)
    radius = ring.norm(dim=1)
    assert abs(radius.mean().item() - 4.0) < 0.1  # centres at radius 4, noise sd 0.5
    angle = torch.atan2(ring[:, 1], ring[:, 0])
    # ten arms: the angles cluster near multiples of 2 pi / 10
    offset = torch.remainder(angle + math.pi / 10, 2 * math.pi / 10) - math.pi / 10
    assert offset.abs().mean() < 0.1
    assert abs(normal.std().item() - 1.0) < 0.03 and normal.mean().abs().item() < 0.03


@pytest.mark.parametrize("kind,prior", [("gan", "normal"), ("aae", "uniform"), ("vae", "ring")])
def test_train_codes_rejects_bad_settings_with_the_fix(isolated_env, kind, prior):
    with pytest.raises(ValueError, match="use"):
        hybrids.train_codes(kind, prior, _images(), _images(8), 2, "cpu")


def test_aae_trains_its_three_phases_and_reloads_from_the_cache(isolated_env):
    x, x_test = _images(), _images(10, seed=1)
    codes, history = hybrids.train_codes("aae", "ring", x, x_test, 3, "cpu", seed=0, batch=16, name="aae_test")
    assert codes.shape == (10, 2) and torch.isfinite(codes).all()
    assert set(history.keys()) >= {"loss", "loss_d"} and history.steps["loss"][-1] == 2
    again, _ = hybrids.train_codes("aae", "ring", x, x_test, 3, "cpu", seed=0, batch=16, name="aae_test")
    assert torch.equal(codes, again)
    other, _ = hybrids.train_codes("aae", "normal", x, x_test, 3, "cpu", seed=0, batch=16, name="aae_test")
    assert not torch.equal(codes, other)  # another prior, another model (not the cached one)


def test_vae_codes_use_the_kl_term_and_no_game(isolated_env):
    codes, history = hybrids.train_codes("vae", "normal", _images(), _images(10, seed=1), 3, "cpu", batch=16,
                                         name="vae_codes_test")
    assert codes.shape == (10, 2) and torch.isfinite(codes).all()
    assert "loss" in history and "loss_d" not in history


def test_vae_gan_is_built_from_its_seed_trains_and_reloads(isolated_env):
    x = _images()
    a, history = hybrids.train_vae_gan(x, 2, "cpu", seed=0, width=8, batch=8, name="vg_a")
    assert not a.training and set(history.keys()) >= {"loss", "loss_d"}
    torch.randn(7)  # earlier draws of the global generator must not change the model
    b, _ = hybrids.train_vae_gan(x, 2, "cpu", seed=0, width=8, batch=8, name="vg_b")
    again, _ = hybrids.train_vae_gan(x, 2, "cpu", seed=0, width=8, batch=8, name="vg_a")
    for p, q, r in zip(a.parameters(), b.parameters(), again.parameters()):
        assert torch.equal(p, q) and torch.equal(p, r)
    # the adversarial term reaches the VAE: without it, other weights
    c, _ = hybrids.train_vae_gan(x, 2, "cpu", adversarial_weight=0.0, seed=0, width=8, batch=8, name="vg_c")
    assert any(not torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))
