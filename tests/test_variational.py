"""course_utils.variational against closed forms and torch.distributions; its checkers accept the
reference and reject wrong answers; the latent widgets follow their controls."""

import math

import ipywidgets
import numpy as np
import pytest
import torch
from torch.distributions import Bernoulli, Normal, kl_divergence

from course_utils import checks, train, variational, widgets

g = torch.Generator().manual_seed(0)


def randn(*shape):
    return torch.randn(*shape, generator=g, dtype=torch.float64)


def test_gaussian_log_prob_matches_torch():
    x, mu, logvar = randn(5, 3), randn(5, 3), randn(5, 3)
    expected = Normal(mu, (0.5 * logvar).exp()).log_prob(x)
    torch.testing.assert_close(variational.gaussian_log_prob(x, mu, logvar), expected)
    torch.testing.assert_close(variational.gaussian_log_prob(x, 0.0, 0.0), Normal(0.0, 1.0).log_prob(x))


def test_gaussian_kl_matches_torch_and_is_zero_for_equal_gaussians():
    mu_q, logvar_q, mu_p, logvar_p = randn(4, 6), randn(4, 6), randn(4, 6), randn(4, 6)
    expected = kl_divergence(Normal(mu_q, (0.5 * logvar_q).exp()), Normal(mu_p, (0.5 * logvar_p).exp()))
    torch.testing.assert_close(variational.gaussian_kl(mu_q, logvar_q, mu_p, logvar_p), expected)
    standard = kl_divergence(Normal(mu_q, (0.5 * logvar_q).exp()), Normal(0.0, 1.0))
    torch.testing.assert_close(variational.gaussian_kl(mu_q, logvar_q), standard)
    assert variational.gaussian_kl(mu_q, logvar_q, mu_q, logvar_q).abs().max() < 1e-12


def test_mc_elbo_converges_to_the_closed_form_of_a_conjugate_model():
    # z ~ N(0, 1), x | z ~ N(z, 1): log p(x, z) closed; for q = N(m, s^2),
    # L(q) = E_q[log N(x; z, 1)] - KL(q || N(0, 1)) = log N(x; m, 1) - s^2 / 2 - KL
    x, m, logvar = torch.tensor(0.8, dtype=torch.float64), torch.tensor([0.3],
                                                                        dtype=torch.float64), torch.tensor([-1.0],
                                                                                                           dtype=torch.float64)

    def log_joint(x, z):
        return (variational.gaussian_log_prob(x, z, 0.0) + variational.gaussian_log_prob(z, 0.0, 0.0)).sum(-1)

    closed = variational.gaussian_log_prob(x, m, 0.0) - logvar.exp() / 2 - variational.gaussian_kl(m, logvar)
    z = m + (0.5 * logvar).exp() * randn(400000, 1)
    assert abs(variational.mc_elbo(x, z, log_joint, m, logvar).item() - closed.item()) < 5e-3


def test_reparameterize_shapes_and_moments():
    mu, logvar = randn(3, 2), randn(3, 2)
    eps = randn(20000, 3, 2)
    z = variational.reparameterize(mu, logvar, eps)
    assert z.shape == (20000, 3, 2)
    torch.testing.assert_close(z.mean(0), mu, atol=0.05, rtol=0)
    torch.testing.assert_close(z.var(0).log(), logvar, atol=0.05, rtol=0)


def test_bernoulli_log_likelihood_is_minus_the_cross_entropy():
    x = torch.bernoulli(torch.rand(4, 1, 3, 3, generator=g, dtype=torch.float64), generator=g)
    logits = randn(4, 1, 3, 3)
    expected = Bernoulli(logits=logits).log_prob(x).sum((1, 2, 3))
    torch.testing.assert_close(variational.bernoulli_log_likelihood(x, logits), expected)
    many = randn(5, 4, 1, 3, 3)  # K samples per example
    assert variational.bernoulli_log_likelihood(x, many).shape == (5, 4)


def test_gaussian_log_likelihood_is_a_scaled_l2_plus_a_constant():
    x, mean = randn(4, 10), randn(4, 10)
    logvar = math.log(0.3)
    got = variational.gaussian_log_likelihood(x, mean, logvar)
    expected = -((x - mean) ** 2).sum(1) / (2 * 0.3) - 5 * math.log(2 * math.pi * 0.3)
    torch.testing.assert_close(got, expected)


def test_elbo_terms():
    x = torch.bernoulli(torch.full((3, 5), 0.5, dtype=torch.float64), generator=g)
    logits, mu, logvar = randn(3, 5), randn(3, 2), randn(3, 2)
    reconstruction, kl = variational.elbo_terms(x, logits, mu, logvar)
    torch.testing.assert_close(reconstruction, Bernoulli(logits=logits).log_prob(x).sum(1))
    torch.testing.assert_close(kl, kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(1))


def _one_pixel_model():
    """p(z) = N(0, 1), x | z ~ Bernoulli(sigmoid(a z + c)) for 1-pixel images; log p(x) by quadrature."""
    a, c = 2.0, -0.5

    def decode(z):
        return a * z + c  # (..., 1) logits

    def encode(x):  # a deliberately imperfect q(z | x), wider than the posterior (bounded weights)
        return (x - 0.5) * 2.0, torch.full_like(x, 0.5)

    def log_px(x):
        z = torch.linspace(-12, 12, 200001, dtype=torch.float64)
        log_joint = -torch.nn.functional.binary_cross_entropy_with_logits(a * z + c, torch.full_like(z, x),
                                                                          reduction="none")
        log_joint = log_joint + variational.gaussian_log_prob(z, 0.0, 0.0)
        return (torch.logsumexp(log_joint, 0) + math.log(z[1] - z[0])).item()

    return encode, decode, log_px


def test_iw_bound_increases_with_k_and_reaches_log_px():
    encode, decode, log_px = _one_pixel_model()
    x = torch.tensor([[1.0], [0.0]], dtype=torch.float64)
    exact = torch.tensor([log_px(1.0), log_px(0.0)], dtype=torch.float64)
    gen = torch.Generator().manual_seed(1)
    bounds = {}
    for k in (1, 10, 5000):
        runs = torch.stack([variational.iw_bound(variational.log_importance_weights(x, encode, decode, k, gen))
                            for _ in range(200 if k < 5000 else 5)])
        bounds[k] = runs.mean(0)
    assert (bounds[1] < bounds[10] - 0.01).all() and (bounds[10] < exact).all()
    torch.testing.assert_close(bounds[5000], exact, atol=1e-2, rtol=0)


def test_iw_bound_variance_is_the_delta_method_and_matches_repeated_draws():
    log_w = randn(50, 3) * 2 - 100  # weights of very different sizes, about e^-100: no underflow
    w = (log_w - log_w.max()).exp()  # the same ratios, scaled to be representable
    direct = w.var(0, unbiased=False) / (50 * w.mean(0) ** 2)
    torch.testing.assert_close(variational.iw_bound_variance(log_w), direct, rtol=1e-10, atol=0)
    # log-normal weights, log w ~ N(0, s^2): Var[w] / E[w]^2 = e^(s^2) - 1. Over 4,000 independent draws of
    # L_k the sample sd has a relative error of about 1 / sqrt(2 * 4000) = 1.1 %; the delta method's own
    # error is O(1 / k) = 0.5 % here: 5 % is far outside both
    s, k = 0.5, 200
    draws = randn(k, 4000) * s
    empirical = variational.iw_bound(draws).std().item()
    assert variational.iw_bound_variance(draws).mean().sqrt().item() == pytest.approx(empirical, rel=0.05)
    assert math.sqrt((math.exp(s * s) - 1) / k) == pytest.approx(empirical, rel=0.05)


def test_evaluate_averages_and_chunks_consistently():
    encode, decode, log_px = _one_pixel_model()
    x = torch.tensor([[1.0], [0.0], [1.0]], dtype=torch.float64)
    exact = np.mean([log_px(1.0), log_px(0.0), log_px(1.0)])
    result = variational.evaluate(x, encode, decode, k=20000, batch_size=2, chunk=3000,
                                  generator=torch.Generator().manual_seed(0))
    assert set(result) == {"elbo", "log_px", "nll", "log_px_se", "log_px_at"} and result["log_px_at"] == {}
    assert abs(result["log_px"] - exact) < 4 * result["log_px_se"] + 1e-9  # its stated Monte Carlo error
    assert abs(result["log_px"] - exact) < 1e-2 and result["nll"] == -result["log_px"]
    assert result["elbo"] < result["log_px"]
    with pytest.raises(ValueError, match="positive"):
        variational.evaluate(x, encode, decode, k=0)


def test_evaluate_reports_the_bound_at_smaller_k_from_the_same_samples():
    encode, decode, log_px = _one_pixel_model()
    x = torch.tensor([[1.0], [0.0], [1.0], [1.0]], dtype=torch.float64)
    full = variational.evaluate(x, encode, decode, k=900, batch_size=3, chunk=250,
                                generator=torch.Generator().manual_seed(0), report_k=(1, 30, 900))
    # the same draws, recomputed by hand: the first k' log weights of each example, in order
    gen = torch.Generator().manual_seed(0)
    log_w = torch.cat([torch.cat([variational.log_importance_weights(xb, encode, decode, n, gen) for n in (250, 250,
                                                                                                           250, 150)])
                       for xb in (x[:3], x[3:])], dim=1)
    for j in (1, 30, 900):
        assert full["log_px_at"][j] == pytest.approx(variational.iw_bound(log_w[:j]).mean().item(), abs=1e-9)
    assert full["log_px_at"][1] == pytest.approx(full["elbo"], abs=0.5)  # one sample: a noisy ELBO
    assert full["log_px_at"][900] == pytest.approx(full["log_px"], abs=1e-12)
    assert full["log_px_at"][1] < full["log_px_at"][30] < full["log_px_at"][900]
    se = variational.iw_bound_variance(log_w).sum().sqrt().item() / 4
    assert full["log_px_se"] == pytest.approx(se, rel=1e-9)
    with pytest.raises(ValueError, match="report_k"):
        variational.evaluate(x, encode, decode, k=10, report_k=(20,))


def test_binarize_keeps_grey_levels_on_average():
    x = torch.full((200, 100), 0.3)
    b = variational.binarize(x, torch.Generator().manual_seed(0))
    assert set(b.unique().tolist()) == {0.0, 1.0} and abs(b.mean().item() - 0.3) < 0.01


@pytest.mark.parametrize(
    "name, reference, wrong, cases",
    [
        ("gaussian_kl", variational.gaussian_kl,
         lambda mq, lq, mp, lp: 0.5 * (lp - lq + (lq.exp() + (mq - mp) ** 2) / lp.exp()),  # forgot the -1
         [tuple(torch.randn(3, 2, generator=torch.Generator().manual_seed(i)) for _ in range(4)) for i in range(2)]),
        ("mc_elbo", variational.mc_elbo,
         lambda x, z, lj, mu, lv: lj(x, z).mean(),  # forgot log q
         [(torch.tensor(0.5), torch.randn(10, 2, generator=torch.Generator().manual_seed(0)),
           lambda x, z: -(z ** 2).sum(-1), torch.zeros(2), torch.zeros(2))]),
        ("reparameterize", variational.reparameterize,
         lambda mu, logvar, eps: mu + logvar.exp() * eps,  # variance instead of standard deviation
         [tuple(torch.randn(4, 3, generator=torch.Generator().manual_seed(i)) for _ in range(3)) for i in range(2)]),
        ("bernoulli_log_likelihood", variational.bernoulli_log_likelihood,
         lambda x, logits: (x * torch.sigmoid(logits).log()).sum(1),  # the (1 - x) term is missing
         [(torch.bernoulli(torch.full((3, 6), 0.5), generator=torch.Generator().manual_seed(0)),
           torch.randn(3, 6, generator=torch.Generator().manual_seed(1)))]),
    ],
)
def test_checkers_accept_the_reference_and_reject_a_wrong_answer(name, reference, wrong, cases, capsys):
    assert checks.check_exercise(name, reference, cases, reference=reference) is reference
    assert "[passed]" in capsys.readouterr().out
    with pytest.raises(checks.ExerciseError, match="values differ"):
        checks.check_exercise(name, wrong, cases, reference=reference)


def _decode(z):
    """Codes (n, D) -> (n, 1, 4, 4) images whose brightness follows z[:, 0]."""
    return torch.sigmoid(z[:, :1, None, None].expand(-1, 1, 4, 4))


def test_figure_controls_redraw_and_carry_a_static_png():
    import matplotlib.pyplot as plt

    calls = []

    def draw(a):
        calls.append(a)
        fig, ax = plt.subplots(figsize=(1, 1))
        ax.plot([0, 1], [0, a])
        return fig

    slider = ipywidgets.FloatSlider(value=0.0, min=0, max=1)
    controls = widgets.FigureControls(draw, {"a": slider})
    first = bytes(controls.picture.value)
    slider.value = 1.0
    assert calls == [0.0, 1.0] and bytes(controls.picture.value) != first
    bundle = controls._repr_mimebundle_()
    assert bundle["image/png"].startswith(b"\x89PNG")
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert int(controls.picture.width) > 0 and plt.get_fignums() == []  # figures are closed, not shown twice


def test_latent_widgets_follow_their_sliders():
    codes, labels = torch.randn(30, 2, generator=g), torch.arange(30) % 3
    explorer = widgets.latent_map(_decode, codes, labels, ["a", "b", "c"])
    before = bytes(explorer.picture.value)
    explorer.controls["z1"].value = 2.0
    assert bytes(explorer.picture.value) != before

    sliders = widgets.latent_sliders(_decode, dims=[0, 1], base=torch.zeros(5))
    assert list(sliders.controls) == ["z0", "z1"]
    before = bytes(sliders.picture.value)
    sliders.controls["z0"].value = -2.0
    assert bytes(sliders.picture.value) != before

    images = torch.rand(6, 1, 4, 4, generator=g)
    line = widgets.interpolation(lambda x: x.flatten(1)[:, :2], _decode, images, steps=5)
    before = bytes(line.picture.value)
    line.controls["b"].value = 5
    assert bytes(line.picture.value) != before and line.controls["a"].max == 5


def test_library_vae_has_notebook_03s_parameter_layout():
    """Notebook 08 and the decks load notebook 03's checkpoint into variational.VAE: names and shapes must
    match (the course's recipe: a learned prior of VAE_03's 200 components after the networks)."""
    r = variational.VAE_03
    vae = variational.VAE(latent=32, hidden=512, depth=(2, 3), pixel_mean=torch.full((784,), 0.25),
                          prior_components=r["prior_components"])
    shapes = {k: tuple(v.shape) for k, v in vae.state_dict().items()}
    assert r["prior_components"] == 200 and (r["latent"], r["hidden"], r["depth"]) == (32, 512, (2, 3))
    assert shapes == {"prior.mu": (200, 32), "prior.logvar": (200, 32), "prior.logit": (200,),
        "encoder.0.weight": (512, 784), "encoder.0.bias": (512,), "encoder.2.weight": (512,
                                                                                       512), "encoder.2.bias": (512,),
        "encoder.4.weight": (64, 512), "encoder.4.bias": (64,),
        "decoder.0.weight": (512, 32), "decoder.0.bias": (512,), "decoder.2.weight": (512,
                                                                                      512), "decoder.2.bias": (512,),
        "decoder.4.weight": (512, 512), "decoder.4.bias": (512,), "decoder.6.weight": (784,
                                                                                       512), "decoder.6.bias": (784,),
    }
    assert torch.allclose(vae.decoder[-1].bias, torch.full((784,), math.log(0.25 / 0.75)))
    x = torch.bernoulli(torch.full((8, 784), 0.3), generator=torch.Generator().manual_seed(0))
    mu, logvar = vae.encode(x)
    assert mu.shape == logvar.shape == (8, 32) and vae.decode(mu).shape == (8, 784)
    loss = vae.negative_elbo(x)
    loss.backward()
    assert loss.item() > 0 and all(p.grad is not None for p in vae.parameters())


def _mixture_reference(prior):
    """torch.distributions' mixture of diagonal Gaussians with the prior's parameters (float64)."""
    from torch.distributions import Categorical, Independent, MixtureSameFamily
    mu, logvar, logit = (t.detach().double() for t in (prior.mu, prior.logvar, prior.logit))
    return MixtureSameFamily(Categorical(logits=logit), Independent(Normal(mu, (0.5 * logvar).exp()), 1))


def test_mixture_prior_density_and_samples_match_torch_distributions():
    torch.manual_seed(0)
    prior = variational.MixturePrior(latent=3, components=4).double()
    with torch.no_grad():
        prior.logvar.copy_(torch.randn(4, 3) * 0.5)
        prior.logit.copy_(torch.randn(4))
    reference = _mixture_reference(prior)
    z = torch.randn(2, 5, 3, dtype=torch.float64) * 3  # (..., D) with two leading dimensions, some far off
    # float64 on both sides, the same log-sum-exp of a few terms: agreement to ~1e-15 relative, 1e-10 is ample
    torch.testing.assert_close(prior.log_prob(z), reference.log_prob(z), rtol=1e-10, atol=1e-10)
    n = 200_000
    draws = prior.sample(n, torch.Generator().manual_seed(1))
    assert draws.shape == (n, 3)
    # sample mean and variance against the mixture's, within 5 standard errors of their estimates
    mean, var = reference.mean, reference.variance
    assert ((draws.mean(0) - mean).abs() < 5 * (var / n).sqrt()).all()
    fourth = ((reference.sample((n,)) - mean) ** 4).mean(0)  # E[(z - mean)^4], for the variance's error
    assert ((draws.var(0) - var).abs() < 5 * ((fourth - var**2) / n).sqrt()).all()


def test_vae_prior_kl_and_bound_fall_back_to_n01_and_differ_for_a_learned_mixture():
    plain, mixed = (train.seeded(0, lambda c=c: variational.VAE(latent=4, hidden=16, depth=(1, 1), prior_components=c))
                    for c in (0, 3))
    # the networks start from the same weights: the prior is built after them
    assert all(torch.equal(plain.state_dict()[k], v) for k, v in mixed.state_dict().items() if "prior" not in k)
    x = torch.bernoulli(torch.full((6, 784), 0.3), generator=torch.Generator().manual_seed(0))
    mu, logvar = plain.encode(x)
    z = variational.reparameterize(mu, logvar, torch.randn(mu.shape, generator=torch.Generator().manual_seed(2)))
    assert torch.equal(plain.kl(mu, logvar, z), variational.gaussian_kl(mu, logvar).sum(-1))
    assert torch.equal(plain.log_prior(z), variational.gaussian_log_prob(z, 0.0, 0.0).sum(-1))
    torch.testing.assert_close(plain.sample_prior(5, torch.Generator().manual_seed(3)),
                               torch.randn(5, 4, generator=torch.Generator().manual_seed(3)), rtol=0, atol=0)
    # the mixture's KL: exact E_q[log q] (minus Normal's entropy) minus log p(z) at the sample
    entropy = Normal(mu, (0.5 * logvar).exp()).entropy().sum(-1)
    torch.testing.assert_close(variational.negative_entropy(logvar), -entropy, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(mixed.kl(mu, logvar, z), -entropy - mixed.prior.log_prob(z), rtol=1e-5, atol=1e-5)
    # averaged over many z ~ q it estimates KL(q || p) = E_q[log q(z) - log p(z)]: the same mean, within 5 s.e.
    eps = torch.randn(20_000, *mu.shape, generator=torch.Generator().manual_seed(4))
    zs = variational.reparameterize(mu, logvar, eps)
    direct = variational.gaussian_log_prob(zs, mu, logvar).sum(-1) - mixed.log_prior(zs)
    estimate = mixed.kl(mu.expand_as(zs), logvar.expand_as(zs), zs)
    assert ((estimate.mean(0) - direct.mean(0)).abs() < 5 * (direct - estimate).std(0) / 20_000**0.5 + 1e-4).all()
    # the bound uses the prior it is given: a one-component mixture at N(0, I) is N(0, I)
    one = variational.VAE(latent=4, hidden=16, depth=(1, 1), prior_components=1)
    one.load_state_dict({**plain.state_dict(), "prior.mu": torch.zeros(1, 4), "prior.logvar": torch.zeros(1, 4),
                         "prior.logit": torch.zeros(1)})
    scores = [variational.evaluate(x, m.encode, m.decode, k=50, generator=torch.Generator().manual_seed(5),
                                   log_prior=m.log_prior)["nll"] for m in (plain, one, mixed)]
    assert scores[0] == pytest.approx(scores[1], rel=1e-6) and abs(scores[2] - scores[0]) > 1e-3
    loss, _, kl = variational.negative_bound(mixed, x)
    loss.backward()
    assert all(p.grad is not None for p in mixed.prior.parameters()) and kl.item() == kl.item()


def _notebook_03s_former_loop(model, x, n_steps, k=1, batch=16, binarize=True, lr=(3e-3, 1e-4), seed=0, loss_fn=None):
    """Notebook 03's own training loop as it stood before the course's VAEs shared one (its recorded model
    was trained by it): the reference variational.train_vae must reproduce step for step."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr[0])
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=n_steps, eta_min=lr[1])
    loss_fn = loss_fn or (lambda m, xb: variational.negative_bound(m, xb, k))
    generator = torch.Generator(device=x.device).manual_seed(seed)
    losses = []
    for _ in range(n_steps):
        xb = x[torch.randint(len(x), (batch,), device=x.device, generator=generator)]
        if binarize:
            xb = torch.bernoulli(xb, generator=generator)
        loss, _, _ = loss_fn(model, xb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("k, binarize", [(1, True), (3, True), (1, False)])
def test_train_vae_is_notebook_03s_loop_step_for_step(k, binarize, isolated_env):
    """One VAE loop for notebook 03, notebook 08's short VAE and benchmarks/vae_recipe.py: the same draws,
    steps and learning rates as the loop notebook 03's recorded model was trained with (the same float32
    operations in the same order on the same CPU, so equal to the last bit)."""
    x = torch.rand(64, 784, generator=torch.Generator().manual_seed(1))
    runs = []
    for train_with in ("library", "former"):
        torch.manual_seed(0)
        model = variational.VAE(latent=4, hidden=16, depth=(2, 3), pixel_mean=x.mean(0))
        if train_with == "library":
            history = variational.train_vae(model, x, 7, lr=(3e-3, 1e-4), batch=16, seed=5, k=k, binarize=binarize,
                                            progress=False)
            losses = history["loss"].tolist()
        else:
            losses = _notebook_03s_former_loop(model, x, 7, k=k, batch=16, binarize=binarize, seed=5)
        runs.append((model, losses))
    (a, losses_a), (b, losses_b) = runs
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert losses_a == [losses_b[s] for s in (0, 6)]  # logged every 50 steps and at the last


def test_every_vae_of_the_course_trains_with_the_one_loop(load_benchmark, isolated_env, monkeypatch):
    """Notebook 03 trains each of its VAEs with variational.train_vae (no optimiser of its own); notebook
    08's short VAE and the recipe benchmark call the same function."""
    from pathlib import Path

    from course_utils import config
    source = (Path(__file__).resolve().parent.parent / "notebooks" / "03_vae.py").read_text()
    assert source.count("train.train_or_load(") == source.count("variational.train_vae(") == 3
    assert "torch.optim" not in source

    real, calls = variational.train_vae, []
    monkeypatch.setattr(variational, "train_vae", lambda *a, **kw: calls.append(kw["desc"]) or real(*a, **kw))
    cfg = config.setup(fast=True, seed=0, device="cpu", verbose=False)
    variational.course_vae(cfg, torch.rand(64, 1, 28, 28), short_steps=2, use_03=False, name="vae_loop")
    module = load_benchmark("vae_recipe")
    module.train_recipe(torch.rand(64, 784), {"batch": 32, "epochs": 0.05})
    assert calls == ["VAE (short)", "tanh, 2 layers, batch 32, k = 1"]
