# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 02 · Deriving the evidence lower bound (ELBO)
#
# A variational auto-encoder (notebook 03) is trained by maximising a *lower bound* on the
# log-likelihood of the data. This notebook derives that bound one step at a time, and checks
# every step with a cell, on a latent-variable model of real MNIST digits where every quantity,
# including the intractable-looking ones, can be computed exactly.
#
# **Learning goals**
# - fit a distribution by maximum likelihood, in closed form and by gradient ascent;
# - compute entropies and KL divergences, see that KL is not symmetric and can be infinite;
# - explain why the posterior p(z|x) of a latent-variable model is hard, and what Monte Carlo
#   and variational inference do about it;
# - derive KL(q(z) || p(z|x)) = log p(x) - L(q) and the two forms of the ELBO L(q), and check
#   them numerically.
#
# **Prerequisites**: notebook 00; Gaussian densities, Bayes' rule, expectations.
#
# **Time and hardware**: about 20 s on a 2-core Intel Xeon server CPU (no GPU needed), about 15 s in FAST mode.
# A class sitting in FAST mode: about 70 min (estimated: reading at 100 words a minute, code at
# 25 lines a minute, 8 min per exercise, 4 per Think question).
#
# **What it shows**: the identity log p(x) = ELBO + KL(q || p(z|x)), derived, then checked to
# rounding error on a model of MNIST in which every term is exact. The recording section at the end
# prints your numbers beside the course's recorded run.

# %% tags=["parameters"]
# FAST = True (or COURSE_FAST=1 in the environment): smaller sizes, same code and data.
FAST = False
SEED = 0
# DEVICE: "auto" (cuda, then mps, then cpu), "cpu", "cuda", "cuda:0" or "mps".
DEVICE = "auto"
# Latent dimensions of the exact model (probabilistic PCA) of section 4.
LATENT = 16

# %%
import math

import ipywidgets
import matplotlib.pyplot as plt
import torch

from course_utils import checks, config, data, plots, results, variational, widgets

cfg = config.setup(fast=FAST, seed=SEED, device=DEVICE)

# %% [markdown]
# ## 1. Beyond auto-encoders
#
# An auto-encoder compresses an image $x$ into a code $z = \mathrm{Enc}(x)$ and rebuilds it as
# $\mathrm{Dec}(z)$. It is trained only on the codes of training images, so nothing makes
# $\mathrm{Dec}(z)$ a sensible image for *every* $z$: between and around the training codes, the
# decoder may produce anything. A **generative model** wants more: a distribution $p(x)$ we can
# sample from and that gives high probability to real images. A *latent-variable* model builds it
# from a simple prior $p(z)$ and a decoder $p(x \mid z)$:
#
# $$p(x) = \int p(x \mid z)\, p(z)\, dz .$$
#
# We fit such models by **maximum likelihood**: choose the parameters that make the data most
# probable. The rest of this notebook builds the tools to do that when the integral is out of reach.
#
# ## 2. Maximum likelihood: the Gaussian case
#
# Start with one number per image: its *ink*, the mean grey level of its 784 pixels. Model the
# ink of the 60,000 training digits as $x_i \sim \mathcal{N}(\mu, \sigma^2)$, independent. The
# log-likelihood
#
# $$\ell(\mu, \sigma) = \sum_i \log \mathcal{N}(x_i; \mu, \sigma^2)
#   = -\frac{N}{2}\log(2\pi\sigma^2) - \sum_i \frac{(x_i - \mu)^2}{2\sigma^2}$$
#
# has zero gradient at $\hat\mu = \frac1N \sum_i x_i$ and $\hat\sigma^2 = \frac1N \sum_i (x_i - \hat\mu)^2$
# (note the $1/N$, not $1/(N-1)$). Gradient ascent on $\ell$ must find the same point.

# %%
mnist_train, mnist_test = data.mnist("train"), data.mnist("test")
n_train = cfg.scale(full=60000, fast=10000)
x_train, y_train = mnist_train.batch(torch.arange(n_train))
x_test, _ = mnist_test.batch(torch.arange(cfg.scale(full=10000, fast=2000)))
ink = x_train.flatten(1).mean(1).double()  # (N,) one number per image

mu_hat = ink.mean()
var_hat = ((ink - mu_hat) ** 2).mean()
print(f"closed form:      mu = {mu_hat:.6f}, sigma = {var_hat.sqrt():.6f}")

# gradient ascent on the mean log-likelihood, in (mu, log sigma) so that sigma stays positive
mu = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
log_sigma = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
optimizer = torch.optim.Adam([mu, log_sigma], lr=0.05)
# a decaying step size: a constant one keeps jittering around the optimum
schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=2000)
for step in range(2000):
    log_lik = variational.gaussian_log_prob(ink, mu, 2 * log_sigma).mean()
    optimizer.zero_grad()
    (-log_lik).backward()
    optimizer.step()
    schedule.step()
ml_error = max(abs(mu.item() - mu_hat.item()), abs(log_sigma.exp().item() - var_hat.sqrt().item()))
print(f"gradient ascent:  mu = {mu.item():.6f}, sigma = {log_sigma.exp().item():.6f}  (largest difference "
      f"{ml_error:.1e})")
assert ml_error < 1e-6

# %%
fig, ax = plt.subplots(figsize=(6, 3))
ax.hist(ink.numpy(), bins=100, density=True, color="lightgray", label="ink of training digits")
grid = torch.linspace(0, 0.45, 400, dtype=torch.float64)
ax.plot(grid, variational.gaussian_log_prob(grid, mu_hat, var_hat.log()).exp(), label="ML Gaussian")
ax.set_xlabel("mean grey level of an image")
ax.legend()
plt.show()

# %% [markdown]
# The fit is fine for the bulk but misses the skew: a Gaussian is a rigid model. Keep that in mind
# for notebook 03, where a Gaussian sits at the core of the VAE.
#
# ## 3. Information, entropy and the KL divergence
#
# The *information* of an outcome of probability $p$ is $-\log p$ (in nats with the natural log):
# rare outcomes carry more. The **entropy** is the expected information,
# $H(p) = -\sum_x p(x) \log p(x)$. The **Kullback-Leibler divergence** measures how much worse
# a code built for $p$ does on samples from $q$:
#
# $$\mathrm{KL}(q \,\|\, p) = \sum_x q(x) \log \frac{q(x)}{p(x)} = \mathbb{E}_{q}\left[\log q(x) - \log p(x)\right]
# \;\ge\; 0,$$
#
# with equality only when $q = p$. For densities, the sum becomes an integral.

# %%
counts = torch.bincount(y_train, minlength=10).double()
p_digit = counts / counts.sum()
entropy = -(p_digit * p_digit.log()).sum()
print(f"entropy of the MNIST label distribution: {entropy:.4f} nats (uniform over 10 classes: {math.log(10):.4f})")

# %% [markdown]
# **Exercise 1 (a derivation).** Derive, on paper, the KL divergence between two univariate
# Gaussians, $\mathrm{KL}\big(\mathcal{N}(\mu_q, \sigma_q^2) \,\|\, \mathcal{N}(\mu_p, \sigma_p^2)\big)$,
# from the definition $\mathbb{E}_q[\log q(x) - \log p(x)]$: write out both log-densities and use
# $\mathbb{E}_q[(x - \mu_q)^2] = \sigma_q^2$ and $\mathbb{E}_q[(x - \mu_p)^2] = \sigma_q^2 + (\mu_q - \mu_p)^2$.
# Then write your closed form elementwise over tensors; variances come as log-variances (`logvar`),
# as they will from a neural network. The check compares it with the course's version on many
# random pairs, and the next section with a Monte Carlo estimate of the definition.

# %%
def gaussian_kl(mu_q, logvar_q, mu_p, logvar_p):
    """KL(N(mu_q, exp(logvar_q)) || N(mu_p, exp(logvar_p))), elementwise: same shape as the inputs."""
    ### BEGIN SOLUTION
    return 0.5 * (logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p) ** 2) / logvar_p.exp() - 1)
    ### END SOLUTION


# %%
g = torch.Generator().manual_seed(0)
cases = [tuple(torch.randn(5, 3, generator=g, dtype=torch.float64) for _ in range(4)),
         (torch.zeros(4), torch.zeros(4), torch.zeros(4), torch.zeros(4)),  # q = p: zero
         (torch.tensor([3.0]), torch.tensor([-4.0]), torch.tensor([-1.0]), torch.tensor([2.0]))]
gaussian_kl = checks.check_exercise("gaussian_kl", gaussian_kl, cases)

# %% [markdown]
# ### Closed form against Monte Carlo
#
# The definition is an expectation under $q$, so it can also be *estimated* by sampling
# $x_s \sim q$ and averaging $\log q(x_s) - \log p(x_s)$. Take the Gaussians fitted (as in
# section 2) to a feature of the 1s and of the 0s, their coordinate along the first principal
# direction of those images (the direction in pixel space along which 0s and 1s vary most): the
# estimate converges to the closed form, with an error shrinking like $1/\sqrt{S}$.

# %%
def fit_gaussian(values):
    """Maximum-likelihood (mu, logvar) of 1-D samples."""
    return values.mean(), values.var(unbiased=False).log()


zeros_and_ones = (y_train == 0) | (y_train == 1)
X01 = x_train[zeros_and_ones].flatten(1).double()
_, _, V = torch.pca_lowrank(X01, q=1, center=True)
pc1 = (X01 - X01.mean(0)) @ V[:, 0]  # (N01,) one number per image
label01 = y_train[zeros_and_ones]
mu_1, logvar_1 = fit_gaussian(pc1[label01 == 1])
mu_0, logvar_0 = fit_gaussian(pc1[label01 == 0])
closed = gaussian_kl(mu_1, logvar_1, mu_0, logvar_0).item()
print(f"KL(feature of 1s || feature of 0s): closed form {closed:.4f} nats; reversed: "
      f"{gaussian_kl(mu_0, logvar_0, mu_1, logvar_1).item():.4f} nats")
for S in (10, 100, 1000, 10000, 100000):
    x_s = mu_1 + (0.5 * logvar_1).exp() * torch.randn(S, generator=cfg.generator, dtype=torch.float64)
    estimate = (variational.gaussian_log_prob(x_s, mu_1, logvar_1)
                - variational.gaussian_log_prob(x_s, mu_0, logvar_0)).mean()
    print(f"  Monte Carlo, S = {S:6d}: {estimate:8.4f}   error {estimate - closed:+.4f}")

# %% [markdown]
# ### KL is not symmetric: mode-seeking and mass-covering fits
#
# Let $p$ be bimodal: the feature of a digit that is a 1 or a 0, a mixture of the two
# Gaussians above. Which single Gaussian $q$ is "closest" to $p$ depends on the direction:
#
# - $\min_q \mathrm{KL}(p \,\|\, q)$ pays heavily wherever $p > 0$ but $q \approx 0$: $q$ must
#   **cover the mass** of both modes (which Gaussian exactly is Exercise 2);
# - $\min_q \mathrm{KL}(q \,\|\, p)$ pays wherever $q > 0$ but $p \approx 0$: $q$ **seeks one mode**
#   and ignores the other. Variational inference minimises this direction.
#
# Both are fitted below by gradient descent, with the integrals computed on a fine grid.

# %%
weight_1 = (label01 == 1).double().mean()
grid = torch.linspace(-10, 14, 4001, dtype=torch.float64)
dx = grid[1] - grid[0]
# densities are handled as logs: far in the tails exp() underflows, and denormal numbers are slow
log_p_grid = torch.logsumexp(torch.stack([
    weight_1.log() + variational.gaussian_log_prob(grid, mu_1, logvar_1),
    (1 - weight_1).log() + variational.gaussian_log_prob(grid, mu_0, logvar_0)]), 0)
p_grid = log_p_grid.exp()


def kl_on_grid(log_a, log_b):
    """KL(a || b) = integral of a (log a - log b), for log-densities on the grid (Riemann sum)."""
    log_a = log_a.clamp_min(-700.0)  # where a < 1e-304 its terms are negligible
    return (log_a.exp() * (log_a - log_b)).sum() * dx


def fit_q(direction, mu_start):
    mu_q = torch.tensor(mu_start, dtype=torch.float64, requires_grad=True)
    logvar_q = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([mu_q, logvar_q], lr=0.05)
    for _ in range(cfg.scale(full=1000, fast=500)):
        log_q_grid = variational.gaussian_log_prob(grid, mu_q, logvar_q)
        loss = kl_on_grid(log_p_grid, log_q_grid) if direction == "forward" else kl_on_grid(log_q_grid, log_p_grid)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return mu_q.detach(), logvar_q.detach(), loss.item()


fits = {"KL(p || q), mass-covering": fit_q("forward", 0.0),
        "KL(q || p) started at -5": fit_q("reverse", -5.0),
        "KL(q || p) started at +5": fit_q("reverse", 5.0)}
fig, ax = plt.subplots(figsize=(7, 3.2))
ax.fill_between(grid, p_grid, color="lightgray", label="p: feature of a 1 or a 0")
for name, (mu_q, logvar_q, loss) in fits.items():
    print(f"{name:30s}: mu = {mu_q:.4f}, std = {(0.5 * logvar_q).exp():.4f}, KL = {loss:.4f}")
    ax.plot(grid, variational.gaussian_log_prob(grid, mu_q, logvar_q).exp(), label=name)
ax.set_xlim(-8, 12)
ax.set_xlabel("first principal coordinate")
ax.legend(fontsize="small")
plt.show()

# %% [markdown]
# Each mode-seeking fit locks onto the mode it started near: the reverse KL has two local minima.
# The mass-covering fit puts its peak where $p$ has little mass. Where exactly?
#
# **Exercise 2 (derive, then compare).** Write $\mathrm{KL}(p \,\|\, q) = -H(p) - \mathbb{E}_p \log
# q(x)$ for a Gaussian $q = N(m, s^2)$ and set its derivatives in $m$ and $s^2$ to zero: which two
# numbers of $p$ does the best $q$ copy? For our $p$, a mixture $\sum_k w_k N(\mu_k, \sigma_k^2)$,
# compute them in closed form: write `mixture_moments(weights, means, variances)` (tensors of
# shape `(K,)`) returning `torch.stack([mean, variance])`. Predict first: is the variance of a
# mixture of two unit Gaussians at $\pm 3$ closer to 1 or to 10?

# %%
def mixture_moments(weights, means, variances):
    """The mean and the variance of sum_k w_k N(mu_k, s_k^2): a tensor [mean, variance]."""
    ### BEGIN SOLUTION
    mean = (weights * means).sum()
    second = (weights * (variances + means ** 2)).sum()  # E[x^2], component by component
    return torch.stack([mean, second - mean ** 2])
    ### END SOLUTION


# %%
g_check = torch.Generator().manual_seed(2)
cases = [(torch.tensor([0.5, 0.5], dtype=torch.float64), torch.tensor([-3.0, 3.0], dtype=torch.float64),
          torch.ones(2, dtype=torch.float64)),
         (torch.tensor([0.2, 0.3, 0.5], dtype=torch.float64), torch.randn(3, generator=g_check, dtype=torch.float64),
          torch.rand(3, generator=g_check, dtype=torch.float64) + 0.1),
         (torch.ones(1, dtype=torch.float64), torch.full((1,), 2.0, dtype=torch.float64),
          torch.full((1,), 0.25, dtype=torch.float64))]
mixture_moments = checks.check_exercise("mixture_moments", mixture_moments, cases)
p_mean, p_var = mixture_moments(torch.stack([weight_1, 1 - weight_1]), torch.stack([mu_1, mu_0]),
                                torch.stack([logvar_1, logvar_0]).exp())
mu_q, logvar_q, _ = fits["KL(p || q), mass-covering"]
print(f"p, in closed form:        mean {p_mean:.4f}, std {p_var.sqrt():.4f}")
print(f"the mass-covering fit:    mean {mu_q:.4f}, std {(0.5 * logvar_q).exp():.4f}")
#
# ### Infinite KL when the supports differ
#
# If $q(x) > 0$ where $p(x) = 0$, the term $q \log (q / p)$ is infinite. Histograms of the ink of
# 1s and of 0s on 60 bins overlap only partly, so both divergences are infinite, although the
# two histograms are close: a 0 with little ink is not far from a 1 with much. This is the problem that motivates the
# Wasserstein GAN (notebook 06).

# %%
edges = torch.linspace(0, 0.5, 61, dtype=torch.float64)
hist_1 = torch.histogram(ink[y_train == 1], bins=edges).hist
hist_0 = torch.histogram(ink[y_train == 0], bins=edges).hist
hist_1, hist_0 = hist_1 / hist_1.sum(), hist_0 / hist_0.sum()


def discrete_kl(q, p):
    return torch.where(q > 0, q * (q / p).log(), torch.zeros_like(q)).sum().item()


print(f"bins with mass under both: {int(((hist_1 > 0) & (hist_0 > 0)).sum())} of 60")
print(f"KL(hist of 1s || hist of 0s) = {discrete_kl(hist_1, hist_0)}, reversed: {discrete_kl(hist_0, hist_1)}")

# %% [markdown]
# ## 4. Latent variables, Bayes' rule and an exact model
#
# For a latent-variable model, Bayes' rule gives the **posterior** over the code of an image,
#
# $$p(z \mid x) = \frac{p(x \mid z)\, p(z)}{p(x)}, \qquad p(x) = \int p(x \mid z)\, p(z)\, dz .$$
#
# The numerator is easy; the denominator is an integral over every possible $z$, which no
# computer can do for a neural-network decoder. To study the approximations we need a model where
# it *can* be done: **probabilistic PCA** (Tipping & Bishop 1999), a linear-Gaussian model
#
# $$z \sim \mathcal{N}(0, I_d), \qquad x \mid z \sim \mathcal{N}(W z + b, \sigma^2 I_{784}).$$
#
# Everything is Gaussian, so $p(x) = \mathcal{N}(x; b, W W^\top + \sigma^2 I)$ and
# $p(z \mid x) = \mathcal{N}\big(M^{-1} W^\top (x - b),\ \sigma^2 M^{-1}\big)$ with
# $M = W^\top W + \sigma^2 I_d$. Its maximum-likelihood fit on the training digits is also in
# closed form: $b$ is the mean image, $W$ the top-$d$ principal directions scaled by
# $\sqrt{\lambda_i - \sigma^2}$, and $\sigma^2$ the mean of the discarded eigenvalues $\lambda_i$.

# %%
X = x_train.flatten(1).double()
b = X.mean(0)
eigenvalues, eigenvectors = torch.linalg.eigh(torch.cov((X - b).T, correction=0))
eigenvalues, eigenvectors = eigenvalues.flip(0).clamp_min(0), eigenvectors.flip(1)  # largest first
sigma2 = eigenvalues[LATENT:].mean()
W = eigenvectors[:, :LATENT] * (eigenvalues[:LATENT] - sigma2).sqrt()
print(f"pPCA with d = {LATENT}: sigma^2 = {sigma2:.5f}; W {tuple(W.shape)}")


def log_evidence(x):
    """log p(x) = log N(x; b, W W^T + sigma^2 I) for x (B, 784), via the Woodbury identity. Returns (B,)."""
    D, d = W.shape
    M = W.T @ W + sigma2 * torch.eye(d, dtype=W.dtype)
    r = x - b
    # (W W^T + s I)^-1 = (I - W M^-1 W^T) / s;  log det(W W^T + s I) = (D - d) log s + log det M
    quad = ((r * r).sum(1) - (r @ W * torch.linalg.solve(M, (r @ W).T).T).sum(1)) / sigma2
    logdet = (D - d) * sigma2.log() + torch.logdet(M)
    return -0.5 * (D * math.log(2 * math.pi) + logdet + quad)


def posterior(x):
    """p(z | x) = N(mean, diag(exp(logvar))): mean (B, d), logvar (d,). For the ML fit, M is diagonal."""
    M = W.T @ W + sigma2 * torch.eye(W.shape[1], dtype=W.dtype)
    assert torch.allclose(M, torch.diag(torch.diag(M))), "posterior covariance is not diagonal"
    return (x - b) @ W / torch.diag(M), (sigma2 / torch.diag(M)).log()


X_test = x_test.flatten(1).double()
print(f"mean log p(x) on the test images: {log_evidence(X_test).mean():.1f} nats (a density on [0, 1]^784, not a "
      "probability)")
z_prior = torch.randn(24, LATENT, generator=cfg.generator, dtype=torch.float64)
plots.image_grid((z_prior @ W.T + b).clamp(0, 1).reshape(-1, 1, 28, 28), nrow=12,
                 title="decoder means W z + b for z ~ p(z): every z gives a digit-like image")
plt.show()

# %% [markdown]
# Check the closed form of $p(x)$ against a brute-force evaluation with the full
# $784 \times 784$ covariance on a few images:

# %%
full = torch.distributions.MultivariateNormal(b, covariance_matrix=W @ W.T + sigma2 * torch.eye(784, dtype=W.dtype))
print("Woodbury vs full covariance, largest difference:",
      (log_evidence(X_test[:5]) - full.log_prob(X_test[:5])).abs().max().item())

# %% [markdown]
# ### Monte Carlo versus variational inference
#
# Without the closed form, one could estimate $p(x) = \mathbb{E}_{p(z)}[p(x \mid z)]$ by sampling
# codes from the prior. Almost every such code explains a given image badly, so the estimate is
# dominated by rare lucky samples and, in log space, far too low even with many samples. Sampling
# from a distribution $q(z)$ *close to the posterior* instead (importance sampling, weights
# $p(x, z) / q(z)$) works with a handful of samples. Variational inference is about finding such
# a $q$.

# %%
x0 = X_test[:1]
exact = log_evidence(x0).item()
post_mean, post_logvar = posterior(x0)


def log_p_x_given_z(x, z):
    return variational.gaussian_log_prob(x, z @ W.T + b, sigma2.log()).sum(-1)


def log_joint(x, z):
    """log p(x, z) = log p(x | z) + log p(z), for one image x (784,) or (1, 784) and codes z (S, d)."""
    return log_p_x_given_z(x, z) + variational.gaussian_log_prob(z, 0.0, 0.0).sum(-1)


print(f"exact log p(x) = {exact:.2f}")
for S in (10, 1000, cfg.scale(full=100000, fast=10000)):
    z = torch.randn(S, LATENT, generator=cfg.generator, dtype=torch.float64)
    from_prior = torch.logsumexp(log_p_x_given_z(x0, z), 0) - math.log(S)
    z = post_mean + (0.5 * post_logvar).exp() * 1.5 * torch.randn(S, LATENT, generator=cfg.generator,
                                                                  dtype=torch.float64)
    log_q = variational.gaussian_log_prob(z, post_mean, post_logvar + 2 * math.log(1.5)).sum(-1)
    from_q = torch.logsumexp(log_joint(x0, z) - log_q, 0) - math.log(S)
    print(f"S = {S:6d}: sampling the prior {from_prior:10.2f} | importance sampling from q near the posterior "
          f"{from_q:8.2f}")

# %% [markdown]
# ## 5. The derivation: log p(x) = L(q) + KL(q || p(z|x))
#
# Take any distribution $q(z)$ and use $p(z \mid x) = p(z, x) / p(x)$ inside the KL divergence:
#
# $$\mathrm{KL}(q(z) \,\|\, p(z \mid x)) = \int q(z) \log \frac{q(z)\, p(x)}{p(z, x)}\, dz
#   = \int q(z) \log \frac{q(z)}{p(z, x)}\, dz + \log p(x) \int q(z)\, dz .$$
#
# The last integral is 1. Call $L(q) = \int q(z) \log \frac{p(z, x)}{q(z)}\, dz$; then
#
# $$\log p(x) = L(q) + \mathrm{KL}(q(z) \,\|\, p(z \mid x)).$$
#
# Three consequences follow, because $\mathrm{KL} \ge 0$: $L(q) \le \log p(x)$ for every $q$
# (hence the name *evidence lower bound*); the gap is exactly the KL to the true posterior; and
# since $\log p(x)$ does not depend on $q$, **maximising $L(q)$ over $q$ is the same as
# minimising the KL to the posterior**, a quantity we could not compute directly.
#
# The lecture's "Evidence Lower Bound, 3" slide writes the result as "maximise
# $\mathbb{E}_q[\log p(x)] - \mathrm{KL}(q(z) \,\|\, p(z \mid x))$": that is the identity above read
# backwards ($\mathbb{E}_q[\log p(x)] = \log p(x)$ does not depend on $q$), not the objective a VAE
# computes; the standard form, derived in section 6, is $\mathbb{E}_q[\log p(x \mid z)] -
# \mathrm{KL}(q(z) \,\|\, p(z))$.
#
# For pPCA and a Gaussian $q = \mathcal{N}(m, \mathrm{diag}(s^2))$, every term has a closed form:
#
# $$L(q) = \underbrace{-\tfrac{D}{2}\log(2\pi\sigma^2) - \frac{\|x - W m - b\|^2 + \mathrm{tr}(W^\top W\,
# \mathrm{diag}(s^2))}{2\sigma^2}}_{\mathbb{E}_q[\log p(x \mid z)]} - \mathrm{KL}(q \,\|\, \mathcal{N}(0, I)).$$

# %%
def expected_log_likelihood(x, m, logvar):
    """E_q[log p(x | z)] for q = N(m, diag(exp(logvar))): x (B, 784), m (B, d), logvar (B, d). Returns (B,)."""
    D = x.shape[1]
    residual = ((x - m @ W.T - b) ** 2).sum(1)
    trace = (logvar.exp() * (W * W).sum(0)).sum(1)
    return -0.5 * D * torch.log(2 * math.pi * sigma2) - (residual + trace) / (2 * sigma2)


def elbo(x, m, logvar):
    """L(q), closed form (the second form, derived in section 6). Returns (B,)."""
    kl = gaussian_kl(m, logvar, torch.zeros_like(m), torch.zeros_like(m)).sum(1)
    return expected_log_likelihood(x, m, logvar) - kl


def kl_to_posterior(x, m, logvar):
    """KL(q || p(z | x)) with both Gaussian and diagonal (sum of per-dimension KLs). Returns (B,)."""
    post_mean, post_logvar = posterior(x)
    return gaussian_kl(m, logvar, post_mean, post_logvar.expand_as(m)).sum(1)


n_check = cfg.scale(full=2000, fast=500)
xs = X_test[:n_check]
post_mean, post_logvar = posterior(xs)
# random q's: the posterior, shifted and widened or narrowed at random
m = post_mean + 0.5 * torch.randn(post_mean.shape, generator=cfg.generator, dtype=torch.float64)
logvar = post_logvar + torch.randn(post_mean.shape, generator=cfg.generator, dtype=torch.float64)
gap = log_evidence(xs) - (elbo(xs, m, logvar) + kl_to_posterior(xs, m, logvar))
identity_error = gap.abs().max().item()
print(f"{n_check} test images, a random q each: max |log p(x) - (L(q) + KL(q || p(z|x)))| = {identity_error:.1e} nats")
print(f"L(q) <= log p(x) for all of them: {bool((elbo(xs, m, logvar) <= log_evidence(xs)).all())}; "
      f"mean gap (the KL) {kl_to_posterior(xs, m, logvar).mean():.1f} nats")
at_posterior = (log_evidence(xs) - elbo(xs, post_mean, post_logvar.expand_as(post_mean))).abs().max().item()
print(f"at q = p(z|x): max |log p(x) - L(q)| = {at_posterior:.1e} nats")
assert identity_error < 1e-6 and at_posterior < 1e-6

# %% [markdown]
# **Exercise 3.** The closed form above is a luxury of linear-Gaussian models. With a neural
# decoder, $L(q)$ is estimated by sampling: draw $z_s \sim q$ and average
# $\log p(x, z_s) - \log q(z_s)$. Write that estimator for a diagonal Gaussian $q$; `log_joint(x, z)`
# gives $\log p(x, z_s)$ for all samples at once. (`variational.gaussian_log_prob(z, mu, logvar)` gives
# elementwise Gaussian log-densities, if you want it.)

# %%
def mc_elbo(x, z, log_joint, mu, logvar):
    """Monte Carlo L(q): x one observation; z (S, d) samples of q = N(mu, diag(exp(logvar))); mu, logvar (d,).

    log_joint(x, z) returns (S,) values of log p(x, z_s). Returns a 0-d tensor.
    """
    ### BEGIN SOLUTION
    log_q = (-0.5 * (math.log(2 * math.pi) + logvar + (z - mu) ** 2 / logvar.exp())).sum(-1)
    return (log_joint(x, z) - log_q).mean()
    ### END SOLUTION


# %%
g = torch.Generator().manual_seed(1)
toy_joint = lambda x, z: -0.5 * ((x - z.sum(-1)) ** 2 + (z ** 2).sum(-1))  # noqa: E731 - any log-density works
cases = [(torch.tensor(0.7), torch.randn(50, 3, generator=g), toy_joint, torch.randn(3, generator=g),
          torch.randn(3, generator=g)),
         (X_test[0], torch.randn(20, LATENT, generator=g, dtype=torch.float64), log_joint, post_mean[0], post_logvar)]
mc_elbo = checks.check_exercise("mc_elbo", mc_elbo, cases)

# %% [markdown]
# ## 6. The two forms of the ELBO
#
# **First form**, from the derivation: $L(q) = \mathbb{E}_q[\log p(z, x) - \log q(z)]$, the
# expectation your estimator samples.
#
# **Second form**: split the joint as $p(z, x) = p(x \mid z)\, p(z)$ and regroup,
#
# $$L(q) = \mathbb{E}_q[\log p(x \mid z)] + \mathbb{E}_q\left[\log \frac{p(z)}{q(z)}\right]
#        = \underbrace{\mathbb{E}_q[\log p(x \mid z)]}_{\text{data fit}} - \underbrace{\mathrm{KL}(q(z) \,\|\,
#        p(z))}_{\text{regulariser}} .$$
#
# The first term rewards codes that explain the image well; the second keeps $q$ close to the
# prior. This second form is what a VAE computes: the reconstruction term is sampled, the KL term
# (between two Gaussians) is exact. A third way to read the same number is the identity of
# section 5: $L(q) = \log p(x) - \mathrm{KL}(q \,\|\, p(z \mid x))$. All three must agree:

# %%
x1, m1, logvar1 = X_test[0], post_mean[0] + 0.3, post_logvar - 0.5  # one image, one q away from the posterior
S = cfg.scale(full=20000, fast=5000)
z = m1 + (0.5 * logvar1).exp() * torch.randn(S, LATENT, generator=cfg.generator, dtype=torch.float64)
first_form = mc_elbo(x1, z, log_joint, m1, logvar1).item()
reconstruction_mc = log_p_x_given_z(x1, z).mean()
second_form_mc = (reconstruction_mc - gaussian_kl(m1, logvar1, torch.zeros_like(m1), torch.zeros_like(m1)).sum()).item()
closed_form = elbo(x1[None], m1[None], logvar1[None]).item()
via_identity = (log_evidence(x1[None]) - kl_to_posterior(x1[None], m1[None], logvar1[None])).item()
print(f"first form, Monte Carlo (S = {S}):            {first_form:.3f}")
print(f"second form, sampled data fit + exact KL:      {second_form_mc:.3f}")
print(f"second form, closed form:                      {closed_form:.3f}")
print(f"log p(x) - KL(q || p(z|x)):                    {via_identity:.3f}")

# %% [markdown]
# The two Monte Carlo numbers agree with the closed form to a fraction of a nat (their sampling
# error); the closed form and the identity agree to rounding.
#
# ## 7. Move q yourself
#
# Slide $q$'s mean along the first two latent directions (as a shift from the posterior mean) and
# scale its variance (a shift of the log-variance). The bars show $\log p(x)$, which never moves,
# the ELBO, and the gap between them, which is exactly $\mathrm{KL}(q \,\|\, p(z \mid x))$. The
# gap closes only at zero shifts. The static figure below the widget shows the same along one slider.

# %%
x_w = X_test[:1]
mean_w, logvar_w = posterior(x_w)
log_px_w = log_evidence(x_w).item()


def q_from_shifts(shift_1, shift_2, logvar_shift):
    m = mean_w.clone()
    m[0, 0] += shift_1
    m[0, 1] += shift_2
    return m, (logvar_w + logvar_shift).expand_as(m)


def draw_bars(shift_1, shift_2, logvar_shift):
    m, lv = q_from_shifts(shift_1, shift_2, logvar_shift)
    bound, kl = elbo(x_w, m, lv).item(), kl_to_posterior(x_w, m, lv).item()
    floor = bound - 0.25 * kl - 20  # the values are large: start the bars near them
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.bar([0, 1], [log_px_w - floor, bound - floor], bottom=floor, color=["tab:blue", "tab:orange"])
    ax.bar([1], [kl], bottom=bound, color="tab:red", alpha=0.4, label=f"gap: KL(q || p(z|x)) = {kl:.2f}")
    ax.set_xticks([0, 1], ["log p(x)", "ELBO L(q)"])
    ax.set_ylim(floor, log_px_w + 0.1 * (log_px_w - floor))
    ax.set_ylabel("nats")
    ax.set_title(f"log p(x) = {log_px_w:.1f}, L(q) = {bound:.1f}")
    ax.legend(loc="lower right")
    return fig


def shift_slider(description):
    return ipywidgets.FloatSlider(value=0.0, min=-3.0, max=3.0, step=0.1, description=description,
                                  continuous_update=False)


gap_explorer = widgets.FigureControls(draw_bars,
                                      {"shift_1": shift_slider("mean z[0]"), "shift_2": shift_slider("mean z[1]"),
                                                  "logvar_shift": shift_slider("log-var")})
gap_explorer

# %%
shifts = torch.linspace(-3, 3, 61, dtype=torch.float64)
bounds = torch.stack([elbo(x_w, *q_from_shifts(s.item(), 0.0, 0.0)) for s in shifts]).squeeze(1)
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(shifts, torch.full_like(shifts, log_px_w), label="log p(x)")
ax.plot(shifts, bounds, label="ELBO L(q)")
ax.fill_between(shifts, bounds, log_px_w, color="tab:red", alpha=0.2, label="KL(q || p(z|x))")
ax.set_xlabel("shift of q's mean along z[0]")
ax.set_ylabel("nats")
ax.legend()
plt.show()

# %% [markdown]
# ## 8. Recording the results

# %%
record_file = results.record(
    "02_elbo",
    {
        "ML Gaussian: closed form vs gradient ascent, max difference": ml_error,
        "max |log p(x) - ELBO - KL| over test images (nats)": identity_error,
        "max |log p(x) - ELBO| at q = posterior (nats)": at_posterior,
        f"pPCA (d = {LATENT}) mean test log-density (nats)": log_evidence(X_test).mean().item(),
    },
    cfg,
)

# %% [markdown]
# ## Think
#
# - Why does the variational objective use $\mathrm{KL}(q \,\|\, p(z \mid x))$ and not the other
#   direction? (Which expectation can you sample?) What does section 3 predict for a unimodal $q$
#   facing a bimodal posterior?
# - The ELBO of section 5 reached $\log p(x)$ exactly because the true posterior of pPCA is a
#   diagonal Gaussian. What happens to the gap when the posterior is not in $q$'s family?
# - In section 4, how many prior samples would naive Monte Carlo need before one of them explains
#   the test image as well as the posterior mean does?

# %% [markdown] tags=["answers"]
# **Answers for instructors** (the solution build and the deck's speaker notes only;
# the student build leaves them out)
#
# 1. $\mathrm{KL}(q \,\|\, p(z \mid x))$ is an expectation under $q$, which we choose and can
#    sample; the other direction is an expectation under the posterior, which is what we cannot
#    compute. The cost: this direction is mode-seeking. A unimodal $q$ facing a bimodal posterior
#    settles on one mode and underestimates the spread; the forward direction would cover both
#    modes and put mass between them.
# 2. The gap $\log p(x) - \mathrm{ELBO} = \mathrm{KL}(q \,\|\, p(z \mid x))$ stays positive however
#    well $q$ is fitted, so the bound is strict. Worse, maximising the ELBO over the decoder too
#    favours models whose posteriors are easy to approximate, which biases the model. A richer
#    family for $q$ or an importance-weighted bound (notebook 03) narrows the gap.
# 3. Roughly $\exp(\mathrm{KL}(q(z \mid x) \,\|\, p(z)))$ samples: the prior puts about that little
#    mass where the posterior lives (Chatterjee & Diaconis 2018 show that importance sampling
#    needs about $\exp(\mathrm{KL})$ samples). Evaluate the KL for a test image with the
#    notebook's functions: at 30 nats the count is already $10^{13}$.

# %% [markdown]
# ## Summary
#
# - Maximum likelihood picks the parameters that make the data most probable; for a Gaussian the
#   answer is the sample mean and the (biased) sample variance.
# - $\mathrm{KL}(q \,\|\, p) \ge 0$, not symmetric (mode-seeking vs mass-covering), infinite when
#   $q$ has mass where $p$ has none.
# - $\log p(x) = L(q) + \mathrm{KL}(q \,\|\, p(z \mid x))$: the ELBO is a lower bound, tight at the
#   posterior; maximising it fits $q$ to the posterior without knowing $p(x)$.
# - $L(q) = \mathbb{E}_q[\log p(x \mid z)] - \mathrm{KL}(q \,\|\, p(z))$: data fit minus a
#   regulariser, the loss of the VAE in notebook 03.
#
# ## Going further
#
# - Make $q$ depend on $x$ through a network (amortised inference): that is the VAE's encoder.
# - The importance-sampling estimate of section 4 is itself a tighter bound on $\log p(x)$ when
#   averaged inside the log: the importance-weighted bound of Burda et al. (2016), used in 03.
#
# ## References
#
# - D. P. Kingma, M. Welling (2014). Auto-encoding variational Bayes. *ICLR*.
# - M. E. Tipping, C. M. Bishop (1999). Probabilistic principal component analysis. *JRSS B* 61(3).
# - D. M. Blei, A. Kucukelbir, J. D. McAuliffe (2017). Variational inference: a review for
#   statisticians. *JASA* 112(518).
# - C. M. Bishop (2006). *Pattern Recognition and Machine Learning*, sections 1.6 (information,
#   KL) and 10.1 (variational inference; the mode-seeking figure 10.3).
# - Y. Burda, R. Grosse, R. Salakhutdinov (2016). Importance weighted autoencoders. *ICLR*.
