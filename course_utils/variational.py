"""Variational inference pieces of notebooks 02 (the ELBO) and 03 (the VAE), in the papers' symbols.

Reference versions of what those notebooks teach, used by their checkers and by later notebooks:
Gaussian densities and KL divergences, a Monte Carlo ELBO, the reparameterisation trick, the
Bernoulli and Gaussian decoder likelihoods, and the importance-weighted bound on log p(x)
(Burda, Grosse & Salakhutdinov 2016) used to report a VAE's test log-likelihood in nats.

Conventions: ``mu`` and ``logvar`` are a diagonal Gaussian's mean and log-variance; an
``encode(x)`` callable returns ``(mu, logvar)``, each ``(B, D)``; a ``decode(z)`` callable maps
``(..., D)`` codes to Bernoulli logits ``(..., *x.shape[1:])``.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

LOG_2PI = math.log(2 * math.pi)


def gaussian_log_prob(x: torch.Tensor, mu, logvar) -> torch.Tensor:
    """Elementwise log N(x; mu, exp(logvar)) = -(log 2 pi + logvar + (x - mu)^2 / exp(logvar)) / 2.

    Shapes broadcast; nothing is summed.
    """
    mu, logvar = torch.as_tensor(mu, dtype=x.dtype), torch.as_tensor(logvar, dtype=x.dtype)
    return -0.5 * (LOG_2PI + logvar + (x - mu) ** 2 * torch.exp(-logvar))


def gaussian_kl(mu_q: torch.Tensor, logvar_q: torch.Tensor, mu_p=0.0, logvar_p=0.0) -> torch.Tensor:
    """Elementwise KL(N(mu_q, var_q) || N(mu_p, var_p)) in nats (nothing is summed).

    KL = (log var_p - log var_q + (var_q + (mu_q - mu_p)^2) / var_p - 1) / 2; with the default
    p = N(0, 1) this is the VAE's regulariser, (mu^2 + var - 1 - log var) / 2 (Kingma & Welling
    2014, appendix B).
    """
    mu_p = torch.as_tensor(mu_p, dtype=mu_q.dtype, device=mu_q.device)
    logvar_p = torch.as_tensor(logvar_p, dtype=mu_q.dtype, device=mu_q.device)
    return 0.5 * (logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p) ** 2) * torch.exp(-logvar_p) - 1)


def mixture_moments(weights: torch.Tensor, means: torch.Tensor, variances: torch.Tensor) -> torch.Tensor:
    """Mean and variance of the mixture sum_k w_k N(mu_k, s_k^2), all ``(K,)``: ``torch.stack([mean, var])``
    with mean = sum_k w_k mu_k and, by the law of total variance, var = sum_k w_k (s_k^2 + mu_k^2) - mean^2:
    the Gaussian that minimises KL(p || q) (notebook 02, Exercise 2)."""
    mean = (weights * means).sum()
    return torch.stack([mean, (weights * (variances + (means - mean) ** 2)).sum()])


def mc_elbo(x: torch.Tensor, z: torch.Tensor, log_joint: Callable, mu: torch.Tensor,
            logvar: torch.Tensor) -> torch.Tensor:
    """Monte Carlo estimate of L(q) = E_q[log p(x, z) - log q(z)] from samples of q.

    x: one observation (any shape); z: ``(S, D)`` samples from q = N(mu, diag(exp(logvar)));
    mu, logvar: ``(D,)``; log_joint(x, z) -> ``(S,)`` values of log p(x, z_s).
    Returns a 0-d tensor: the mean over s of log p(x, z_s) - log q(z_s).
    """
    log_q = gaussian_log_prob(z, mu, logvar).sum(-1)
    return (log_joint(x, z) - log_q).mean()


def mc_elbo_exact_entropy(x: torch.Tensor, z: torch.Tensor, log_joint: Callable, mu: torch.Tensor,
                          logvar: torch.Tensor) -> torch.Tensor:
    """The other correct estimate of L(q) from the same samples: the mean of log p(x, z_s) plus q's entropy
    in closed form, H(q) = sum_d (log(2 pi e) + logvar_d) / 2. Same expectation as ``mc_elbo``, other noise
    (shapes as there): an exercise checker accepts either."""
    entropy = 0.5 * (math.log(2 * math.pi * math.e) + logvar).sum()
    return log_joint(x, z).mean() + entropy


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """z = mu + sigma * eps with sigma = exp(logvar / 2) and eps ~ N(0, I) (Kingma & Welling 2014, eq. 10).

    mu, logvar: ``(B, D)``; eps: ``(B, D)`` or ``(K, B, D)`` (K samples per input). Returns eps's shape.
    """
    return mu + torch.exp(0.5 * logvar) * eps


def _sum_data_dims(values: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Sum over the trailing ``x.ndim - 1`` (per-example data) dimensions."""
    dims = tuple(range(values.ndim - (x.ndim - 1), values.ndim))
    return values.sum(dim=dims) if dims else values


def bernoulli_log_likelihood(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """log p(x | z) for independent Bernoulli pixels with p = sigmoid(logits), summed per example.

    = sum_i x_i log p_i + (1 - x_i) log(1 - p_i), i.e. minus the binary cross-entropy.
    x: ``(B, ...)`` in [0, 1]; logits: ``(B, ...)`` or ``(K, B, ...)``. Returns ``(B,)`` or ``(K, B)``.
    """
    per_pixel = -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none")
    return _sum_data_dims(per_pixel, x)


def gaussian_log_likelihood(x: torch.Tensor, mean: torch.Tensor, logvar) -> torch.Tensor:
    """log p(x | z) for a Gaussian decoder N(mean, exp(logvar) I), summed per example.

    = -||x - mean||^2 / (2 var) - (n / 2) log(2 pi var): with a fixed variance, the L2 loss up to
    a scale and a constant. Shapes as in ``bernoulli_log_likelihood``.
    """
    return _sum_data_dims(gaussian_log_prob(x.expand_as(mean), mean, logvar), x)


def elbo_terms(x: torch.Tensor, logits: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> tuple[torch.Tensor,
                                                                                                       torch.Tensor]:
    """The two terms of L = E_q[log p(x|z)] - KL(q(z|x) || p(z)), one-sample estimate of the first.

    x: ``(B, ...)``; logits: decoder output for one z per example, ``(B, ...)``; mu, logvar: ``(B, D)``.
    Returns ``(reconstruction, kl)``, each ``(B,)`` in nats; the ELBO is their difference.
    """
    return bernoulli_log_likelihood(x, logits), gaussian_kl(mu, logvar).sum(-1)


def mixture_nll_bound(nll: torch.Tensor, w) -> torch.Tensor:
    """Upper bound on the negative log-likelihood of the mixture w p + (1 - w) u from nll = -log p(x):
    -log(w p(x) + (1 - w) u(x)) <= -log(w p(x)) = nll - log w, whatever u (notebook 08, Exercise 1). A model
    that draws noise 99 % of the time loses at most log 100 = 4.6 nats (Theis et al. 2016). Shapes broadcast."""
    nll = torch.as_tensor(nll)
    return nll - torch.log(torch.as_tensor(w, dtype=nll.dtype))


def binarize(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Dynamic binarisation: each pixel is 1 with probability equal to its grey level in [0, 1]."""
    return torch.bernoulli(x, generator=generator)


def binarised_batch(x_flat: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    """n rows of ``x_flat`` ``(N, D)`` in [0, 1], drawn with replacement and dynamically binarised,
    every draw from ``generator`` (a CPU generator, so a run repeats on any device)."""
    p = x_flat[torch.randint(len(x_flat), (n,), generator=generator).to(x_flat.device)]
    return (torch.rand(p.shape, generator=generator).to(x_flat.device) < p).float()


def standard_normal_log_prob(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I) summed over the last dimension: ``(..., D) -> (...)``."""
    return gaussian_log_prob(z, 0.0, 0.0).sum(-1)


def log_importance_weights(x: torch.Tensor, encode: Callable, decode: Callable, k: int,
                           generator: torch.Generator | None = None, log_prior: Callable | None = None) -> torch.Tensor:
    """log w_j = log p(x | z_j) + log p(z_j) - log q(z_j | x), z_j ~ q(z | x), j = 1..k.

    x: ``(B, ...)`` binary; ``log_prior``: ``(..., D) -> (...)``, log p(z) (default N(0, I); a VAE's
    ``log_prior`` for a learned one). Returns ``(k, B)``. The mean over j is a one-sample-per-j ELBO estimate.
    """
    mu, logvar = encode(x)
    eps = torch.randn((k, *mu.shape), generator=generator, device=mu.device, dtype=mu.dtype)
    z = reparameterize(mu, logvar, eps)
    log_p_z = (log_prior or standard_normal_log_prob)(z)
    log_q_z = gaussian_log_prob(z, mu, logvar).sum(-1)
    return bernoulli_log_likelihood(x, decode(z)) + log_p_z - log_q_z


def iw_bound(log_w: torch.Tensor) -> torch.Tensor:
    """L_k = log (1/k) sum_j w_j from ``(k, B)`` log weights (Burda et al. 2016, eq. 8). Returns ``(B,)``.

    E[L_1] is the ELBO; E[L_k] grows with k and tends to log p(x).
    """
    return torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0])


def iw_bound_variance(log_w: torch.Tensor) -> torch.Tensor:
    """The Monte Carlo variance of L_k (``iw_bound``) over the draw of its k samples, estimated from the
    same ``(k, B)`` log weights by the delta method: Var[log w_bar] ~ Var[w] / (k E[w]^2), with the sample
    variance and mean of w in place of Var[w] and E[w]. Returns ``(B,)`` in nats^2.

    Computed from w_j / w_bar = exp(log w_j - L_k) <= k, which neither underflows nor overflows.
    """
    k = log_w.shape[0]
    ratio = (log_w - iw_bound(log_w)).exp()  # w_j / w_bar, mean 1
    return (ratio.square().mean(0) - 1).clamp(min=0) / k


@torch.no_grad()
def evaluate(x: torch.Tensor, encode: Callable, decode: Callable, k: int = 1000, batch_size: int = 100,
             chunk: int = 50, generator: torch.Generator | None = None, progress: bool = False,
             report_k: tuple[int, ...] = (), log_prior: Callable | None = None) -> dict:
    """Test ELBO and importance-weighted log-likelihood, averaged over ``x`` ``(N, ...)`` (binary).

    Returns ``{"elbo": ..., "log_px": ..., "nll": -log_px, "log_px_se": ..., "log_px_at": {...}}`` in nats
    per example; ``log_px`` is L_k with ``k`` samples per example, computed ``chunk`` samples at a time
    to bound memory (at 50 with 100 images, the decoder's 5,000 rows stay under glibc's 32 MB mmap
    threshold: about a quarter faster on a CPU than 250, the same numbers); ``log_px_se`` its Monte Carlo
    standard error (the samples' share of its uncertainty, not the test set's: sqrt(sum over images of
    ``iw_bound_variance``) / N). ``log_px_at`` maps each k' in
    ``report_k`` (1 <= k' <= k) to L_k' computed from the first k' of the same samples: how the bound tightens
    with k, at no extra cost.
    ``log_prior``: log p(z), ``(..., D) -> (...)`` (default N(0, I); pass a VAE's ``log_prior``).
    """
    if k < 1 or chunk < 1:
        raise ValueError(f"k and chunk must be positive, got k={k}, chunk={chunk}")
    too_large = [j for j in report_k if not 1 <= j <= k]
    if too_large:
        raise ValueError(f"report_k values must lie in 1..k={k}, got {too_large}")
    total_elbo, total_log_px, total_variance = 0.0, 0.0, 0.0
    total_at = {j: 0.0 for j in report_k}
    for start in tqdm(range(0, len(x), batch_size), desc=f"IW bound, k={k}", disable=not progress, leave=False):
        xb = x[start : start + batch_size]
        log_w = torch.cat([log_importance_weights(xb, encode, decode, min(chunk, k - j), generator, log_prior)
                           for j in range(0, k, chunk)])
        total_elbo += log_w.mean(0).sum().item()
        total_log_px += iw_bound(log_w).sum().item()
        total_variance += iw_bound_variance(log_w.double()).sum().item()
        for j in total_at:
            total_at[j] += iw_bound(log_w[:j]).sum().item()
    n = len(x)
    return {"elbo": total_elbo / n, "log_px": total_log_px / n, "nll": -total_log_px / n,
            "log_px_se": math.sqrt(total_variance) / n, "log_px_at": {j: total / n for j, total in total_at.items()}}


# ---------------------------------------------------------------------------------------------
# The model of notebook 03, for later notebooks (04 compares its samples with a GAN's)


def mlp(n_in: int, n_out: int, hidden: int, depth: int, act: type[nn.Module] = nn.ELU) -> nn.Sequential:
    """``depth`` hidden layers of ``hidden`` units with activation ``act`` (ELU: notebook 03's ``mlp``)."""
    layers, width = [], n_in
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), act()]
        width = hidden
    return nn.Sequential(*layers, nn.Linear(width, n_out))


class MixturePrior(nn.Module):
    """A learned prior p_lambda(z) = sum_c pi_c N(z; m_c, diag exp(s_c)) with ``components`` Gaussians in
    ``latent`` dimensions (a mixture-of-Gaussians prior, discussed by Tomczak & Welling 2018), trained
    with the VAE. Starts at unit-variance components with equal weights and means drawn from N(0, I)
    (torch's global random state: build it after the networks, so their initial weights do not change)."""

    def __init__(self, latent: int, components: int):
        super().__init__()
        self.mu = nn.Parameter(torch.randn(components, latent))  # m_c
        self.logvar = nn.Parameter(torch.zeros(components, latent))  # s_c
        self.logit = nn.Parameter(torch.zeros(components))  # pi = softmax(logit)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """``(..., D) -> (...)``: log p(z), a log-sum-exp over the components (stable for far-off z).

        Each component's squared distance sum_d (z_d - m_cd)^2 / v_cd is expanded into
        z^2 @ (1 / v)^T - 2 z @ (m / v)^T + sum_d m_cd^2 / v_cd: two matrix products instead of a
        (..., C, D) tensor, which would cost more than the decoder when scoring 2,000 codes per image."""
        precision = torch.exp(-self.logvar)  # (C, D)
        squared = (z * z) @ precision.T - 2 * z @ (self.mu * precision).T + (self.mu**2 * precision).sum(-1)
        per_component = -0.5 * (squared + self.logvar.sum(-1) + z.shape[-1] * LOG_2PI)  # (..., C)
        return torch.logsumexp(per_component + torch.log_softmax(self.logit, 0), dim=-1)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``(n, D)`` draws: a component c ~ pi, then m_c + exp(s_c / 2) * eps, on the parameters' device."""
        device = generator.device if generator is not None else self.mu.device
        c = torch.multinomial(torch.softmax(self.logit.detach(), 0).to(device), n, replacement=True,
                              generator=generator)
        eps = torch.randn(n, self.mu.shape[1], generator=generator, device=device)
        mu, logvar = self.mu.detach().to(device)[c], self.logvar.detach().to(device)[c]
        return reparameterize(mu, logvar, eps).to(self.mu.device)


def negative_entropy(logvar: torch.Tensor) -> torch.Tensor:
    """E_q[log q(z | x)] = -(D (1 + log 2 pi) + sum_d logvar_d) / 2 for q = N(mu, diag exp(logvar)), exact:
    ``(B, D) -> (B,)``."""
    return -0.5 * (logvar.shape[-1] * (1 + LOG_2PI) + logvar.sum(-1))


class VAE(nn.Module):
    """Notebook 03's VAE: q_phi(z | x) = N(mu, diag(exp(logvar))), Bernoulli p_theta(x | z), and the prior
    p(z): N(0, I), or a learned mixture of ``prior_components`` Gaussians (``MixturePrior``) when > 0.

    Same parameter names and shapes as the notebook's class, so its checkpoints load here.
    ``encode``: x ``(B, 784)`` -> mu, logvar ``(B, latent)``; ``decode``: z ``(..., latent)`` ->
    logits ``(..., 784)``.
    """

    def __init__(self, latent: int = 32, hidden: int = 512, depth: tuple[int, int] = (2, 3), pixel_mean=None,
                 act: type[nn.Module] = nn.ELU, prior_components: int = 0):
        super().__init__()
        self.encoder = mlp(784, 2 * latent, hidden, depth[0], act)  # phi
        self.decoder = mlp(latent, 784, hidden, depth[1], act)  # theta
        self.latent = latent
        if pixel_mean is not None:
            p = pixel_mean.clamp(1e-3, 1 - 1e-3)
            with torch.no_grad():
                self.decoder[-1].bias.copy_(torch.log(p) - torch.log1p(-p))
        # built last: the networks' initial weights are those of the N(0, I) model of the same seed
        self.prior = MixturePrior(latent, prior_components) if prior_components else None

    def encode(self, x: torch.Tensor):
        return self.encoder(x).chunk(2, dim=-1)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def log_prior(self, z: torch.Tensor) -> torch.Tensor:
        """log p(z), ``(..., latent) -> (...)``."""
        return standard_normal_log_prob(z) if self.prior is None else self.prior.log_prob(z)

    def kl(self, mu: torch.Tensor, logvar: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """KL(q(z | x) || p(z)) per image, ``(B,)``: exact for N(0, I); for the learned prior, the exact
        E_q[log q] minus log p at the sample z ``(B, latent)`` (unbiased; only the prior's term is sampled)."""
        if self.prior is None:
            return gaussian_kl(mu, logvar).sum(-1)
        return negative_entropy(logvar) - self.prior.log_prob(z)

    def sample_prior(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``(n, latent)`` codes z ~ p(z) on the model's device (N(0, I): ``torch.randn`` from ``generator``)."""
        if self.prior is None:
            device = generator.device if generator is not None else self.decoder[0].weight.device
            return torch.randn(n, self.latent, generator=generator, device=device).to(self.decoder[0].weight.device)
        return self.prior.sample(n, generator)

    def negative_elbo(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """-ELBO averaged over the batch x ``(B, 784)`` in {0, 1}, one reparameterised sample (its
        noise from ``generator``, a CPU generator, if given; else torch's global random state)."""
        return negative_bound(self, x, generator=generator)[0]


def negative_bound(model, x: torch.Tensor, k: int = 1, beta: float = 1.0, generator: torch.Generator | None = None):
    """Notebook 03's loss for one batch x ``(B, 784)`` in {0, 1}: the negative ELBO (``k = 1``, one
    reparameterised code per image, its KL term weighted by ``beta``, 1 but during a KL warm-up) or the
    negative IWAE bound L_k (``k > 1``), averaged over the batch. The code noise comes from ``generator`` (a
    CPU generator) if given, else from torch's global random state. Returns ``(loss, reconstruction, kl)``,
    the last two averaged over the batch (for ``k > 1``: the mean log-weight plus the KL, and the KL, both
    detached)."""
    mu, logvar = model.encode(x)
    if k == 1:
        eps = torch.randn_like(mu) if generator is None else torch.randn(mu.shape, generator=generator).to(mu.device)
        z = reparameterize(mu, logvar, eps)
        reconstruction, kl = bernoulli_log_likelihood(x, model.decode(z)), model.kl(mu, logvar, z)
        return -(reconstruction - beta * kl).mean(), reconstruction.mean(), kl.mean()
    log_w = log_importance_weights(x, model.encode, model.decode, k, generator, model.log_prior)
    if model.prior is None:
        kl = gaussian_kl(mu, logvar).sum(-1).mean()
    else:  # a learned prior: the KL sampled at one more code per image (a diagnostic only)
        eps = torch.randn_like(mu) if generator is None else torch.randn(mu.shape, generator=generator).to(mu.device)
        kl = model.kl(mu, logvar, reparameterize(mu, logvar, eps)).mean()
    return -iw_bound(log_w).mean(), (log_w.mean(0).mean() + kl).detach(), kl.detach()


def train_vae(model: nn.Module, x: torch.Tensor, steps: int, *, lr: tuple[float, float], batch: int, seed: int = 0,
              k: int = 1, loss_fn: Callable | None = None, binarize: bool = True, desc: str = "VAE",
              progress: bool | None = None):
    """The course's VAE loop (notebook 03's; notebook 08 and ``benchmarks/vae_recipe.py`` train with it too).

    Each of ``steps`` steps draws ``batch`` rows of ``x`` ``(N, D)`` in [0, 1] with replacement, binarises
    them afresh (dynamic binarisation; ``binarize=False`` keeps grey levels), both from a generator seeded
    with ``seed`` on x's device, and takes an Adam step on ``loss_fn(model, x_batch) -> (loss,
    reconstruction, kl)`` (default ``negative_bound`` with ``k`` samples), the learning rate decayed from
    ``lr[0]`` to ``lr[1]`` along a cosine. The code noise comes from torch's global random state (seed it,
    or fork it, around the call for a run that does not depend on what ran before). Resumable inside
    ``train.train_or_load``. Returns the History: loss, reconstruction, kl."""
    from course_utils import train  # here, not at the top: train is not needed for the maths above

    optimizer = torch.optim.Adam(model.parameters(), lr=lr[0])
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps, eta_min=lr[1])
    loss_fn = loss_fn or (lambda m, xb: negative_bound(m, xb, k))
    generator = torch.Generator(device=x.device).manual_seed(seed)

    def step_fn(step):
        xb = x[torch.randint(len(x), (batch,), device=x.device, generator=generator)]
        if binarize:
            xb = torch.bernoulli(xb, generator=generator)
        loss, reconstruction, kl = loss_fn(model, xb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        return {"loss": loss, "reconstruction": reconstruction, "kl": kl}

    # what a snapshot must hold so a stopped run continues exactly
    return train.fit(step_fn, steps, log_every=50, progress=progress, desc=desc, max_value=1e4,
                     optimizers=[optimizer], schedulers=[schedule], generators=[generator])


# Notebook 03's main VAE, owned here (notebook 03's VAE_OVERRIDES change it for one run; notebook 08 and
# the decks load its checkpoint): latent size, hidden layers of the encoder and decoder, units per layer,
# components of the learned mixture prior (0: N(0, I)), epochs over the 60,000 training images, batch,
# Adam's learning rate and the end of its cosine decay.
VAE_03 = {"latent": 32, "depth": (2, 3), "hidden": 512, "prior_components": 200, "epochs": 140, "batch": 512,
          "lr": (3e-3, 1e-4)}


def settings_03(recipe: dict, steps: int, k: int = 1, seed: int = 0) -> dict:
    """The checkpoint settings of notebook 03's main model trained with ``recipe`` (``VAE_03`` with a run's
    overrides) for ``steps`` with ``k`` samples per image: notebook 03 saves under them, notebook 08
    finds the model by them."""
    return {"latent": recipe["latent"], "depth": list(recipe["depth"]), "hidden": recipe["hidden"],
            "prior_components": recipe["prior_components"], "steps": steps, "k": k, "batch": recipe["batch"],
            "lr": list(recipe["lr"]), "seed": seed}


def course_vae(cfg, x_train: torch.Tensor, use_03: bool = True, short_steps: int | None = None, seed: int = 0,
               name: str = "08_vae_short"):
    """The VAE that notebook 08 sets against the course's GANs, eval mode, on ``cfg.device``.

    Notebook 03's main model when ``use_03`` and its checkpoint is in COURSE_OUTPUT (same mode),
    else a VAE trained here for ``short_steps`` (default 4,000; FAST 100) on ``x_train``
    ``(N, 1, 28, 28)`` in [0, 1], dynamically binarised, cached under ``name``. Returns
    ``(vae, history, source, label)``: where it came from, in words, and a short label that says how many
    batches of how many images it saw (for comparisons at equal budgets)."""
    from course_utils import train  # here, not at the top: train is not needed for the maths above

    # built from `seed` alone (a short VAE trained under two names is then the same model), as notebook 03
    # builds its own: the decoder's output bias at the mean training image
    r, x_flat = VAE_03, x_train.flatten(1).to(cfg.device)
    vae = train.seeded(seed, lambda: VAE(latent=r["latent"], hidden=r["hidden"], depth=r["depth"],
                                         pixel_mean=x_flat.mean(0).cpu(),
                                         prior_components=r["prior_components"])).to(cfg.device)
    settings = settings_03(r, cfg.scale(full=r["epochs"] * (60000 // r["batch"]), fast=300))
    kind = f"VAE (prior: a mixture of {r['prior_components']})" if r["prior_components"] else "VAE"
    if use_03 and train.checkpoint_path("03_vae", vae, settings).is_file():
        history = train.train_or_load("03_vae", vae, None, settings)
        source, label = "notebook 03's model", f"notebook 03's {kind}, {settings['steps']} steps of {r['batch']} images"
    else:
        steps = short_steps if short_steps is not None else cfg.scale(full=4000, fast=100)
        def train_vae_short():  # notebook 03's loop and loss; its code noise seeded here, whatever ran before
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                return train_vae(vae, x_flat, steps, lr=r["lr"], batch=r["batch"], seed=seed, desc="VAE (short)")

        short = {**settings, "steps": steps, "seed": seed, "init": "seeded, bias at the mean image",
                 "loop": "train_vae"}
        history = train.train_or_load(name, vae, train_vae_short, short)
        source = f"a VAE trained here for {steps} steps (run notebook 03 for its full model)"
        label = f"{kind}, {steps} steps of {r['batch']} images"
    return vae.eval(), history, source, label
