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
# # 06 · Wasserstein GANs: weight clipping and the gradient penalty
#
# > When the real and the generated distributions live on low-dimensional manifolds that do not
# > line up, a perfect discriminator exists, and "this is the end of optimisation". (the lecture,
# > after Arjovsky & Bottou 2017)
#
# Notebook 05 showed GAN training circling its equilibrium. The other complaint led to the
# Wasserstein GAN: when the two distributions do not overlap, the Jensen-Shannon divergence of
# notebook 04 is flat; the Wasserstein-1 distance changes smoothly, and a 1-Lipschitz **critic**
# estimates it (Arjovsky, Chintala & Bottou 2017). Keeping the critic 1-Lipschitz is the hard part: weight
# clipping has problems of its own, and the gradient penalty replaced it (Gulrajani et al. 2017).
#
# **Learning goals**
# - see why JS gives no gradient on disjoint supports while $W_1$ does; derive the optimal 1-D
#   critic and compare a trained one with it;
# - show what weight clipping does to a critic (weights at $\pm c$, exploding or vanishing
#   gradients, a critic too simple for the data);
# - write the gradient penalty and train WGAN-GP, WGAN with clipping, the GAN and the GAN with R1
#   side by side on the toy mixtures and MNIST;
# - check whether the critic's loss tracks sample quality.
#
# **Prerequisites**: notebooks 04 and 05; the Lipschitz condition; sorting.
#
# **Time and hardware**: a full run took 23 min on a 2-core server CPU (AMD EPYC; 21 toy GANs,
# then 9 MNIST GANs of about a minute each), 20 min after notebook 05 under the same `COURSE_OUTPUT`
# (its 3 MNIST GANs are loaded, not trained again). A GPU is used without code changes. FAST mode:
# about a minute; a second run reloads every trained model. A class sitting in FAST mode: about
# 90 min (estimated as in notebook 00).
#
# **What it shows**: why a Wasserstein critic gives a gradient where JS does not, and why the
# gradient penalty works where clipping fails; your numbers beside the recorded run's at the end.

# %% tags=["parameters"]
# FAST = True (or COURSE_FAST=1): fewer steps and one seed, same code and data.
FAST = False
SEED = 0
# DEVICE: "auto" (cuda, then mps, then cpu), "cpu", "cuda", "cuda:0" or "mps".
DEVICE = "auto"
# Seeds for every claim about training (sections 3-4).
SEEDS = 3
# Section 1: steps to train each discriminator / critic on a fixed pair of distributions.
PROBE_STEPS = 500
# Section 3, the toys: generator steps on the ring of 8 and on the grid of 25.
RING_STEPS = 1500
GRID_STEPS = 3000
# Gradient-penalty weight on the toys. Gulrajani et al. use lambda = 10 in every experiment of the paper,
# toys included; only their released toy script uses 0.1.
LAMBDA_TOY = 1.0
# Section 4, MNIST: each method's registered recipe (course_utils/adversarial.py), the fields this
# run changes per method (e.g. {"wgan-gp": {"gp_lambda": 1.0}}).
MNIST_RECIPES = {"gan": "mnist-gan-half", "wgan-clip": "mnist-wgan-clip-half", "wgan-gp": "mnist-wgan-gp-half"}
MNIST_OVERRIDES = {}

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn

from course_utils import adversarial, checks, config, data, gan, metrics, plots, results, toys, train

cfg = config.setup(fast=FAST, seed=SEED, device=DEVICE)
seeds = list(range(SEED, SEED + (1 if cfg.fast else SEEDS)))


# %% [markdown]
# ## 1. When the supports do not overlap
#
# The simplest pair that does not overlap: real data on the segment $\{(0, y): 0 \le y \le 1\}$,
# generated samples on $\{(\theta, y)\}$, $y$ uniform on both (Arjovsky et al. 2017, Example 1).
# For every $\theta \neq 0$:
#
# - the supports are disjoint, so $\mathrm{JS} = \log 2$ and KL is infinite whatever the distance;
# - a discriminator can be perfect, and then the minimax generator loss is flat around the
#   generated samples: no gradient with respect to $\theta$;
# - the Wasserstein-1 distance, the cost of the cheapest way to move one distribution onto the
#   other, is $W_1 = |\theta|$: it shrinks smoothly as the generator approaches.
#
# By the Kantorovich-Rubinstein duality
#
# $$W_1(P_r, P_\theta) = \sup_{\lVert f \rVert_L \le 1} \mathbb{E}_{x \sim P_r} f(x) - \mathbb{E}_{x \sim P_\theta}
# f(x),$$
#
# so a network $f$ kept 1-Lipschitz (a **critic**: scores, not probabilities) and trained to
# maximise the difference estimates $W_1$, and the generator can descend it. (The lecture's
# $\min_G \max_D \mathbb{E}_{P_g} D(x) - \mathbb{E}_{P_r} D(x)$ is the same with $D = -f$.) For each
# $\theta$ we train a GAN discriminator and a WGAN-GP critic (section 3) from scratch, then ask
# each how the generator should move, and what it measures.
#
# **Exercise 1 (derive it).** A discriminator reports its loss $\mathcal{L}_D$ (`gan.discriminator_loss`,
# notebook 04: the mean cross-entropy over a real and a generated batch). Using notebook 04's
# $V(D^*, G) = 2\,\mathrm{JS}(p_r, p_g) - \log 4$, derive the JS divergence that a loss implies if
# $D$ is optimal, and write `js_estimate(loss_d)` (any shape). Predict: what loss does a perfect
# discriminator reach on disjoint supports, and which JS does your formula then give?

# %%
def js_estimate(loss_d):
    """The JS divergence implied by a discriminator's loss, if D is optimal (same shape as loss_d)."""
    ### BEGIN SOLUTION
    return math.log(2) - loss_d / 2  # loss_D = -V and V(D*, G) = 2 JS - log 4
    ### END SOLUTION


# %%
cases = [torch.tensor(2 * math.log(2)), torch.tensor([0.0, 0.3, 1.0]), torch.rand(5, dtype=torch.float64)]
js_estimate = checks.check_exercise("js_estimate", js_estimate, cases)

# %%
segments = toys.segments  # n real points (0, y) and n generated ones (theta, y), y ~ U[0, 1]


# Notebook 04's cross-entropy for D, and the WGAN-GP critic: recipes for the course's engine, whose
# train_critic trains a discriminator or critic alone against two fixed distributions.
probe_recipes = {
    "gan": adversarial.Recipe("a discriminator, 2 x 64 ReLU, Adam 1e-3 (0.5, 0.9), batch 256", nets="mlp",
                              lr=1e-3, betas=(0.5, 0.9), batch=256),
    "critic": adversarial.Recipe("a WGAN-GP critic (lambda 10), 2 x 64 ReLU, Adam 1e-3 (0.5, 0.9), batch 256",
                                 nets="mlp", objective="wgan", penalty="gp", gp_lambda=10.0, lr=1e-3, betas=(0.5, 0.9),
                                 batch=256),
}


def probe(theta, kind, steps, seed=0, record_every=0):
    """A discriminator ("gan": JS estimate) or a WGAN-GP critic (W1 estimate) on the segments: its estimate,
    |d loss_G / d theta| per generator loss, and a trace of them every record_every steps."""
    D = train.seeded(seed, lambda: gan.mlp(2, 1, 64, 2))

    def generator_gradients(D):
        t = torch.tensor(float(theta), requires_grad=True)
        real, fake = segments(t, 1024, torch.Generator().manual_seed(123))
        out = D(fake).view(-1)
        losses = ({"minimax": gan.generator_loss_saturating(out),
                   "non-saturating": gan.generator_loss_nonsaturating(out)}
                  if kind == "gan" else {"critic": gan.generator_loss_critic(out)})
        return {name: abs(torch.autograd.grad(loss, t, retain_graph=True)[0].item()) for name, loss in losses.items()}

    def inspect(step, D):  # after each update: the generator's gradient, every record_every steps
        if record_every and (step % record_every == 0 or step == steps - 1):
            return generator_gradients(D)

    history = adversarial.train_critic(D, lambda n, g: segments(theta, n, g), probe_recipes[kind], seed, steps=steps,
                                       inspect=inspect)
    with torch.no_grad():
        real, fake = segments(theta, 4096, torch.Generator().manual_seed(7))
        r, f = D(real).view(-1), D(fake).view(-1)
        estimate = js_estimate(gan.discriminator_loss(r, f)).item() if kind == "gan" else (r.mean() - f.mean()).item()
    trace = {name: ([int(i) for i in history.steps[name]], [float(v) for v in history[name]])
             for name in history.keys() if name != "loss_d"}
    return {"estimate": estimate, **generator_gradients(D), "trace": trace, "D": D}


probe_steps = cfg.scale(full=PROBE_STEPS, fast=60)
thetas = [-2.0, -1.0, -0.5, -0.2, 0.2, 0.5, 1.0, 2.0] if not cfg.fast else [-1.0, 0.5, 2.0]
trace_every = max(1, probe_steps // 25)


def disjoint_supports():  # every probe of this section (a minute of training): numbers only, so a rerun reloads them
    plain = lambda r: {k: v for k, v in r.items() if k != "D"}  # noqa: E731
    return {"probes": {kind: [plain(probe(t, kind, probe_steps)) for t in thetas] for kind in ("gan", "critic")},
            "traces": {kind: probe(1.0, kind, probe_steps, record_every=trace_every)["trace"]
                       for kind in ("gan", "critic")}}


disjoint = train.compute_or_load("06_disjoint", disjoint_supports,
                                 {"thetas": thetas, "steps": probe_steps, "trace_every": trace_every, "seed": 0,
                                  "recipes": {k: r.settings() for k, r in probe_recipes.items()}})
probes, traces = disjoint["probes"], disjoint["traces"]
exact = [metrics.wasserstein_1d(*(p[:, 0] for p in segments(t, 4096, torch.Generator().manual_seed(7))))
         for t in thetas]

print(" theta   JS estimate  |grad| minimax  |grad| non-sat.   W1 exact  W1 critic  |grad| critic")
for t, p_gan, p_critic, w in zip(thetas, probes["gan"], probes["critic"], exact):
    print(f"{t:6.2f}   {p_gan['estimate']:10.4f}   {p_gan['minimax']:13.2e}   {p_gan['non-saturating']:14.2e}"
          f"   {w:8.3f}   {p_critic['estimate']:8.3f}   {p_critic['critic']:12.3f}")
print(f"log 2 = {math.log(2):.4f}")

# %% [markdown]
# The discriminators are perfect: their JS estimate is $\log 2$ at every distance. The minimax
# generator's gradient is tiny and shrinks as the segments move apart. The non-saturating loss
# keeps a gradient, but one that *grows* as the segments get closer: it measures how steep the
# discriminator became, not how far the generator must go. The critic's estimate follows
# $W_1 = |\theta|$ (the soft penalty lets it overshoot a little) and its gradient stays near 1.
#
# The vanishing gradient appears while the discriminator trains. At $\theta = 1$, the generator's
# gradient through the discriminator and through the critic, every few steps of their training:

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
axes[0].plot(thetas, [p["estimate"] for p in probes["gan"]], "o-", label="GAN discriminator: JS estimate")
axes[0].axhline(math.log(2), color="k", ls=":", label="JS = log 2 for every theta != 0")
axes[0].plot(thetas, [p["estimate"] for p in probes["critic"]], "s-", label="critic: W1 estimate")
axes[0].plot(thetas, exact, "k--", lw=1, label="W1 exact = |theta|")
axes[0].set(xlabel="theta", title="what each network measures")
axes[0].legend(fontsize=8)
for name, marker in (("minimax", "o-"), ("non-saturating", "^-")):
    axes[1].semilogy(thetas, [p[name] for p in probes["gan"]], marker, label=f"GAN, {name}")
axes[1].semilogy(thetas, [p["critic"] for p in probes["critic"]], "s-", label="WGAN critic")
axes[1].set(xlabel="theta", ylabel="|d loss_G / d theta|", title="the generator's gradient after training")
axes[1].legend(fontsize=8)
for kind, name, marker in (("gan", "minimax", "o-"), ("gan", "non-saturating", "^-"), ("critic", "critic", "s-")):
    steps_, grads = traces[kind][name]
    axes[2].semilogy(steps_, grads, marker, ms=3, label=f"{'GAN, ' + name if kind == 'gan' else 'WGAN critic'}")
axes[2].set(xlabel="training steps of D / the critic", ylabel="|d loss_G / d theta|", title="theta = 1, while D trains")
axes[2].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# ### $W_1$ exactly, in one dimension
#
# In 1-D the optimal transport plan never crosses: the $i$-th smallest real point goes to the
# $i$-th smallest generated point. For two samples of equal size $n$,
#
# $$W_1 = \frac{1}{n} \sum_{i=1}^{n} \big| x_{(i)} - y_{(i)} \big|,$$
#
# with $x_{(i)}$ the sorted sample, which is also $\int |F_r(t) - F_g(t)|\, dt$ for the two
# empirical distribution functions.
#
# `metrics.wasserstein_1d` computes it (and handles unequal sizes through the distribution
# functions; it is tested against `scipy.stats.wasserstein_distance`).
#
# **Exercise 2 (a derivation).** Integrate by parts to show $\mathbb{E}_r f - \mathbb{E}_g f =
# \int f'(t)\,(F_g(t) - F_r(t))\,dt$ for distributions on the line. Which slope $f'(t)$, with
# $|f'| \le 1$, maximises it at each $t$? Write `optimal_critic(t, F_r, F_g)`: that critic's values
# on a grid `t` of shape `(n,)`, given the two CDFs there, with $f(t_0) = 0$ and on each interval
# $[t_i, t_{i+1}]$ the slope your argument gives at $t_i$ (slope 0 where the CDFs agree). The cell
# after the check confirms that $\mathbb{E}_r f - \mathbb{E}_g f$ of your critic is the exact $W_1$.

# %%
def optimal_critic(t, F_r, F_g):
    """The best 1-Lipschitz critic on the grid t (n,), from the CDFs F_r, F_g there (n,): (n,)."""
    ### BEGIN SOLUTION
    slope = torch.sign(F_g[:-1] - F_r[:-1]).to(t.dtype)
    return torch.cat([torch.zeros(1, dtype=t.dtype), torch.cumsum(slope * torch.diff(t), 0)])
    ### END SOLUTION


# %%
n_1d, t = 20_000, torch.linspace(-4.5, 4.5, 901, dtype=torch.float64)
g1 = torch.Generator().manual_seed(1)
real_1d = torch.cat([torch.randn(n_1d // 2, generator=g1) * 0.5 - 2, torch.randn(n_1d // 2, generator=g1) * 0.5 + 2])
candidates = {"N(0, 1)": torch.randn(n_1d, generator=g1), "N(1, 0.5^2)": 1 + 0.5 * torch.randn(n_1d, generator=g1),
              "the data shifted by 0.5": real_1d[torch.randperm(n_1d, generator=g1)] + 0.5}
cdf = {k: (v.double()[None, :] <= t[:, None]).double().mean(1) for k, v in {"data": real_1d, **candidates}.items()}
cases = [(t, cdf["data"], cdf[k]) for k in candidates] + [(t[:5], torch.zeros(5), torch.zeros(5))]
optimal_critic = checks.check_exercise("optimal_critic", optimal_critic, cases, atol=1e-9)
for name_, fake in candidates.items():  # E_r f - E_g f of the optimal critic, interpolated at the samples
    f_star = optimal_critic(t, cdf["data"], cdf[name_]).numpy()
    gap = np.interp(real_1d.numpy(), t.numpy(), f_star).mean() - np.interp(fake.numpy(), t.numpy(), f_star).mean()
    print(f"{name_:24s} E_r f* - E_g f* = {gap:.4f}   exact W1 = {metrics.wasserstein_1d(real_1d, fake):.4f}")

# %% [markdown]
# Now the duality, made visible: for each pair we train a 1-D critic and compare its estimate with
# the exact $W_1$, and draw it next to the optimal one.
#
# One surprise first. With Gulrajani et al.'s two-sided penalty $(\lVert\nabla f\rVert - 1)^2$ the
# critic can get stuck: for the generator N(0, 1) the best critic is V-shaped (slope $-1$ left of
# the middle, $+1$ right of it), but a critic that starts as a falling line must turn its right half
# round, through slope 0, which the penalty charges for. The **one-sided** penalty
# $\max(0, \lVert\nabla f\rVert - 1)^2$ (Petzka et al. 2018) has no such barrier. Four seeds each, and
# the two-sided critics drawn:

# %%
def train_critic_1d(real, fake, steps, one_sided, lam=10.0, seed=0):
    """A 1-D critic (2 x 128 ReLU, two- or one-sided penalty); returns it and its estimate E_r f - E_g f."""
    f = train.seeded(seed, lambda: gan.mlp(1, 1, 128, 2))
    recipe = adversarial.Recipe(f"1-D critic, {'one' if one_sided else 'two'}-sided penalty", objective="wgan",
                                penalty="gp-one-sided" if one_sided else "gp", gp_lambda=lam, nets="mlp", lr=1e-3,
                                betas=(0.5, 0.9), batch=512)

    def batches(n, g):
        pick_real = torch.randint(len(real), (n,), generator=g)
        pick_fake = torch.randint(len(fake), (n,), generator=g)
        return real[pick_real][:, None], fake[pick_fake][:, None]

    adversarial.train_critic(f, batches, recipe, seed, steps=steps)
    with torch.no_grad():
        return f, (f(real[:, None]).mean() - f(fake[:, None]).mean()).item()


critic_steps_1d = cfg.scale(full=2 * PROBE_STEPS, fast=60)
n_seeds_1d = 1 if cfg.fast else 4
name = "N(0, 1)"


on_t = lambda f: f(t[:, None].float()).detach().view(-1).double()  # noqa: E731 - a 1-D critic's values on t


def duality_1d():
    """The critics of this cell (half a minute): their estimates, the two-sided and the N(0, 1) critics on t."""
    runs = {one_sided: [train_critic_1d(real_1d, candidates[name], critic_steps_1d, one_sided, seed=s)
                        for s in range(n_seeds_1d)] for one_sided in (False, True)}
    sided = {str(k): [e for _, e in v] for k, v in runs.items()}
    estimates, curve = {}, None
    for other, fake in candidates.items():
        f, estimates[other] = train_critic_1d(real_1d, fake, critic_steps_1d, one_sided=True)
        curve = on_t(f) if other == name else curve
    return {"sided": sided, "estimates": estimates, "learned": curve, "two_sided": [on_t(f) for f, _ in runs[False]]}


duality = train.compute_or_load("06_duality", duality_1d, {"steps": critic_steps_1d, "seeds": n_seeds_1d, "n": n_1d,
                                                          "trainer": "adversarial.train_critic", "curves": "two-sided"})
sided = {one_sided: duality["sided"][str(one_sided)] for one_sided in (False, True)}
w1_normal = metrics.wasserstein_1d(real_1d, candidates[name])
print(f"N(0, 1) against the two Gaussians: exact W1 = {w1_normal:.3f}")
for one_sided, estimates in sided.items():
    print(f"  {'one-sided' if one_sided else 'two-sided'} penalty, critic's estimate by seed: "
          + ", ".join(f"{e:.3f}" for e in estimates))

rows_1d = [(other, metrics.wasserstein_1d(real_1d, fake), duality["estimates"][other])
           for other, fake in candidates.items()]
print("\ngenerator                 W1 exact (sorted samples)   one-sided critic's estimate")
for other, w, e in rows_1d:
    print(f"{other:24s}  {w:12.3f}                {e:10.3f}  ({100 * (e - w) / w:+.1f} %)")

F_r, F_g = cdf["data"], cdf[name]
optimal, learned = optimal_critic(t, F_r, F_g), duality["learned"]
fig, axes = plt.subplots(1, 3, figsize=(15, 3.6))
axes[0].hist(real_1d.numpy(), 120, density=True, alpha=0.5, label="real: Gaussians at -2 and +2")
axes[0].hist(candidates[name].numpy(), 120, density=True, alpha=0.5, label=f"generated: {name}")
axes[0].plot(t, F_r, "C0", t, F_g, "C1")
axes[0].set(xlabel="x", title="the two distributions and their CDFs")
axes[0].legend(fontsize=8)
axes[1].plot(t, learned - learned.mean(), label="trained critic (centred)")
axes[1].plot(t, optimal - optimal.mean(), "k--", label="optimal critic (Exercise 2)")
axes[1].set(xlabel="x", ylabel="f(x)", title="Kantorovich-Rubinstein: the critic")
axes[1].legend(fontsize=8)
for s, (curve, e) in enumerate(zip(duality["two_sided"], sided[False])):
    axes[2].plot(t, curve - curve.mean(), label=f"seed {s}: estimate {e / w1_normal:.2f} W1")
axes[2].set(xlabel="x", title="two-sided penalty: the critic of each seed")
axes[2].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# Count the two-sided critic's stuck seeds (an estimate near 0). A stuck critic (right panel) is
# close to a straight falling line: slope $-1$ everywhere, so no penalty, and almost no score, since
# a line gives the two symmetric distributions nearly the same mean. Both penalties overshoot $W_1$
# a little (a soft penalty lets the slope exceed 1). The trained critic follows the optimal one
# where there are samples and flattens where there are none.
#
# ## 2. Keeping the critic 1-Lipschitz by clipping its weights
#
# The lecture's verdict: the WGAN "does not solve all issues". Its paper clips every weight into
# $[-c, c]$, $c = 0.01$, after each critic step (Algorithm 1: RMSprop $5\cdot10^{-5}$, 5 critic
# steps per generator step); the critic is then $K$-Lipschitz for an unknown $K$. Gulrajani et al.
# (2017, Figure 1) showed three problems, reproduced here on the ring of 8 with the generator
# fixed at the data plus unit Gaussian noise:
#
# 1. the clipped critic is too simple: nearly linear, where the penalised critic follows the modes;
# 2. in a deep critic, gradients explode or vanish from layer to layer unless $c$ is tuned;
# 3. the weights pile up at $\pm c$.

# %%
ring = toys.ring(8, sigma=0.05)


def train_fixed_critic(constraint, c=0.01, steps=1000, hidden=256, layers=3, seed=0, lam=LAMBDA_TOY):
    """A critic separating the ring of 8 from the ring plus N(0, I) noise, "clip" (RMSprop 5e-5) or "gp" (Adam);
    returns it and each Linear layer's gradient norm (input first), averaged over the last 50 steps."""
    f = train.seeded(seed, lambda: gan.mlp(2, 1, hidden, layers))
    recipe = (adversarial.Recipe(f"critic, weights clipped to {c:g}", objective="wgan", penalty="clip", clip=c,
                                 optimizer="rmsprop", lr=5e-5, nets="mlp", batch=256) if constraint == "clip" else
              adversarial.Recipe(f"critic, gradient penalty {lam:g}", objective="wgan", penalty="gp", gp_lambda=lam,
                                 lr=1e-4, betas=(0.5, 0.9), nets="mlp", batch=256))
    linears = [m for m in f if isinstance(m, nn.Linear)]
    last = min(50, steps)

    def inspect(step, f):  # the gradient of each layer's weights, over the last steps
        if step >= steps - last:
            return {f"layer {i}": m.weight.grad.norm().item() for i, m in enumerate(linears)}

    def batches(n, g):
        return ring.sample(n, g), ring.sample(n, g) + torch.randn(n, 2, generator=g)

    history = adversarial.train_critic(f, batches, recipe, seed, steps=steps, inspect=inspect)
    return f, np.array([history[f"layer {i}"].mean() for i in range(len(linears))])


fixed_steps = cfg.scale(full=2 * PROBE_STEPS, fast=60)
ticks = torch.linspace(-3.5, 3.5, 141)
grid_x, grid_y = torch.meshgrid(ticks, ticks, indexing="xy")
points = torch.stack([grid_x.reshape(-1), grid_y.reshape(-1)], 1)
surface_names = {"clip": "weight clipping (c = 0.01)", "gp": f"gradient penalty (lambda = {LAMBDA_TOY:g})"}


def critic_surfaces():  # both critics' values on the plotting grid and their weights (20 s of training), cached
    out = {}
    for constraint in surface_names:
        f = train_fixed_critic(constraint, steps=fixed_steps)[0]
        with torch.no_grad():
            out[constraint] = {"value": f(points).view(141, 141),
                               "weights": torch.cat([p.detach().flatten()
                                                     for n_, p in f.named_parameters() if "weight" in n_]),
                               "parameters": torch.cat([p.detach().flatten() for p in f.parameters()])}
    return out


surfaces = train.compute_or_load("06_surfaces", critic_surfaces, {"steps": fixed_steps, "lam": LAMBDA_TOY, "seed": 0,
                                                                            "trainer": "adversarial.train_critic"})
fig, axes = plt.subplots(1, 3, figsize=(15, 4.3))
data_points = ring.sample(512, torch.Generator().manual_seed(1))
for ax, (constraint, title) in zip(axes, surface_names.items()):
    ax.contourf(grid_x, grid_y, surfaces[constraint]["value"], 30, cmap="viridis")
    ax.scatter(*data_points.T, s=2, c="w")
    ax.set(title=f"critic value, {title}", aspect="equal")
clip_weights, gp_weights = surfaces["clip"]["parameters"], surfaces["gp"]["weights"]
axes[2].hist(clip_weights.numpy(), np.linspace(-0.0105, 0.0105, 43))
axes[2].set(xlabel="parameter", ylabel="count (log scale)", yscale="log",
            title="the clipped critic's parameters (c = 0.01)")
plt.tight_layout()
plt.show()
at_bound = float((clip_weights.abs() > 0.99 * 0.01).double().mean())
print(f"clipped critic: {100 * at_bound:.1f} % of its {len(clip_weights):,} parameters sit at +-c (within 1 %); "
      f"penalised critic: weights from {gp_weights.min():.2f} to {gp_weights.max():.2f}")

# %% [markdown]
# Now a deep critic (12 hidden ReLU layers of 128, no normalisation, as in Gulrajani et al.'s
# Figure 1b), trained for a few hundred steps with $c \in \{0.1, 0.01, 0.001\}$ and with the penalty.
# We plot the norm of the loss's gradient with respect to each layer's weights, input layer first:

# %%
deep_steps = cfg.scale(full=PROBE_STEPS // 2, fast=20)


def deep_critics():  # per-layer gradient norms of the four deep critics (15 s of training), cached
    norms = {f"clip c = {c:g}": train_fixed_critic("clip", c=c, steps=deep_steps, hidden=128, layers=12)[1]
             for c in (0.1, 0.01, 0.001)}
    norms[f"gradient penalty (lambda = {LAMBDA_TOY:g})"] = train_fixed_critic("gp", steps=deep_steps, hidden=128,
                                                                              layers=12)[1]
    return norms


deep = {k: np.asarray(v) for k, v in train.compute_or_load("06_deep_critics", deep_critics,
                                                          {"steps": deep_steps, "lam": LAMBDA_TOY, "seed": 0,
                                                           "trainer": "adversarial.train_critic"}).items()}
tiny = 1e-40  # float32 underflows to exactly 0 below ~1e-45: drawn at this floor
fig, ax = plt.subplots(figsize=(7, 3.8))
for name, norms in deep.items():
    ax.semilogy(range(len(norms)), np.maximum(norms, tiny), "o-", label=name)
ax.set(xlabel="layer (0 = input)", ylabel="||d loss / d W|| (last steps)", title="gradient norms through a deep critic")
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# Each clipped layer scales the signal by roughly the same factor, so the effect compounds with
# depth: with $c = 0.01$ the gradients vanish, with $c = 0.001$ they underflow to exactly 0, with
# $c = 0.1$ they grow towards the input. The penalised critic keeps every layer within one order
# of magnitude. The clipped critic's value surface is one smooth
# dome that ignores the eight modes, and most of its weights sit at $\pm c$ (Gulrajani et al.
# Figure 1b, right).
#
# ## 3. The gradient penalty, and the four recipes on the toy mixtures
#
# The optimal critic has gradient norm 1 almost everywhere between the two distributions;
# Gulrajani et al. (2017) ask for it softly:
#
# $$L_\text{critic} = \mathbb{E}_{\tilde x \sim P_g} f(\tilde x) - \mathbb{E}_{x \sim P_r} f(x)
#   + \lambda\, \mathbb{E}_{\hat x}\big[(\lVert \nabla_{\hat x} f(\hat x) \rVert_2 - 1)^2\big],
#   \qquad \hat x = \epsilon x + (1 - \epsilon)\tilde x,\ \epsilon \sim U[0, 1],$$
#
# one $\epsilon$ per pair of a real and a generated sample (their equation 3; $\lambda = 10$ in all
# their experiments).
#
# **Exercise 3.** Write `gradient_penalty(critic, real, fake, eps)`: `real`, `fake` of shape
# `(B, ...)`, `eps` of shape `(B,)`; return the penalty without the $\lambda$, as a scalar that
# back-propagates into the critic's weights (`create_graph=True`). The check compares it with
# finite differences of the critic, in 2-D and on 1 x 6 x 6 images.

# %%
def gradient_penalty(critic, real, fake, eps):
    """E[(||grad f(xhat)|| - 1)^2], xhat = eps * real + (1 - eps) * fake; eps: (B,). A scalar."""
    ### BEGIN SOLUTION
    eps = eps.reshape((-1,) + (1,) * (real.dim() - 1))
    xhat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(xhat).sum(), xhat, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()
    ### END SOLUTION


# %%
torch.manual_seed(0)
f_points = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1)).double()
f_images = nn.Sequential(nn.Conv2d(1, 3, 3), nn.Tanh(), nn.Flatten(), nn.Linear(48, 1)).double()
g_check = torch.Generator().manual_seed(1)
cases = [(f_points, torch.randn(32, 2, dtype=torch.float64), 3 * torch.randn(32, 2, dtype=torch.float64),
          torch.rand(32, dtype=torch.float64)),
         (f_points, torch.zeros(4, 2, dtype=torch.float64), torch.ones(4, 2, dtype=torch.float64),
          torch.tensor([0.0, 0.3, 0.7, 1.0], dtype=torch.float64)),
         (f_images, torch.rand(3, 1, 6, 6, dtype=torch.float64), torch.rand(3, 1, 6, 6, dtype=torch.float64),
          torch.rand(3, dtype=torch.float64))]
checked = checks.check_exercise("gradient_penalty", gradient_penalty, cases, atol=1e-6)
if checked is not gradient_penalty:  # not attempted: go on with the course's autograd version
    gradient_penalty = lambda critic, real, fake, eps: gan.gradient_penalty(critic, real, fake, eps=eps)  # noqa: E731
penalty = gradient_penalty(f_points, *cases[0][1:])
assert penalty.requires_grad, "the penalty must carry a graph back to the critic's weights (create_graph=True)"

# %% [markdown]
# The four recipes, trained by the course's engine (notebook 04's loop), so they differ only where
# they are meant to; **your** `gradient_penalty` is plugged in for WGAN-GP:
#
# | recipe | D / critic loss | constraint or penalty | steps of D per step of G | optimiser |
# | --- | --- | --- | ---: | --- |
# | `gan` (notebook 04) | $-\mathbb{E}\log D(x) - \mathbb{E}\log(1 - D(G(z)))$ | none | 1 | Adam |
# | `gan-r1` (notebook 05) | same | $\frac{\gamma}{2}\mathbb{E}_{P_r}\lVert\nabla D\rVert^2$ | 1 | Adam |
# | `wgan-clip` (Arjovsky et al.) | $\mathbb{E} f(G(z)) - \mathbb{E} f(x)$ | weights into $[-c, c]$ | 5 | RMSprop |
# | `wgan-gp` (Gulrajani et al.) | same | $\lambda\mathbb{E}(\lVert\nabla f(\hat x)\rVert - 1)^2$ | 5 (toys 2) | Adam |
#
# (WGAN-GP's Adam betas (0.5, 0.9) are those of Gulrajani et al.'s released code; the paper's
# Algorithm 1 has (0, 0.9).) At each evaluation we also record what the loss curve would show: the
# critic's estimate $\mathbb{E}_r f - \mathbb{E}_g f$ for a WGAN, the discriminator's loss for a GAN,
# on one fixed held-out batch.

# %%
losses = adversarial.Losses(gradient_penalty=gradient_penalty)  # yours, for every "gp" recipe
tasks = {}  # task name -> how to draw real samples, score a generator, and what else the scores depend on


def run(task, method, seed, recipe, evals, points):
    """`recipe` on `task` from `seed` by the engine (or reloaded: any notebook that trained the same recipe, seed
    and data did it): (nets, History). Each of `evals` points of the curve (of the `points` copies of the
    networks the run keeps) logs the task's scores and "curve": the critic's W1 estimate, or D's loss, on a
    held-out batch fixed per seed."""
    real = tasks[task]["real"]
    held_real = real(512, torch.Generator().manual_seed(10_000 + seed))
    held_z = torch.randn(512, recipe.latent, generator=torch.Generator().manual_seed(20_000 + seed)).to(cfg.device)

    def evaluate(nets):
        G, D = nets["G"], nets["D"]
        r, f = D(held_real).view(-1), D(torch.cat([G(z) for z in held_z.split(256)])).view(-1)
        curve = (r.mean() - f.mean()).item() if recipe.objective == "wgan" else gan.discriminator_loss(r, f).item()
        return {"curve": curve, **tasks[task]["evaluate"](nets)}

    return adversarial.train_or_load_gan(f"06_{task}_{method}", recipe, real, seed, cfg.device,
                                         data=tasks[task]["data"], evaluate=evaluate, evals=evals, points=points,
                                         settings=tasks[task]["settings"], losses=losses,
                                         desc=f"{task}, {method}, seed {seed}")


# %% [markdown]
# ### The ring of 8 and the grid of 25
#
# Notebook 04's toy networks and mode counter; every recipe gets the same networks and generator
# steps (the engine's recipe names in brackets):
#
# - `gan` (`toy-r1` without the penalty) and `gan-r1` (`toy-r1`, R1 with $\gamma = 0.1$);
# - `wgan-clip` (`toy-wgan-clip`): the WGAN paper's settings;
# - `wgan-gp` (`toy-wgan-gp`): $\lambda = 1$ (`LAMBDA_TOY`), 2 critic steps, the `gan` schedule.

# %%
def toy_scores(mixture, z):
    def evaluate(nets):
        report = toys.mode_report(adversarial.generate(nets, z, chunk=None), mixture)
        return {"modes": report["modes"], "high_quality": 100 * report["high_quality"]}
    return evaluate


grid = toys.grid(25, sigma=0.05)
toy_z = torch.randn(2500, 2, generator=torch.Generator().manual_seed(10_000)).to(cfg.device)
for name, mixture in (("ring", ring), ("grid", grid)):
    tasks[name] = dict(real=lambda n, g, m=mixture: m.sample(n, g).to(cfg.device), evaluate=toy_scores(mixture, toy_z),
                       data={"mixture": name, "sigma": 0.05}, settings={"eval_points": len(toy_z)})
toy_recipes = {
    "gan": adversarial.recipe("toy-r1").with_(penalty="none", gamma=0.0),
    "gan-r1": adversarial.recipe("toy-r1"),
    "wgan-clip": adversarial.recipe("toy-wgan-clip"),
    "wgan-gp": adversarial.recipe("toy-wgan-gp").with_(gp_lambda=LAMBDA_TOY),
}
toy_nets, toy_runs = {}, {}
toy_methods = {"ring": list(toy_recipes), "grid": ["gan", "gan-r1", "wgan-gp"]}
for task, task_steps in (("ring", cfg.scale(full=RING_STEPS, fast=100)),
                         ("grid", cfg.scale(full=GRID_STEPS, fast=100))):
    for method in toy_methods[task]:
        recipe = toy_recipes[method].with_(steps=task_steps)
        print(f"{task}, {method}: {recipe.label()}")
        for s in seeds:
            toy_nets[(task, method, s)], toy_runs[(task, method, s)] = run(task, method, s, recipe, evals=6, points=6)


def toy_table(task):  # mean ± sd over seeds of modes and high-quality share at the end, and seconds per run
    table = {}
    print(f"{task}: last evaluation, mean ± sd over seeds {seeds}")
    for method in toy_methods[task]:
        h = [toy_runs[(task, method, s)] for s in seeds]
        table[method] = {"modes": np.array([x["modes"][-1] for x in h]),
                         "high_quality": np.array([x["high_quality"][-1] for x in h]),
                         "seconds": float(np.mean([x.seconds for x in h]))}
        print(f"  {method:10s} modes {results.spread(table[method]['modes'])}   "
              f"high quality (%) {results.spread(table[method]['high_quality'])}"
              f"   {table[method]['seconds']:5.0f} s per run")
    return table


toy_tables = {task: toy_table(task) for task in toy_methods}
for task, mixture in (("ring", ring), ("grid", grid)):
    methods = toy_methods[task]
    fig, axes = plt.subplots(1, len(methods) + 1, figsize=(3.4 * (len(methods) + 1), 3.5))
    panels = [("data", mixture.sample(2500, torch.Generator().manual_seed(0)))] + [
        (f"{m}, seed {SEED}", adversarial.generate(toy_nets[(task, m, SEED)], toy_z, chunk=None).cpu())
        for m in methods]
    limit = 3.0 if task == "ring" else 5.5
    for ax, (title, pts) in zip(axes, panels):
        ax.scatter(*pts.T.numpy(), s=2, alpha=0.4)
        ax.scatter(*mixture.means.T.numpy(), s=20, c="r", marker="x")
        ax.set(title=title, xlim=(-limit, limit), ylim=(-limit, limit), aspect="equal")
    plt.tight_layout()
    plt.show()

# %% [markdown]
# Both penalties cover the grid where the plain GAN drops modes, but after a few thousand steps
# the WGAN-GP's samples still lie between the modes; they sharpen later (`benchmarks/gan_toys.py`).
# The clipped WGAN smears its samples between the ring's modes, as section 2's nearly linear
# critic predicts. The penalty buys coverage, as R1 does, and pays in time per step.
#
# ## 4. MNIST: GAN, WGAN with clipping and WGAN-GP
#
# Notebook 04's DCGAN networks at half width (no batch norm in D, so the penalty stays per
# sample), batch 64, the engine's MNIST recipes: `gan` (`mnist-gan-half`: `mnist-dcgan` at the DCGAN
# paper's Adam $2\cdot10^{-4}$, without the average of G),
# `wgan-clip` (`mnist-wgan-clip-half`: RMSprop $5\cdot10^{-5}$, $c = 0.01$, 5 critic steps) and `wgan-gp`
# (`mnist-wgan-gp-half`: $\lambda = 10$, Adam $10^{-4}$, betas (0.5, 0.9), 5 critic steps). The WGANs'
# critic steps make a generator step dearer, so the recipes' step counts give every run
# about the same time, about a minute: the comparison is at equal time, as on a laptop. Curves use
# the kernel distance of `adversarial.CURVE_SAMPLES` samples; final scores the yardstick's 10,000.

# %%
x_train = data.mnist("train").batch(torch.arange(60_000), cfg.device)[0]  # (60000, 1, 28, 28) in [0, 1]
x_test = data.mnist("test").batch(torch.arange(10_000), cfg.device)[0]
yardstick = metrics.Yardstick(cfg.device)  # the course's fixed classifier; prints its accuracy and floor
n_curve = adversarial.curve_samples(cfg.fast)  # per point of a training curve
mnist_recipes = {method: adversarial.for_mode(name, MNIST_OVERRIDES.get(method), cfg.fast)
                 for method, name in MNIST_RECIPES.items()}
curve_z = adversarial.noise(n_curve, 64, adversarial.CURVE_SEED, cfg.device)
score_z = adversarial.noise(yardstick.n, 64, adversarial.SCORE_SEED, cfg.device)  # every final score


def mnist_scores(nets):
    point = yardstick.curve_point(adversarial.generate(nets, curve_z))
    return {"kernel": point["kernel"], "entropy": point["entropy"], "digits": point["classes_present"]}


tasks["mnist"] = dict(real=adversarial.real_batches(x_train), evaluate=mnist_scores, data="mnist",
                      settings={"n_curve": n_curve})
mnist_nets, mnist_runs, mnist_final = {}, {}, {}
for method, recipe in mnist_recipes.items():
    print(f"{method}: {recipe.label()}")
    for s in seeds:
        mnist_nets[(method, s)], mnist_runs[(method, s)] = run("mnist", method, s, recipe, evals=10,
                                                               points=adversarial.CURVE_POINTS)
        adversarial.sampler(mnist_nets[(method, s)]).eval()
        mnist_final[(method, s)] = yardstick.score(adversarial.generate(mnist_nets[(method, s)], score_z))

fig, axes = plt.subplots(len(mnist_recipes), 1, figsize=(12, 1.2 * len(mnist_recipes) + 0.6))
for ax, method in zip(axes, mnist_recipes):
    plots.image_grid(adversarial.generate(mnist_nets[(method, SEED)], score_z[:24]), nrow=24, ax=ax,
                     title=f"{method}, seed {SEED}, {mnist_recipes[method].steps} generator steps")
plt.tight_layout()
plt.show()

# %%
mnist_table = {}
print(f"MNIST, the yardstick at the end ({yardstick.n:,} samples against the test set; floor {yardstick.floor:.2f}), "
      f"mean ± sd over seeds {seeds}")
for method in mnist_recipes:
    finals = [mnist_final[(method, s)] for s in seeds]
    mnist_table[method] = {k: np.array([f[k] for f in finals])
                           for k in ("frechet", "x_floor", "entropy", "classes_present")}
    mnist_table[method]["seconds"] = float(np.mean([mnist_runs[(method, s)].seconds for s in seeds]))
    t = mnist_table[method]
    print(f"  {method:10s} classifier-Fréchet {results.spread(t['frechet'])} "
          f"({results.spread(t['x_floor'])} x floor)   "
          f"entropy {results.spread(t['entropy'])}   digits {results.spread(t['classes_present'])}   "
          f"{t['seconds']:4.0f} s per run")

# the predicted-digit histograms behind "digits" and "entropy", seed SEED, against the test set's
fig, ax = plt.subplots(figsize=(9, 3))
digits, bar = np.arange(10), 0.8 / (len(mnist_recipes) + 1)
ax.bar(digits - 0.4 + bar / 2, yardstick.score(x_test)["histogram"], bar, color="0.6", label="test images")
for k, method in enumerate(mnist_recipes):
    ax.bar(digits - 0.4 + bar * (k + 1.5), mnist_final[(method, SEED)]["histogram"], bar, label=method)
ax.set(xticks=digits, xlabel="predicted digit", ylabel="share of samples", title=f"digit histograms, seed {SEED}")
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# ### Does the loss say how training is going?
#
# Arjovsky et al. (2017, Figure 3) show the critic's estimate of $W_1$ falling as the samples
# improve, where a GAN's discriminator loss says little. Here, for every run, the curve the loss
# gives (the critic's estimate for the WGANs, the discriminator's loss for the GAN, on one
# held-out batch) next to the kernel distance of the samples at the same moments, and the rank
# correlation (Spearman) between the two over all evaluations of all seeds:

# %%
fig, axes = plt.subplots(2, len(mnist_recipes), figsize=(14, 6), sharex="col")
correlation = {}
for col, method in enumerate(mnist_recipes):
    curves, distances = [], []
    for s in seeds:
        h = mnist_runs[(method, s)]
        axes[0, col].plot(h.steps["curve"], h["curve"], "o-", ms=3, label=f"seed {s}")
        axes[1, col].semilogy(h.steps["kernel"], h["kernel"], "o-", ms=3)
        curves += list(h["curve"])
        distances += list(h["kernel"])
    ranks = [np.argsort(np.argsort(np.array(v))) for v in (curves, distances)]  # Spearman: correlation of ranks
    correlation[method] = float(np.corrcoef(*ranks)[0, 1])
    what = "critic's W1 estimate" if method.startswith("wgan") else "discriminator's loss"
    if not method.startswith("wgan"):
        axes[0, col].axhline(2 * math.log(2), color="k", ls=":", label="2 log 2: D cannot tell")
    axes[0, col].set(title=f"{method}: {what}\nSpearman with the distance: {correlation[method]:+.2f}")
    axes[1, col].set(xlabel="generator step", ylabel=f"kernel distance ({n_curve} samples)")
axes[0, 0].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# At equal time on a CPU the GAN is far ahead; WGAN-GP is still early in training and the clipped
# WGAN has barely started (few digits).
#
# Read the rank correlations against the paper's claim: the WGAN-GP critic's estimate falls with
# the distance; the clipped critic's does not track it (it estimates $K \cdot W_1$ for a $K$ that
# drifts as the weights pile up at $\pm c$). But the GAN's discriminator loss tracked the distance
# at least as closely in the course's runs, inversely: it rises towards $2 \log 2$ (dotted), its
# value when $D$ cannot tell real from generated. So here a GAN's loss does say how training is
# going; what the critic adds is a meaning (an estimate of $W_1$) and a scale, with room below.
#
# ## 5. Recording the results

# %%
def mean(x):
    return float(np.mean(x))


record_file = results.record(
    "06_wgan",
    {
        "disjoint supports: JS estimate of a trained D (mean over theta)": mean([p["estimate"] for p in probes["gan"]]),
        "disjoint supports: critic's W1 estimate / exact W1 (mean over theta)":
            mean([p["estimate"] / w for p, w in zip(probes["critic"], exact)]),
        "disjoint supports: largest |d loss_G / d theta|, minimax GAN": max(p["minimax"] for p in probes["gan"]),
        "disjoint supports: smallest |d loss_G / d theta|, critic": min(p["critic"] for p in probes["critic"]),
        "1-D, N(0, 1) vs two Gaussians: one-sided critic's estimate vs exact W1 (%)":
            100 * (rows_1d[0][2] - rows_1d[0][1]) / rows_1d[0][1],
        "1-D, N(0, 1) vs two Gaussians: two-sided critic's estimate / exact W1, worst seed":
            min(sided[False]) / w1_normal,
        "clipped critic: weights at +-c (%)": 100 * at_bound,
        "deep critic, weights clipped to 0.01: smallest layer gradient norm": float(deep["clip c = 0.01"].min()),
        **{f"{'ring of 8' if t == 'ring' else 'grid of 25'}, {m}: modes / high quality (%)":
           f"{mean(toy_tables[t][m]['modes']):.1f} / {mean(toy_tables[t][m]['high_quality']):.1f}"
           for t, m in (("ring", "wgan-clip"), ("ring", "wgan-gp"), ("ring", "gan"), ("grid", "gan"),
                        ("grid", "gan-r1"), ("grid", "wgan-gp"))},
        "yardstick: real-vs-real floor (n = 10,000)": yardstick.floor,
        **{f"MNIST, {m}: classifier-Fréchet (n = 10,000)": mean(mnist_table[m]["frechet"]) for m in mnist_recipes},
        **{f"MNIST, {m}: classifier-Fréchet / floor": mean(mnist_table[m]["x_floor"]) for m in mnist_recipes},
        "MNIST: digits present, worst seed (gan / wgan-clip / wgan-gp)":
            " / ".join(f"{min(mnist_table[m]['classes_present'])}" for m in mnist_recipes),
        "MNIST: seconds per run (gan / wgan-clip / wgan-gp)":
            " / ".join(f"{mnist_table[m]['seconds']:.0f}" for m in ("gan", "wgan-clip", "wgan-gp")),
        "MNIST: Spearman(loss curve, distance) (gan / wgan-clip / wgan-gp)":
            " / ".join(f"{correlation[m]:+.2f}" for m in ("gan", "wgan-clip", "wgan-gp")),
    },
    cfg,
    paper={"1-D, N(0, 1) vs two Gaussians: two-sided critic's estimate / exact W1, worst seed": "1 (the supremum)",
           "disjoint supports: JS estimate of a trained D (mean over theta)":
               "log 2 = 0.693 (Arjovsky et al. 2017, Example 1)",
           "disjoint supports: critic's W1 estimate / exact W1 (mean over theta)": "1 (W1 = |theta|)"},
)

# %% [markdown]
# ## Think
#
# 1. The minimax generator's gradient vanished while $D$ trained (section 1, right panel). Could you
#    rescue it by training $D$ less? What would the generator then be descending?
# 2. Clipping makes the critic $K$-Lipschitz for an unknown $K$. Why does an unknown $K$ not matter
#    for the generator's direction, and why does it still matter for training?
# 3. The penalty asks for gradient norm 1 only at points between real and generated samples. What
#    does the critic do elsewhere, and where did you see it in section 1?
# 4. Notebook 05 found the one-centred penalty does not make the Dirac-GAN converge, while the
#    zero-centred R1 does. Which did better on the toys here, and is that the same question?
# 5. On MNIST the WGANs had fewer generator steps for the same time. What would you change to
#    give WGAN-GP a fair chance on a CPU, and how would you check that the change helps over seeds?

# %% [markdown] tags=["answers"]
# **Answers for instructors** (the solution build and the deck's speaker notes only;
# the student build leaves them out)
#
# 1. A half-trained $D$ still has a slope at the generated points, so yes for a while; but then
#    the generator descends the loss of whatever $D$ happens to be, not JS (which needs $D^*$),
#    and how much to train $D$ becomes a fragile balance (Goodfellow et al.'s $k$). The critic
#    removes the dilemma: the better it is trained, the better its gradient.
# 2. The best $K$-Lipschitz critic is $K$ times the best 1-Lipschitz one: same direction. But $K$
#    scales the generator's effective step, drifts with $c$, architecture and training, and
#    clipping restricts the critic far more than a Lipschitz bound (section 2).
# 3. Elsewhere the penalty says nothing; the critic extrapolates. It matters only where generated
#    samples are, which is where $\hat x$ is sampled: in section 1 the gradient through the critic
#    stayed near 1 at every distance, because the penalty looked between the segments.
# 4. GAN + R1 and WGAN-GP covered the grid about equally, far ahead of the plain GAN. Not the same
#    question: notebook 05 asks whether training settles at an equilibrium it starts near; the
#    toys ask whether a generator starting far away covers every mode in a budget.
# 5. Compare at equal time; give the critic fewer, cheaper steps (2, as the toy recipe), a higher
#    learning rate, a lazy penalty or a smaller critic. Check on 3 or more seeds, paired by seed,
#    on the yardstick, with mean and spread, against the GAN trained for the same seconds.

# %% [markdown]
# ## Summary
#
# - On disjoint supports JS is stuck at $\log 2$ and a trained discriminator leaves the minimax
#   generator no gradient; $W_1 = |\theta|$ changes smoothly and a critic's gradient stays near 1.
# - In 1-D the optimal critic of Exercise 2 attains $W_1$; a penalised critic comes within a few
#   per cent, or, with the two-sided penalty, can get stuck as a straight line.
# - Weight clipping leaves a nearly linear critic with its weights at $\pm c$, and gradients that
#   explode or vanish through a deep critic unless $c$ is just right.
# - The gradient penalty fixes the critic; what that buys the generator was measured over seeds.
#
# ## Going further
#
# - `benchmarks/gan_toys.py` runs longer toy recipes (`toy-wgan-gp`, `toy-wgan-clip`, and the released
#   toy script's $\lambda = 0.1$), `benchmarks/gan_mnist.py` the full-width WGAN-GP, and
#   `--stacked` stacked MNIST (1,000 modes; Metz et al. 2017); tables in `benchmarks/RESULTS.md`.
# - Spectral normalisation (Miyato et al. 2018) enforces the Lipschitz bound layer by layer, with
#   neither penalty nor clipping.
# - Notebook 07 gives the discriminator an adversary: the tempered GAN's lens.
#
# ## References
#
# - Arjovsky, Bottou. Towards principled methods for training generative adversarial networks. ICLR 2017.
# - Arjovsky, Chintala, Bottou. Wasserstein generative adversarial networks. ICML 2017.
# - Gulrajani, Ahmed, Arjovsky, Dumoulin, Courville. Improved training of Wasserstein GANs. NIPS 2017.
# - Roth, Lucchi, Nowozin, Hofmann. Stabilizing training of generative adversarial networks
#   through regularization. NIPS 2017.
# - Mescheder, Geiger, Nowozin. Which training methods for GANs do actually converge? ICML 2018.
# - Villani. Optimal transport: old and new. Springer 2009 (the Kantorovich-Rubinstein duality).
# - Metz, Poole, Pfau, Sohl-Dickstein. Unrolled generative adversarial networks. ICLR 2017.
# - Srivastava, Valkov, Russell, Gutmann, Sutton. VEEGAN: reducing mode collapse in GANs using
#   implicit variational learning. NIPS 2017.
# - Lin, Khetan, Fanti, Oh. PacGAN: the power of two samples in generative adversarial networks. NeurIPS 2018.
# - Miyato, Kataoka, Koyama, Yoshida. Spectral normalization for generative adversarial networks. ICLR 2018.
