"""course_utils.hybrids: the adversarial auto-encoder and the VAE-GAN of notebook 08."""

import math

import pytest
import torch

from course_utils import hybrids, metrics, variational


def _images(n=96, seed=0):
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


def test_normal_prior_samples_and_density():
    g = torch.Generator().manual_seed(0)
    p = hybrids.PRIORS["normal"]
    z = p.sample(20000, g)
    assert z.shape == (20000, 2)
    assert abs(z.std().item() - 1.0) < 0.03 and z.mean().abs().item() < 0.03  # 4 sd of the estimates
    assert p.log_prob(torch.zeros(2)).item() == pytest.approx(-math.log(2 * math.pi))


def test_arms_prior_samples_have_the_stated_arms():
    g = torch.Generator().manual_seed(0)
    p = hybrids.ArmsPrior(k=10, shift=2.0, radial_sd=0.6, tangential_sd=0.15)
    z = p.sample(50000, g)
    j = p.nearest(z)
    e = p.directions[j].float()
    along = (z * e).sum(1)
    across = z[:, 0] * -e[:, 1] + z[:, 1] * e[:, 0]
    # each arm: centre 2 along it, sd 0.6 along and 0.15 across (nearest-component assignment
    # misplaces only points > 4 sd across an arm: the arms are 36 degrees apart)
    assert abs(along.mean().item() - 2.0) < 0.02 and abs(along.std().item() - 0.6) < 0.02
    assert across.mean().abs().item() < 0.01 and abs(across.std().item() - 0.15) < 0.01
    shares = hybrids.component_shares(p, z)
    assert shares.sum().item() == pytest.approx(1.0)
    # multinomial shares of 50,000 at 1/10: sd 0.0013; 5 sd
    assert (shares - 0.1).abs().max() < 0.007


def test_arms_prior_density_is_normalised_and_matches_the_component_formula():
    p = hybrids.ArmsPrior(k=4, shift=1.5, radial_sd=0.5, tangential_sd=0.2)
    xs = torch.linspace(-4, 4, 801, dtype=torch.float64)
    grid = torch.stack(torch.meshgrid(xs, xs, indexing="ij"), -1)
    mass = p.log_prob(grid).exp().sum().item() * (xs[1] - xs[0]).item() ** 2
    assert mass == pytest.approx(1.0, abs=1e-4)  # Riemann sum of a smooth density, step 0.01
    # at component 0's centre (1.5, 0): its own peak plus the other arms' (tiny) densities, / k
    z = torch.tensor([1.5, 0.0], dtype=torch.float64)
    peak = 1 / (2 * math.pi * 0.5 * 0.2)
    others = sum(math.exp(-0.5 * (((1.5 * math.cos(t) - 1.5) / 0.5) ** 2 + (1.5 * math.sin(t) / 0.2) ** 2))
                 for t in (math.pi / 2, math.pi, 3 * math.pi / 2)) * peak
    assert p.log_prob(z).item() == pytest.approx(math.log((peak + others) / 4), rel=1e-12)
    assert p.nearest(torch.tensor([[0.0, 3.0], [-2.0, 0.1]])).tolist() == [1, 2]
    with pytest.raises(ValueError, match="mixture"):
        hybrids.PRIORS["normal"].nearest(z)


def test_mc_kl_is_unbiased_for_the_closed_form():
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.tensor([[0.5, -1.0]]), torch.tensor([[-0.5, 0.3]])
    eps = torch.randn(200000, 2, generator=g, dtype=torch.float64)
    z = mu.double() + (0.5 * logvar.double()).exp() * eps
    kl = hybrids.mc_kl(z, mu.double(), logvar.double(), hybrids.PRIORS["normal"].log_prob)
    exact = variational.gaussian_kl(mu.double(), logvar.double()).sum().item()
    # 200,000 samples of a quantity with sd ~ 1.3: standard error 0.003; 5 of them
    assert kl.mean().item() == pytest.approx(exact, abs=0.015)
    assert kl.std().item() / math.sqrt(len(kl)) < 0.003


@pytest.mark.parametrize("kind,prior", [("gan", "normal"), ("aae", "uniform"), ("vae", "ring"), ("aae", "ring")])
def test_train_codes_rejects_bad_settings_with_the_fix(isolated_env, kind, prior):
    with pytest.raises(ValueError, match="use"):
        hybrids.train_codes(kind, prior, _images(), _images(8), 2, "cpu")


def test_aae_trains_its_three_phases_and_reloads_from_the_cache(isolated_env):
    x, x_test = _images(), _images(10, seed=1)
    codes, dec, history = hybrids.train_codes("aae", "mixture", x, x_test, 3, "cpu", seed=0, batch=16,
                                              name="aae_test")
    assert codes.shape == (10, 2) and torch.isfinite(codes).all()
    assert dec(codes).shape == (10, 784)
    assert set(history.keys()) >= {"loss", "loss_d"} and history.steps["loss"][-1] == 2
    again, _, _ = hybrids.train_codes("aae", "mixture", x, x_test, 3, "cpu", seed=0, batch=16, name="aae_test")
    assert torch.equal(codes, again)
    other, _, _ = hybrids.train_codes("aae", "normal", x, x_test, 3, "cpu", seed=0, batch=16, name="aae_test")
    assert not torch.equal(codes, other)  # another prior, another model (not the cached one)
    # the game's settings are part of the model: R1 and two D steps train another one
    r1, _, _ = hybrids.train_codes("aae", "mixture", x, x_test, 3, "cpu", seed=0, batch=16, game_lr=1e-3,
                                   d_steps=2, r1_gamma=1.0, name="aae_test")
    assert torch.isfinite(r1).all() and not torch.equal(codes, r1)


def test_a_value_that_is_not_an_argument_still_retrains_when_changed(isolated_env, monkeypatch, capsys):
    """The hybrids' fixed values (networks, learning rates, the prior's arms) are in every checkpoint's
    settings: changing one trains a new model instead of silently reloading the old one."""
    x, x_test = _images(), _images(10, seed=1)
    first, _, _ = hybrids.train_codes("aae", "mixture", x, x_test, 2, "cpu", batch=16, name="fixed_test")
    monkeypatch.setitem(hybrids.CODE_NETS, "ae_lr", 1e-2)
    capsys.readouterr()
    changed, _, _ = hybrids.train_codes("aae", "mixture", x, x_test, 2, "cpu", batch=16, name="fixed_test")
    assert "Loaded" not in capsys.readouterr().out and not torch.equal(first, changed)
    monkeypatch.setattr(hybrids.PRIORS["mixture"], "shift", 5.0)
    shifted, _, _ = hybrids.train_codes("aae", "mixture", x, x_test, 2, "cpu", batch=16, name="fixed_test")
    assert "Loaded" not in capsys.readouterr().out and not torch.equal(changed, shifted)
    a, _ = hybrids.train_vae_gan(x, 2, "cpu", width=8, batch=8, name="fixed_vg")
    monkeypatch.setitem(hybrids.VAE_GAN, "d_lr", 1e-2)
    capsys.readouterr()
    b, _ = hybrids.train_vae_gan(x, 2, "cpu", width=8, batch=8, name="fixed_vg")
    assert "Loaded" not in capsys.readouterr().out
    assert any(not torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


@pytest.mark.parametrize("prior", ["normal", "mixture"])
def test_vae_codes_use_the_kl_term_and_no_game(isolated_env, prior):
    codes, _, history = hybrids.train_codes("vae", prior, _images(), _images(10, seed=1), 3, "cpu", batch=16,
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


def test_vae_gan_variants_and_the_equal_budget_vae(isolated_env):
    x = _images()
    lecture, h_lecture = hybrids.train_vae_gan(x, 2, "cpu", seed=0, width=8, batch=8, name="vg_v")
    larsen, h_larsen = hybrids.train_vae_gan(x, 2, "cpu", seed=0, width=8, batch=8, reconstructions="fake",
                                             name="vg_v")
    plain, h_plain = hybrids.train_vae_gan(x, 2, "cpu", adversarial_weight=0.0, seed=0, width=8, batch=8,
                                           name="vg_v")
    assert "loss_d" in h_larsen and "loss_d" not in h_plain  # weight 0: no discriminator is trained
    for a, b in ((lecture, larsen), (lecture, plain), (larsen, plain)):
        assert any(not torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    with pytest.raises(ValueError, match="use 'real'"):
        hybrids.train_vae_gan(x, 2, "cpu", reconstructions="both")


def test_vae_images_are_decoder_means_of_fixed_noise_and_of_the_encoder_means():
    vae = variational.VAE(latent=4, hidden=16, depth=(1, 1)).eval()
    x = _images(30)
    samples, recons = hybrids.vae_images(vae, x, 30)
    assert samples.shape == recons.shape == (30, 1, 28, 28)
    again, _ = hybrids.vae_images(vae, x, 30)
    assert torch.equal(samples, again)  # the same noise for every call: models compare on equal draws
    with torch.no_grad():
        expected = torch.sigmoid(vae.decode(vae.encode(x.flatten(1))[0])).view(-1, 1, 28, 28)
    # the same arithmetic, split into batches of 1,000 (here one): equal up to float32 reordering
    assert torch.allclose(recons, expected, atol=1e-6)


def test_percentile_grid_tiles_the_plane_at_gaussian_percentiles():
    z = hybrids.percentile_grid(4)
    assert z.shape == (16, 2)
    axis = torch.special.ndtri(torch.tensor([0.125, 0.375, 0.625, 0.875]))
    assert torch.allclose(z[:4, 0], axis) and torch.allclose(z[:4, 1], axis[-1].expand(4))  # top row: y largest
    assert torch.allclose(z[::4, 1], axis.flip(0)) and torch.allclose(z[::4, 0], axis[0].expand(4))


@pytest.mark.slow
def test_code_report_tells_matched_codes_from_unmatched(isolated_env, monkeypatch):
    g = torch.Generator().manual_seed(1)
    matched = hybrids.PRIORS["mixture"].sample(4000, g)
    report = hybrids.code_report(matched, "mixture")
    # the same codes again (a second run of notebook 08): loaded, no classifier trained, the same report
    trained = []
    accuracy = metrics.two_sample_accuracy
    monkeypatch.setattr(metrics, "two_sample_accuracy", lambda *a, **k: trained.append(1) or accuracy(*a, **k))
    assert hybrids.code_report(matched.clone(), "mixture") == report and not trained
    # 2,000 held-out points a side: sd of a coin's balanced accuracy 0.008; 5 sd
    assert abs(report["accuracy"] - 0.5) < 0.04 and abs(report["prior vs prior"] - 0.5) < 0.04
    assert 0.08 < report["smallest share"] <= report["largest share"] < 0.12  # 400 a side, sd 0.0047
    blob = torch.randn(4000, 2, generator=g)  # N(0, I) against the arms: told apart, no shares asked
    assert hybrids.code_report(blob, "mixture")["accuracy"] > 0.8
    assert "shares" not in hybrids.code_report(blob, "normal")
