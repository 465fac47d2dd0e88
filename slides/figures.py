"""The decks' figures, drawn by the course's own code (``tools/build_slides.py`` calls them).

Each ``FIGURES[name](cfg)`` returns a matplotlib figure; a deck refers to it as
``figures/<name>.png``. Closed forms are computed on the spot; figures of trained models use the
notebooks' checkpoints under COURSE_OUTPUT when they exist and otherwise train a small model
once (cached there like any checkpoint), and say which in their title.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from course_utils import adversarial, data, dynamics, gan, hybrids, metrics, oneshot, plots, tempered, variational  # noqa: E402


def episode(cfg):
    """A 20-way one-shot trial from Omniglot's evaluation alphabets: the query, and one drawing of
    each of 20 characters of one alphabet."""
    images = data.omniglot("evaluation")
    index, label, _ = oneshot.sample_episode(images, 1, 20, 2, generator=torch.Generator().manual_seed(3),
                                             rotations=False)
    x = images.images[index].float() / 255  # (40, 1, 105, 105), ink = 1
    support, query = x[0::2], x[1:2]  # first drawing of each character; a second drawing of character 0
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.2), gridspec_kw={"width_ratios": [1, 7]})
    plots.image_grid(query, nrow=1, ax=axes[0], title="query")
    plots.image_grid(support, nrow=10, ax=axes[1], title="one drawing of each of 20 characters (the match: top left)")
    return fig


def omniglot_alphabets(cfg):
    """Omniglot's background split: the first drawing of six characters from each of five alphabets
    (30 alphabets, 964 characters, 20 drawers each)."""
    images = data.omniglot("background")
    fig, axes = plt.subplots(5, 1, figsize=(7, 6.5))
    for ax, a in zip(axes, (0, 6, 12, 18, 24)):
        characters = torch.unique(images.labels[images.alphabet == a])[:6]
        first = [int(torch.nonzero((images.labels == c) & (images.drawer == 0))[0]) for c in characters]
        plots.image_grid(images.images[first].float() / 255, nrow=6, ax=ax, title=images.alphabets[a])
    fig.tight_layout()
    return fig


def training_pairs(cfg):
    """What a Siamese network is trained on: pairs of Omniglot drawings, similar (the same character
    by two drawers, y = 1) or dissimilar (two characters of the same alphabet, y = 0)."""
    images = data.omniglot("background")
    g = torch.Generator().manual_seed(0)
    pairs = []
    for k in range(8):
        c = int(torch.randint(int(images.labels.max()) + 1, (1,), generator=g))
        same = torch.nonzero(images.labels == c).view(-1)
        a, b = same[torch.randperm(len(same), generator=g)[:2]]
        if k % 2:  # dissimilar: another character of the same alphabet, the hard kind
            others = torch.nonzero((images.alphabet == images.alphabet[a]) & (images.labels != c)).view(-1)
            b = others[torch.randint(len(others), (1,), generator=g)][0]
        pairs.append((int(a), int(b), 1 - k % 2))
    fig, axes = plt.subplots(1, 8, figsize=(12, 3.2))
    for ax, (a, b, y) in zip(axes, pairs):
        plots.image_grid(images.images[[a, b]].float() / 255, nrow=1, ax=ax, title=f"y = {y}")
    fig.suptitle("similar (y = 1): one character, two drawers; dissimilar (y = 0): two characters of one alphabet")
    fig.tight_layout()
    return fig


def elbo_gap(cfg):
    """log p(x), the ELBO and their gap KL(q || p(z | x)) for the conjugate model
    p(z) = N(0, 1), p(x | z) = N(z, s^2), with q = N(m_q, v) at the posterior's variance."""
    s2, x = 0.25, 1.5
    v = 1 / (1 + 1 / s2)  # posterior variance
    m = v * x / s2  # posterior mean
    log_px = -0.5 * math.log(2 * math.pi * (1 + s2)) - x**2 / (2 * (1 + s2))
    m_q = np.linspace(-1.0, 3.0, 200)
    kl = (m_q - m) ** 2 / (2 * v)
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.axhline(log_px, color="k", label=r"$\log p(x)$")
    ax.plot(m_q, log_px - kl, color="C0", label=r"ELBO $\mathcal{L}(q)$")
    ax.fill_between(m_q, log_px - kl, log_px, color="C0", alpha=0.15, label=r"KL$(q \,\|\, p(z \mid x))$")
    ax.axvline(m, color="C3", ls=":", label="posterior mean")
    ax.set(xlabel=r"mean of $q(z)$", ylabel="nats", ylim=(log_px - 4, log_px + 0.5),
           title=r"$p(z) = N(0, 1)$, $p(x \mid z) = N(z, 0.5^2)$, $x = 1.5$")
    ax.legend(fontsize=8, loc="lower center")
    return fig


def vae_samples(cfg):
    """Decoder means and Bernoulli draws of notebook 03's VAE (its checkpoint), or of a VAE trained
    here for 600 steps (FAST mode, as in CI: 100)."""
    train_set = data.mnist("train")
    x_train = train_set.batch(torch.arange(len(train_set)), cfg.device)[0]
    vae, _, source, _ = variational.course_vae(cfg, x_train, short_steps=cfg.scale(full=600, fast=100),
                                             name="slides_vae_short")
    with torch.no_grad():
        z = vae.sample_prior(16, torch.Generator().manual_seed(0))
        means = torch.sigmoid(vae.decode(z)).view(-1, 1, 28, 28).cpu()
        draws = torch.bernoulli(means, generator=torch.Generator().manual_seed(0))
    fig, axes = plt.subplots(2, 1, figsize=(10, 2.6))
    plots.image_grid(means, nrow=16, ax=axes[0], title=f"decoder means ({source})")
    plots.image_grid(draws, nrow=16, ax=axes[1], title="Bernoulli draws from the same codes")
    fig.tight_layout()
    return fig


def _normal(x, mean, std):
    return torch.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


def optimal_d(cfg):
    """D* = p_r / (p_r + p_g) for a two-mode P_r and a one-mode P_g in 1-D."""
    x = torch.linspace(-5, 5, 500)
    p_r = 0.5 * _normal(x, -2, 0.6) + 0.5 * _normal(x, 2, 0.6)
    p_g = _normal(x, 0.5, 1.0)
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.plot(x, p_r, label=r"$P_r$ (data)")
    ax.plot(x, p_g, label=r"$P_g$ (generator)")
    ax.plot(x, gan.optimal_discriminator(p_r, p_g), "k", label=r"$D^*(x)$")
    ax.axhline(0.5, color="0.6", ls=":", lw=0.8)
    ax.set(xlabel="x", ylim=(0, 1.05))
    ax.legend(fontsize=8)
    return fig


def saturation(cfg):
    """The two generator losses against D(G(z)), and their gradients with respect to D's logit."""
    d = np.linspace(0.001, 0.999, 400)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3))
    axes[0].plot(d, np.log(1 - d), label=r"saturating: $\log(1 - D)$")
    axes[0].plot(d, -np.log(d), label=r"non-saturating: $-\log D$")
    axes[0].set(xlabel=r"$D(G(z))$", ylabel="generator loss")
    axes[1].plot(d, d, label=r"saturating: $D$")
    axes[1].plot(d, 1 - d, label=r"non-saturating: $1 - D$")
    axes[1].set(xlabel=r"$D(G(z))$", ylabel="|gradient w.r.t. the logit|")
    for ax in axes:
        ax.axvspan(0, 0.1, color="0.9")
        ax.legend(fontsize=8)
    axes[1].text(0.02, 0.5, "D wins\n(early)", fontsize=8)
    fig.tight_layout()
    return fig


def dirac_field(cfg):
    """The Dirac-GAN's gradient field and a simultaneous gradient-descent trajectory (h = 0.1)."""
    ticks = np.linspace(-2, 2, 41)
    theta, psi = np.meshgrid(ticks, ticks)  # rows follow psi
    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    for ax, (reg, name) in zip(axes, [(dynamics.Regulariser(), "GAN"), (dynamics.R1(0.3),
                                                                        r"GAN + R1, $\gamma = 0.3$")]):
        v_theta, v_psi = dynamics.field(dynamics.GAN, theta, psi, reg)
        plots.vector_field(ticks, ticks, v_theta, v_psi, ax=ax, title=f"{name}: simultaneous GD, h = 0.1")
        path = dynamics.trajectory(dynamics.GAN, 1.0, 1.0, 0.1, 600, reg)
        ax.plot(path[:, 0], path[:, 1], color="C0", lw=1)
    fig.tight_layout()
    return fig


def js_w1(cfg):
    """JS and W1 between two parallel segments at distance theta."""
    theta = np.linspace(-2, 2, 401)
    fig, ax = plt.subplots(figsize=(7, 2.6))
    ax.plot(theta, np.where(theta == 0, np.nan, math.log(2)),
            label=r"JS$(P_r, P_\theta)$ ($\log 2$; 0 at $\theta = 0$)")
    ax.plot(theta, np.abs(theta), label=r"$W_1(P_r, P_\theta) = |\theta|$")
    ax.plot([0], [0], "o", color="C0")
    ax.set(xlabel=r"$\theta$")
    ax.legend(fontsize=8)
    return fig


def lambda_schedule(cfg):
    """The lens's weight lambda(t) = 1 - sin(t pi / 2K) for t < K."""
    K = 750
    t = np.arange(2 * K)
    fig, ax = plt.subplots(figsize=(7, 2.6))
    ax.plot(t, [tempered.lambda_schedule(int(s), K) for s in t])
    ax.axvline(K, color="k", ls=":", label="K")
    ax.set(xlabel="step t", ylabel=r"$\lambda$")
    ax.legend(fontsize=8)
    return fig


def lens_views(cfg):
    """What a lens shows D of eight training digits early in a tempered GAN's training (a short
    run of notebook 07's mnist-tempered-half recipe: 300 steps, K = 250; cached
    under COURSE_OUTPUT)."""
    train_set = data.mnist("train")
    x_train = train_set.batch(torch.arange(len(train_set)), cfg.device)[0]
    watch = x_train[:8]
    recipe = adversarial.recipe("mnist-tempered-half").with_(k_share=250 / 300, steps=300)  # the lens early on
    nets, _ = adversarial.train_or_load_gan("slides_tempered", recipe, adversarial.real_batches(x_train), 0, cfg.device,
                                            data="mnist", evals=3, points=3, watch=watch, desc="lens (slides)")
    rows = {0: watch.cpu(), 100: nets["views"].lensed[0].cpu(), 200: nets["views"].lensed[1].cpu()}
    fig, ax = plots.samples_over_training(rows, title="x (step 0), then L(x) at steps 100 and 200 (K = 250)")
    return fig


def frechet_terms(cfg):
    """Two 1-D feature distributions at the same distance from the data's N(0, 1): a "blurry" one
    (right centre, too little spread: all covariance term) and a "wrong" one (right spread, shifted
    centre: all mean term), with the terms computed by ``metrics.frechet_terms``."""
    x = torch.linspace(-4, 5, 500)
    data_sigma = torch.ones(1, 1, dtype=torch.float64)
    cases = [("blurry: N(0, 0.3²)", 0.0, 0.3, "C0"), ("wrong: N(0.7, 1)", 0.7, 1.0, "C3")]
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.plot(x, _normal(x, 0.0, 1.0), "k", label="data: N(0, 1)")
    for name, mean, std, color in cases:
        terms = metrics.frechet_terms(torch.zeros(1, dtype=torch.float64), data_sigma,
                                      torch.full((1,), mean, dtype=torch.float64),
                                      torch.full((1, 1), std**2, dtype=torch.float64))
        ax.plot(x, _normal(x, mean, std), color=color,
                label=f"{name}: mean term {float(terms[0]):.2f}, covariance term {float(terms[1]):.2f}")
    ax.set(xlabel="a feature", ylabel="density")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def dcgan_samples(cfg):
    """What notebook 04's DCGAN draws: the notebook's own model (``adversarial.course_dcgan``, recipe
    ``mnist-dcgan-r1``, seed 0), from its checkpoint under COURSE_OUTPUT when notebook 04 ran there,
    else trained here once exactly as the notebook trains it (about 7 minutes of training on 2 Intel
    Xeon cores, 12 on AMD EPYC; FAST: seconds), so the notebook then loads it. The first 48 samples of
    the averaged G on the course's score noise, and the yardstick's score of all 10,000."""
    x_train = data.mnist("train").batch(torch.arange(60_000), cfg.device)[0]
    yardstick = metrics.Yardstick(cfg.device)
    nets, history = adversarial.course_dcgan(x_train, yardstick, cfg.device, fast=cfg.fast)
    recipe = adversarial.for_mode("mnist-dcgan-r1", fast=cfg.fast)
    adversarial.sampler(nets).eval()
    images = adversarial.generate(nets, adversarial.noise(yardstick.n, recipe.latent, device=cfg.device))
    x_floor = yardstick.score(images)["x_floor"]
    fig, ax = plt.subplots(figsize=(10, 2.9))
    plots.image_grid(images[:48].cpu(), nrow=16, ax=ax,
                     title=f"notebook 04's DCGAN ({recipe.name}, {recipe.steps:,} steps, "
                           f"{history.seconds / 60:.0f} min of training, seed 0): {x_floor:.1f}x the floor")
    fig.tight_layout()
    return fig


def course_samples(cfg):
    """What the course's generative models draw: notebook 08's VAE (decoder means) and its GAN,
    WGAN-GP and tempered GAN (half width, seed 0), from their checkpoints under COURSE_OUTPUT when
    notebook 08 ran there, else trained here once with 08's recipes (about 4 minutes on 2 CPU
    cores; FAST: seconds) and cached like any checkpoint. The same noise for every GAN."""
    train_set = data.mnist("train")
    x_train = train_set.batch(torch.arange(len(train_set)), cfg.device)[0]

    # notebook 08's registered recipes (its GAN_RECIPES), at its step counts
    names = {"GAN": "mnist-gan-half", "WGAN-GP": "mnist-wgan-gp-half", "tempered GAN": "mnist-tempered-half"}
    recipes = {kind: adversarial.for_mode(name, fast=cfg.fast) for kind, name in names.items()}
    vae, _, _, vae_label = variational.course_vae(cfg, x_train)
    with torch.no_grad():
        rows = [(f"{vae_label}: decoder means",
                 torch.sigmoid(vae.decode(vae.sample_prior(16, torch.Generator().manual_seed(0))))
                 .view(-1, 1, 28, 28).cpu())]
    z = adversarial.noise(16, 64, seed=0, device=cfg.device)
    for kind, recipe in recipes.items():
        nets, history = adversarial.train_or_load_gan(f"08_{recipe.name}", recipe, adversarial.real_batches(x_train), 0,
                                                      cfg.device, data="mnist", desc=f"{kind} (slides)")
        adversarial.sampler(nets).eval()
        images = adversarial.generate(nets, z).cpu()
        rows.append((f"{kind}, {recipe.steps:,} steps ({history.seconds:.0f} s of training), seed 0", images))
    fig, axes = plt.subplots(len(rows), 1, figsize=(10, 1.15 * len(rows) + 0.3))
    for ax, (title, images) in zip(axes, rows):
        plots.image_grid(images, nrow=16, ax=ax, title=title)
    fig.tight_layout()
    return fig


def aae_codes(cfg):
    """Makhzani et al.'s Figure 2 as notebook 08 reproduces it: codes of held-out digits for AAEs
    and VAEs with the N(0, I) and the mixture prior (grey), and digits decoded at the N(0, I) AAE's
    Gaussian percentiles. The models are notebook 08's (seed 0, ``hybrids.train_codes`` with its
    settings), from their checkpoints under COURSE_OUTPUT when notebook 08 or
    ``benchmarks/aae_figure.py`` ran there, else trained here once (about 6 minutes on 2 CPU cores;
    FAST: seconds); each panel's title gives its two-sample accuracy against the prior (0.5: matched)."""
    test_set = data.mnist("test")
    x_train = data.mnist("train").batch(torch.arange(60_000), cfg.device)[0]
    x_codes = test_set.batch(torch.arange(hybrids.CODE_TEST), cfg.device)[0]
    steps = cfg.scale(full=hybrids.CODE_STEPS, fast=60)
    panels = {"(a) AAE, N(0, I)": ("aae", "normal"), "(b) AAE, mixture": ("aae", "mixture"),
              "(c) VAE, N(0, I)": ("vae", "normal"), "(d) VAE, mixture": ("vae", "mixture")}
    fig, axes = plt.subplots(1, 5, figsize=(20, 4.4))
    decoder = None
    for ax, (title, (kind, prior)) in zip(axes, panels.items()):
        codes, dec, _ = hybrids.train_codes(kind, prior, x_train, x_codes, steps, cfg.device, seed=0)
        decoder = dec if decoder is None else decoder
        accuracy = hybrids.code_report(codes, prior)["accuracy"]
        z_prior = hybrids.PRIORS[prior].sample(2000, torch.Generator().manual_seed(5))
        plots.codes_on_prior(codes, test_set.labels[: hybrids.CODE_TEST], z_prior, ax=ax,
                             title=f"{title}: two-sample acc. {accuracy:.2f}")
    with torch.no_grad():
        decoded = torch.sigmoid(decoder(hybrids.percentile_grid(10).to(cfg.device))).view(-1, 1, 28, 28).cpu()
    plots.image_grid(decoded, nrow=10, ax=axes[4], title="(e) AAE, N(0, I): decoded percentiles")
    fig.tight_layout()
    return fig


FIGURES = {
    "01_episode": episode,
    "01_omniglot": omniglot_alphabets,
    "01_pairs": training_pairs,
    "02_elbo_gap": elbo_gap,
    "03_vae_samples": vae_samples,
    "04_optimal_d": optimal_d,
    "04_saturation": saturation,
    "04_samples": dcgan_samples,
    "05_dirac_field": dirac_field,
    "06_js_w1": js_w1,
    "07_lambda": lambda_schedule,
    "07_lens": lens_views,
    "08_frechet_terms": frechet_terms,
    "08_samples": course_samples,
    "08_aae_codes": aae_codes,
}
