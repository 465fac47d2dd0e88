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
# # 07 · Tempered GANs
#
# > Life is too easy for the discriminator: give it an adversary. (the lecture, after Sajjadi et
# > al. 2018)
#
# The discriminator is trained on two sets: samples of the generator, which change, and real
# images, which never do. Early in training it separates them easily, and notebooks 04 and 06
# showed what a perfect discriminator does to the generator's gradient. Sajjadi, Parascandolo,
# Mehrjou & Schölkopf (2018) give the generator's side some control over the real data too: a
# **lens** $L$ between the data and $D$, trained to deceive $D$ while staying close to the images,
# and gradually forced back to the identity, so that in the end $D$ sees the real data. We build
# the lens, watch what it does to real digits, measure on a toy how it changes the gradient the
# generator gets, and test the paper's claim (faster, steadier training) on MNIST over several
# seeds. Notebook 08 then sets every model of the course side by side on one yardstick.
#
# **Learning goals**
# - write the lens's objective $-\lambda\,\mathcal{L}_D + \sum_i \lVert L(x_i) - x_i\rVert^2$ and
#   its schedule $\lambda \to 0$, and build a lens that starts as the identity;
# - see what the lens shows the discriminator, and how far it moves real images, as $\lambda$ decays;
# - measure, on two segments with disjoint supports, how the lens keeps the saturating generator
#   loss alive;
# - test "tempered training is faster and steadier" on MNIST with error bars over seeds, and at
#   what cost per step.
#
# **Prerequisites**: notebooks 04 (GAN losses and their saturation, the classifier-Fréchet distance),
# 05 (the Dirac-GAN) and 06 (disjoint supports, WGAN-GP).
#
# **Time and hardware**: a full run took 12 min on a 2-core server CPU (AMD EPYC; the toy:
# about a minute; 10 MNIST GANs with and without the lens: 9 min of training), 10 min after
# notebook 05 (3 of the GANs loaded). A GPU is used without code
# changes. FAST mode: about a minute. A second run reloads every trained model.
# A class sitting in FAST mode: about 78 min (estimated: reading at 100 words a minute, code at
# 25 lines a minute, 8 min per exercise, 4 per Think question).
#
# **What it shows**: the tempered GAN's lens, where it rescues training (a toy) and what it does on
# MNIST over seeds, and at what cost. The recording section at the end prints your numbers beside
# the course's recorded run.

# %% tags=["parameters"]
# FAST = True (or COURSE_FAST=1): fewer steps and one seed, same code and data.
FAST = False
SEED = 0
# DEVICE: "auto" (cuda, then mps, then cpu), "cpu", "cuda", "cuda:0" or "mps".
DEVICE = "auto"
# Seeds for every claim about training (the toy, GAN against tempered GAN).
SEEDS = 5
# Section 2, the toy: steps of the game on the two segments.
TOY_STEPS = 1000
# Section 3, MNIST: the registered recipes of the GAN and the tempered GAN (course_utils/adversarial.py:
# 1,500 generator steps, the lens's weight lambda reaching 0 at step K = k_share x steps) and the
# fields this run changes in both, e.g. {"steps": 3000} or {"k_share": 0.25} (it applies to the GAN too,
# where the lens is off); points of each curve (a divisor of the 10 copies of the networks a run keeps).
MNIST_RECIPES = {"gan": "mnist-gan-half", "tempered": "mnist-tempered-half"}
MNIST_OVERRIDES = {}
EVALS = 10

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn

from course_utils import adversarial, checks, config, data, gan, metrics, plots, results, tempered, toys, train

cfg = config.setup(fast=FAST, seed=SEED, device=DEVICE)
seeds = list(range(SEED, SEED + (1 if cfg.fast else SEEDS)))

# %% [markdown]
# ## 1. The lens
#
# In the GAN game of notebook 04, $D$ is trained on $\{(x, 1)\} \cup \{(G(z), 0)\}$. The tempered
# GAN trains it on $\{(L(x), 1)\} \cup \{(G(z), 0)\}$ instead, where the lens $L$ solves, at each
# moment of training,
#
# $$L^* = \arg\min_L\; -\lambda\, \mathcal{L}(D) + \sum_i \lVert L(x_i) - x_i \rVert^2,$$
#
# with $\mathcal{L}(D)$ the discriminator's loss. The first term asks the lens to make $D$'s job
# hard (to show it real images that look like the generator's); the second keeps $L(x)$ close to
# $x$, so the lens cannot simply erase the data. As $\lambda \to 0$ only the second term is left,
# $L$ becomes the identity, and $D$ is back to the real data. The lens is a "tempering" of the
# data: blurred, distorted, moved towards what the generator can already produce, and revealed in
# full detail only as training goes on.
#
# **The schedule.** The paper lets $\lambda$ fall from 1 at $t = 0$ to 0 at step $K$ along a quarter
# of a sine period, arriving at 0 *with zero slope* (so that $D$ is not handed the real data
# abruptly), and stay at 0 after $K$. We take this form from the paper. The value of $K$ it used we
# could not check on this offline machine (a secondary summary calls $K$ the total number of
# iterations), so we choose ours and say so: $K$ = half of the training steps (the recipe's
# `k_share`), so that
# the second half of every run trains $D$ on the real data, and the final scores of tempered and
# plain runs measure the same game.
#
# ### Exercise 1: the schedule
#
# From that description, find the formula: which quarter of which sine (or cosine) starts at 1,
# ends at 0 at $t = K$, and has zero slope there? Check your choice on paper at $t = 0$, $K/2$ and
# $K$, then write `lambda_schedule(t, K)`: the weight at step `t` (an int $\ge 0$), a Python float.

# %%
def lambda_schedule(t, K):
    ### BEGIN SOLUTION
    return 1.0 - math.sin(t * math.pi / (2 * K)) if t < K else 0.0
    ### END SOLUTION


# %%
cases = [(t, K) for K in (1, 7, 100, 750) for t in (0, 1, K // 3, K // 2, K - 1, K, K + 1, 3 * K)]
lambda_schedule = checks.check_exercise("lambda_schedule", lambda_schedule, cases)

K_demo = 750
t_demo = np.arange(0, 2 * K_demo)
fig, ax = plt.subplots(figsize=(6, 2.6))
ax.plot(t_demo, [lambda_schedule(int(t), K_demo) for t in t_demo])
ax.axvline(K_demo, color="k", ls=":", label="K: D sees the real data from here")
ax.set(xlabel="step t", ylabel="lambda", title=f"the lens's weight, K = {K_demo}")
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# Read the curve: where does the weight fall fastest, and how far has it fallen halfway? The last
# stretch, where the lens is almost the identity, is long and gentle, so $D$ is not handed the sharp
# real data all at once.
#
# **The network.** The lens maps an image to an image. We use a small residual network,
# $L(x) = x + r(x)$, with $r$ three $3 \times 3$ convolutions (16 channels, ReLU) whose last layer
# starts at zero: $L$ is *exactly* the identity before training, so every change it makes to the
# data is one it learned (`tempered.image_lens`; `tempered.point_lens` is the same idea for 2-D
# points).

# %%
lens_demo = tempered.image_lens()
x_demo = torch.rand(5, 1, 28, 28)
print(f"{sum(p.numel() for p in lens_demo.parameters())} parameters; "
      f"max |L(x) - x| at initialisation: {(lens_demo(x_demo) - x_demo).abs().max().item():.1e}")

# %% [markdown]
# ### Exercise 2: the lens's loss
#
# Write `lens_loss(real_logits, fake_logits, lensed, x, lam)`: $D$'s logits on the lensed real
# batch and on a generated batch (each `(n,)`), the lensed images $L(x)$ and the images $x$ (each
# `(n, ...)`), and $\lambda$. Return the scalar
#
# $$-\lambda\,\mathcal{L}_D + \frac{1}{n d}\sum_i \lVert L(x_i) - x_i\rVert^2,$$
#
# where $\mathcal{L}_D$ is the discriminator loss of notebook 04, `gan.discriminator_loss(real_logits,
# fake_logits)` ($-\mathbb{E}\log D(L(x)) - \mathbb{E}\log(1 - D(G(z)))$, a mean over the batch), and
# the squared distance is averaged over the $n$ images *and* their $d$ pixels (a mean squared
# error). The lecture writes a sum; dividing it by $n d$ only rescales $\lambda$, but by a large
# factor ($d = 784$), and Exercise 3 shows why the scale decides whether the lens does anything.
# The fake term of $\mathcal{L}_D$ does not depend on $L$; it is there so that the value is $D$'s loss.

# %%
def lens_loss(real_logits, fake_logits, lensed, x, lam):
    ### BEGIN SOLUTION
    reconstruction = (lensed - x).pow(2).mean()
    return -lam * gan.discriminator_loss(real_logits, fake_logits) + reconstruction
    ### END SOLUTION


# %%
g_check = torch.Generator().manual_seed(0)
cases = []
for n, shape, lam in [(8, (2,), 1.0), (16, (1, 28, 28), 0.29), (5, (1, 6, 6), 0.0), (32, (3, 4, 4), 2.5)]:
    x = torch.rand(n, *shape, generator=g_check, dtype=torch.float64)
    lensed = x + 0.3 * torch.randn(n, *shape, generator=g_check, dtype=torch.float64)
    real_logits = 3 * torch.randn(n, generator=g_check, dtype=torch.float64)
    fake_logits = torch.randn(n, generator=g_check, dtype=torch.float64) - 1
    cases.append((real_logits, fake_logits, lensed, x, lam))
lens_loss = checks.check_exercise("lens_loss", lens_loss, cases, atol=1e-9)

# %% [markdown]
# ### Exercise 3: does the lens's own loss saturate?
#
# The lens moves a real point by the gradient of its loss. For one lensed real point with $D$'s
# logit $\ell$, its share of $\mathcal{L}_D$ is $-\log \mathrm{sigmoid}(\ell)$. Derive the size of the
# push, $|\partial(-\lambda\,\mathcal{L}_D) / \partial \ell|$, for one point, and write
# `lens_push(real_logits, lam)` (any shape). Then predict: when $D$ is 99 % sure a real point is real,
# how does the push at $\lambda = 1$ compare with the push at $\lambda = 0.3$ when $D$ is unsure?

# %%
def lens_push(real_logits, lam):
    """|d(-lam L_D) / d logit| for each lensed real point, L_D's share of it being -log sigmoid(logit)."""
    ### BEGIN SOLUTION
    return lam * (1 - torch.sigmoid(real_logits))  # d/dl log sigmoid(l) = 1 - sigmoid(l)
    ### END SOLUTION


# %%
cases = [(torch.tensor([-3.0, 0.0, 3.0]), 1.0), (torch.randn(6, generator=g_check, dtype=torch.float64), 0.29),
         (torch.tensor([10.0, 30.0]), 2.5)]
lens_push = checks.check_exercise("lens_push", lens_push, cases)
for lam in (1.0, 0.3):
    pushes = lens_push(torch.tensor([0.0, math.log(9), math.log(99)]), lam)
    print(f"lambda = {lam}: push with D unsure (D = 0.5) {pushes[0]:.3f}, 90 % sure {pushes[1]:.3f}, "
          f"99 % sure {pushes[2]:.4f}")

# %% [markdown]
# ## 2. A toy where life is too easy for the discriminator
#
# Notebook 06's two segments: real points $(0, y)$, generated points $(\theta, y)$, $y$ uniform on
# $[0, 1]$, disjoint supports for every $\theta \neq 0$. Now the generator learns: $\theta$ starts at
# 1 and follows its loss's gradient (SGD, rate 0.01) while $D$ (an MLP, Adam) trains against it,
# one step each, for `TOY_STEPS` steps; with a lens, a point lens (MLP residual, Adam $10^{-3}$)
# takes a step too, on the schedule above with $K$ = half the steps. We use both generator losses of
# notebook 04: the **saturating** (minimax) one, $\mathbb{E}\log(1 - D(G(z)))$, whose gradient
# vanishes when $D$ wins, and the **non-saturating** one, $-\mathbb{E}\log D(G(z))$. `SEEDS`
# seeds each (5 in a full run).

# %%
# your lens_loss, plugged into the course's engine (which passes D's loss too: the GAN's lens does not need it)
engine_losses = adversarial.Losses(lens_loss=lambda real_logits, fake_logits, lensed, x, lam, d_loss:
                                   lens_loss(real_logits, fake_logits, lensed, x, lam))


def segment_game(loss, with_lens, seed, steps):
    """theta (from 1), D and optionally a lens trained together on the two segments by the course's
    engine. Returns per-step lists: theta, |d loss_G / d theta| and the lens's mean shift ||L(x) - x||."""
    recipe = adversarial.Recipe(
        "the two segments: theta by SGD (0.01), D 2 x 128 ReLU by Adam 1e-3, point lens by Adam 1e-3, batch 256",
        objective="saturating" if loss == "saturating" else "ns", optimizer_g="sgd", lr=0.01, lr_d=1e-3,
        betas=(0.5, 0.999), batch=256, lens=with_lens, lens_lr=1e-3, k_share=0.5, nets="mlp", latent=1, steps=steps)
    D, lens = train.seeded(seed, lambda: (gan.mlp(2, 1, 128, 2), tempered.point_lens(2, 64, 2)))
    nets = nn.ModuleDict({"G": toys.SegmentGenerator(1.0), "D": D, **({"L": lens} if with_lens else {})})

    def record(nets):  # after every step: theta and the gradient that moved it
        return {"theta": nets["G"].theta.item(), "grad": abs(nets["G"].theta.grad.item())}

    history = adversarial.train_gan(nets, toys.segment_points, recipe, seed, evaluate=record, evals=steps, log_every=1,
                                    losses=engine_losses, progress=False)
    shift = list(history["lens_shift"]) if with_lens else [0.0] * steps
    return {"theta": [float(v) for v in history["theta"]], "grad": [float(v) for v in history["grad"]],
            "shift": [float(v) for v in shift]}


toy_steps = cfg.scale(full=TOY_STEPS, fast=200)
toy = train.compute_or_load(
    "07_segment_game",
    lambda: {f"{loss}/{lens}/{s}": segment_game(loss, lens == "lens", s, toy_steps)
             for loss in ("saturating", "non-saturating") for lens in ("plain", "lens") for s in seeds},
    {"steps": toy_steps, "seeds": seeds, "lr_theta": 0.01, "K": toy_steps // 2, "trainer": "adversarial.train_gan"})

fig, axes = plt.subplots(1, 3, figsize=(15, 3.6))
colors = {"plain": "C0", "lens": "C3"}
for col, loss in enumerate(("saturating", "non-saturating")):
    for lens in ("plain", "lens"):
        for s in seeds:
            r = toy[f"{loss}/{lens}/{s}"]
            axes[col].plot(r["theta"], color=colors[lens], alpha=0.8,
                           label=("with the lens" if lens == "lens" else "no lens") if s == seeds[0] else None)
    axes[col].axvline(toy_steps // 2, color="k", ls=":", lw=1)
    axes[col].set(xlabel="step", ylabel="theta (the real data sit at 0)", title=f"{loss} generator loss")
    axes[col].legend(fontsize=8)
for lens in ("plain", "lens"):
    for s in seeds:
        axes[2].semilogy(np.maximum(toy[f"saturating/{lens}/{s}"]["grad"], 1e-12), color=colors[lens], alpha=0.6,
                         lw=0.8)
axes[2].set(xlabel="step", ylabel="|d loss_G / d theta|", title="saturating loss: the generator's gradient")
plt.tight_layout()
plt.show()

toy_table = {}
print(f"theta after {toy_steps} steps (started at 1; the data at 0), seeds {seeds}; median |gradient| over the last "
      "100 steps")
for loss in ("saturating", "non-saturating"):
    for lens in ("plain", "lens"):
        runs = [toy[f"{loss}/{lens}/{s}"] for s in seeds]
        final = np.array([r["theta"][-1] for r in runs])
        reached = [next((i for i, t in enumerate(r["theta"]) if abs(t) < 0.05), None) for r in runs]
        toy_table[(loss, lens)] = {"theta": final, "reached": reached}
        print(f"  {loss:15s} {'with lens' if lens == 'lens' else 'no lens':9s}  theta {results.spread(final)}   "
              f"|theta| < 0.05 first at step {reached}   "
              f"gradient {np.median([np.median(r['grad'][-100:]) for r in runs]):.1e}   "
              f"largest lens shift {max(max(r['shift']) for r in runs):.2f}")

# %% [markdown]
# Read your table above, the saturating loss first: without a lens, $D$ separates the segments
# within a few hundred steps, the gradient of $\mathbb{E}\log(1 - D)$ collapses (the right panel,
# falling by orders of magnitude), and $\theta$ stops short of the data, for good. With the lens,
# $D$ is shown real points moved towards the generated ones: it cannot separate them cleanly, its
# slope at the generator's points stays of order 1, and $\theta$ walks to the data; by the time
# $\lambda$ reaches 0 there is nothing left to separate. The non-saturating loss does not need the
# lens here: its gradient grows as $D$ wins (notebook 06). The lens repairs saturation, not the
# game itself.
#
# A caution, from Exercise 3: the lens's own objective saturates too. Its push fades once $D$ is
# confident about the real points, so a lens with a small $\lambda$ can lose the race to $D$ and
# never move. The same arithmetic is why the reconstruction term is a mean over pixels: with the
# lecture's plain sum over 784 pixels, the pull back to the identity is 784 times stronger against
# the same push, and the lens barely moves (section 3 prints how far ours moved MNIST digits).

# %% [markdown]
# ## 3. MNIST: the same GAN with and without the lens
#
# The course's engine (`adversarial.train_gan`) with two registered recipes: `mnist-gan-half`
# (`mnist-dcgan` at the learning rate of the tempered recipe: non-saturating loss, Adam
# $2 \cdot 10^{-4}$ with betas (0.5, 0.999), batch 64, no average of G, 1,500 generator steps), and
# `mnist-tempered-half`: the same run, same seed (so the same initial networks and the same
# batches), plus an image lens trained after every $D$ step on **your** `lens_loss`, $\lambda$ on
# the schedule, $K$ = `k_share` x steps. From step $K$ the lens is taken out: its weight is 0, so its only task
# would be to be the identity, and $D$ sees $x$ itself. Every `EVALS`-th of the run we measure
# 2,000 samples with the unbiased kernel distance on the yardstick's features (for curves: it does
# not depend on the number of samples) and the number of classes among them, and keep what the
# lens shows $D$ of eight fixed training images.
# At the end, each generator is scored with the course's yardstick: 10,000 samples against the
# 10,000 test images, beside the floor (10,000 training images against the same test images).

# %%
x_train = data.mnist("train").batch(torch.arange(60_000), cfg.device)[0]  # (60000, 1, 28, 28) in [0, 1]
yardstick = metrics.Yardstick(cfg.device)  # the course's fixed classifier; prints its accuracy and floor
n_curve = adversarial.curve_samples(cfg.fast)  # per point of a training curve
curve_z = adversarial.noise(n_curve, 64, adversarial.CURVE_SEED, cfg.device)
score_z = adversarial.noise(yardstick.n, 64, adversarial.SCORE_SEED, cfg.device)  # every final score
mnist_scores = adversarial.yardstick_curve(yardstick, curve_z)  # a point: kernel distance, digits present, entropy
real = adversarial.real_batches(x_train)
recipes = {kind: adversarial.for_mode(name, MNIST_OVERRIDES, cfg.fast) for kind, name in MNIST_RECIPES.items()}
steps = recipes["tempered"].steps
recipes = {kind: r.with_(steps=steps) for kind, r in recipes.items()}  # both at the tempered GAN's steps
K = max(1, round(recipes["tempered"].k_share * steps))  # as the engine computes it from the recipe's k_share
evals = EVALS  # FAST too: its 40 steps keep a copy every 4, and K = 20 is one of them
watch = x_train[torch.randint(len(x_train), (8,), generator=torch.Generator().manual_seed(5)).to(cfg.device)]
losses = engine_losses  # your lens_loss trains the lens
for kind, recipe in recipes.items():
    print(f"{kind}: {recipe.label()}")


def run(kind, seed):
    """Train `kind`'s recipe from `seed` with the engine (or reload it: notebook 05 trained the GAN's first
    seeds); returns (nets, History). The tempered run starts from its plain twin's G and D and sees the same
    batches."""
    return adversarial.train_or_load_gan(f"07_{kind}", recipes[kind], real, seed, cfg.device, data="mnist",
                                         evaluate=mnist_scores, evals=evals, losses=losses,
                                         settings={"n_curve": n_curve}, watch=watch if kind == "tempered" else None,
                                         desc=f"{kind}, seed {seed}")


nets, runs, final = {}, {}, {}
for kind in ("gan", "tempered"):
    for s in seeds:
        nets[(kind, s)], runs[(kind, s)] = run(kind, s)
        adversarial.sampler(nets[(kind, s)]).eval()
        final[(kind, s)] = yardstick.score(adversarial.generate(nets[(kind, s)], score_z))

# %% [markdown]
# ### What the lens shows the discriminator
#
# The top row holds eight training images; each row below, what $D$ was shown of them at an
# evaluation, with $\lambda$ at that moment. Then the change $L(x) - x$ itself (red: ink added,
# blue: ink removed), and the size of the change over training, $\lVert L(x) - x\rVert$ averaged
# over each batch, against $\lambda$.

# %%
h_t, v_t = runs[("tempered", SEED)], nets[("tempered", SEED)]["views"].lensed.cpu()
eval_steps = [int(s) for s in h_t.steps["kernel"]]
lensed_rows = {0: watch.cpu()}
for i, step in enumerate(eval_steps):
    if step <= K:
        lensed_rows[step] = v_t[i]
fig, ax = plots.samples_over_training(lensed_rows, title=f"x (step 0) and L(x) as lambda decays (seed {SEED}, K = {K})")
ax.set_yticklabels(["x"] + [f"step {s:,}, lambda {lambda_schedule(s - 1, K):.2f}" for s in list(lensed_rows)[1:]])
plt.show()

first = v_t[0] - watch.cpu()
fig, axes = plt.subplots(1, 2, figsize=(14, 2.8), gridspec_kw={"width_ratios": [1.2, 1]})
limit = float(first.abs().max()) or 1.0
axes[0].imshow(plots.mosaic(first.numpy(), nrow=8, pad_value=0.0), cmap="RdBu_r", vmin=-limit, vmax=limit)
axes[0].set(xticks=[], yticks=[], title=f"L(x) - x at step {eval_steps[0]} (colour scale ±{limit:.2f})")
for s in seeds:
    h = runs[("tempered", s)]
    axes[1].plot(h.steps["lens_shift"], h["lens_shift"], label=f"||L(x) - x||, seed {s}")
twin = axes[1].twinx()
twin.plot(h_t.steps["lambda"], h_t["lambda"], "k:", label="lambda")
twin.set_ylabel("lambda (dotted)")
axes[1].set(xlabel="generator step", ylabel="mean ||L(x) - x||", title="how far the lens moves real images")
axes[1].legend(fontsize=8, loc="upper right")
plt.tight_layout()
plt.show()
image_norm = float(x_train[:1000].flatten(1).norm(dim=1).mean())
print(f"for scale: the mean norm of an image is {image_norm:.1f}; largest mean shift per seed: "
      + ", ".join(f"{runs[('tempered', s)]['lens_shift'].max():.2f}" for s in seeds))

# %% [markdown]
# ### Faster and steadier? The scores over training
#
# Mean over seeds, the band spanning the lowest and highest seed. The dotted line marks $K$.

# %%
def stacked(kind, key):
    """(seeds, evaluations) array of one score over training."""
    return np.array([runs[(kind, s)][key] for s in seeds])


fig, axes = plt.subplots(1, 3, figsize=(15, 3.6))
for kind, color in (("gan", "C0"), ("tempered", "C3")):
    at = runs[(kind, SEED)].steps["kernel"]
    for ax, key in ((axes[0], "kernel"), (axes[1], "classes")):
        values = stacked(kind, key)
        ax.plot(at, values.mean(0), "o-", color=color, ms=3, label=kind)
        ax.fill_between(at, values.min(0), values.max(0), color=color, alpha=0.2)
    seconds = stacked(kind, "at_seconds")
    axes[2].plot(seconds.mean(0), stacked(kind, "kernel").mean(0), "o-", color=color, ms=3, label=kind)
for ax in axes[:2]:
    ax.axvline(K, color="k", ls=":", lw=1)
axes[0].set(xlabel="generator step", ylabel=f"kernel distance ({n_curve} samples)", yscale="log",
            title="distance to the test set")
axes[1].set(xlabel="generator step", ylabel="classes (>= 1 % of samples)", title="coverage")
axes[2].set(xlabel="seconds of training", ylabel="kernel distance", yscale="log",
            title="the same distance against time")
axes[0].legend()
plt.tight_layout()
plt.show()


def summary(kind):
    """Per-seed numbers behind the claims: the yardstick's distance at the end (10,000 samples, as a
    multiple of the floor), the kernel distance at K and its mean over the run (lower: faster
    progress), times it went up between evaluations (steadiness), coverage, seconds and
    milliseconds per step before and after K."""
    kd = stacked(kind, "kernel")
    at = np.asarray(runs[(kind, SEED)].steps["kernel"])
    mid = int(np.argmin(np.abs(at - K)))
    before, after = [], []
    for s in seeds:
        h = runs[(kind, s)]
        t, sec = np.asarray(h.steps["seconds"]), h["seconds"]
        k = int(np.searchsorted(t, K))
        before.append(1000 * sec[k] / max(1, t[k]))
        after.append(1000 * (sec[-1] - sec[k]) / max(1, t[-1] - t[k]))
    return {"final": np.array([final[(kind, s)]["x_floor"] for s in seeds]),
            "frechet": np.array([final[(kind, s)]["frechet"] for s in seeds]),
            "at_K": kd[:, mid], "mean_kernel": kd.mean(1), "rises": (np.diff(kd, axis=1) > 0).sum(1),
            "classes": np.array([final[(kind, s)]["classes_present"] for s in seeds]),
            "entropy": np.array([final[(kind, s)]["entropy"] for s in seeds]),
            "seconds": np.array([runs[(kind, s)].seconds for s in seeds]),
            "ms_before_K": np.array(before), "ms_after_K": np.array(after)}


claims = {kind: summary(kind) for kind in ("gan", "tempered")}
print(f"MNIST, {steps} generator steps, K = {K}; mean ± sd over seeds {seeds}")
for key, label in (("frechet", f"classifier-Fréchet at the end (floor {yardstick.floor:.2f})"),
                   ("final", "classifier-Fréchet / floor at the end"), ("at_K", f"kernel distance at step {K}"),
                   ("mean_kernel", "mean kernel distance over the run"), ("rises", "evaluations where it rose"),
                   ("classes", "classes at the end"), ("entropy", "entropy of the classes at the end (nats)"),
                   ("ms_before_K", f"ms per step, steps < {K}"), ("ms_after_K", f"ms per step, steps >= {K}"),
                   ("seconds", "seconds of training per run")):
    print(f"  {label:45s} GAN {results.spread(claims['gan'][key]):>16s}   tempered "
          f"{results.spread(claims['tempered'][key]):>16s}")
paired = claims["tempered"]["final"] - claims["gan"]["final"]
print(f"tempered minus plain, same seed, final distance / floor: {', '.join(f'{d:+.1f}' for d in paired)}")

# %% [markdown]
# ## 4. What the measurements say
#
# Read your tables of sections 2 and 3 first; the recording section below prints your numbers
# beside the course's recorded full run (5 seeds, 1,500 steps, $K$ = 750), which this section
# interprets.
#
# **The toy.** With the saturating loss and no lens, $\theta$ stalls far from the data, its gradient
# almost zero; with the lens it reaches the data on every seed. The non-saturating loss needs no
# lens, and the lens slows it (the table prints the step at which each run first reached the data):
# the rescue is for the saturating loss.
#
# **The lens on MNIST.** Early on it moves real digits by about their own norm: it greys the
# background and softens the strokes, showing $D$ real images that look like a young generator's,
# and gives them back as $\lambda$ falls.

# %% [markdown]
# **The paper's claim.**
#
# - *Faster?* No: averaged over the run the tempered GAN's kernel distance was higher (while the
#   lens acts, the generator first imitates what the lens shows); at $K$ the two were level.
# - *Better at the end?* Yes, on every seed of the recorded run (its per-seed differences, tempered
#   minus plain, are printed in the recording section). Five of five paired seeds better is
#   p = 1/32 one-sided in a sign test (1/16 two-sided). The gain is consistent, its size is not.
# - *Steadier?* Mixed: the seeds ended closer together, but the distance went up between
#   evaluations more often.
# - *At what cost?* About twice the time per step while the lens trains, a third to a half more per
#   run. At equal time, full width, 15 minutes each (`benchmarks/gan_mnist.py`, record `tempered_mnist`,
#   seed 0) the plain GAN was ahead: 26.2 against 35.6 times the floor.
#
# So, honestly: over the same number of steps the lens bought a better, more repeatable end point,
# not faster progress; at equal time it bought nothing here. Two of our choices matter and may
# differ from the paper's: the reconstruction term as a mean over pixels (with the sum, Exercise 3's
# push faces a 784 times stronger pull back to the identity) and $K$ = half the run. The 15-minute
# benchmark is one seed: a hint, not a conclusion.
#
# Notebook 08 puts this GAN and tempered GAN beside the VAE and WGAN-GP on the same yardstick,
# and checks the lecture's conclusion against the course's numbers.

# %% [markdown]
# ## 5. Recording the results

# %%
def mean(x):
    return float(np.mean(x))


sat_plain, sat_lens = toy_table[("saturating", "plain")], toy_table[("saturating", "lens")]
record_file = results.record(
    "07_tempered_gan",
    {
        "segments, saturating loss, no lens: final theta (mean of seeds; data at 0)": mean(sat_plain["theta"]),
        "segments, saturating loss, with lens: final theta (mean of seeds)": mean(sat_lens["theta"]),
        **{f"segments, non-saturating loss, {label}: first step with |theta| < 0.05 (mean of seeds)":
           mean(r) if None not in (r := toy_table[("non-saturating", lens)]["reached"]) else "not reached"
           for lens, label in (("plain", "no lens"), ("lens", "with lens"))},
        "MNIST: mean norm ||x|| of an image": float(image_norm),
        "MNIST: largest mean lens shift ||L(x) - x|| (mean of seeds)":
            mean([runs[("tempered", s)]["lens_shift"].max() for s in seeds]),
        "yardstick: real-vs-real floor (n = 10,000)": yardstick.floor,
        f"MNIST, GAN: kernel distance at K ({n_curve} samples)": mean(claims["gan"]["at_K"]),
        f"MNIST, tempered: kernel distance at K ({n_curve} samples)": mean(claims["tempered"]["at_K"]),
        "MNIST, GAN: classifier-Fréchet (n = 10,000) at the end": mean(claims["gan"]["frechet"]),
        "MNIST, tempered: classifier-Fréchet (n = 10,000) at the end": mean(claims["tempered"]["frechet"]),
        "MNIST, GAN: classifier-Fréchet / floor at the end": mean(claims["gan"]["final"]),
        "MNIST, tempered: classifier-Fréchet / floor at the end": mean(claims["tempered"]["final"]),
        f"MNIST, GAN / tempered: final distance / floor, mean ± sd over {len(seeds)} seeds":
            f"{results.spread(claims['gan']['final']).strip()} / {results.spread(claims['tempered']['final']).strip()}",
        "MNIST: tempered minus GAN, final distance / floor, per seed": ", ".join(f"{d:+.1f}" for d in paired),
        "MNIST, GAN / tempered: ms per step before K":
            f"{mean(claims['gan']['ms_before_K']):.0f} / {mean(claims['tempered']['ms_before_K']):.0f}",
        "MNIST, GAN / tempered: seconds of training per run":
            f"{mean(claims['gan']['seconds']):.0f} / {mean(claims['tempered']['seconds']):.0f}",
    },
    cfg,
    paper={"MNIST, tempered: classifier-Fréchet / floor at the end":
           "better quality, stability and/or convergence speed (Sajjadi et al. 2018, abstract; not this metric)"},
)

# %% [markdown]
# ## Think
#
# 1. The lens is trained to *increase* $D$'s loss. Why does that not simply help the generator
#    cheat? What stops the lens from making real images look exactly like the generator's?
# 2. Section 3 compared the two GANs seed by seed (same networks, same batches). Why pair them, and
#    how many seeds would a gain of the size you measured need to be two standard errors of the
#    paired difference?
# 3. We took the lens out at step $K$. What would you expect if $\lambda$ stayed at a small
#    constant instead, and how would you measure it?
# 4. A tempered step costs more than a plain one. Is "faster per step" the claim that matters on
#    a laptop, or "faster per second"? Which did section 3 measure?

# %% [markdown] tags=["answers"]
# **Answers for instructors** (the solution build and the deck's speaker notes only;
# the student build leaves them out)
#
# 1. The lens also pays for moving the data: its loss adds the mean squared distance
#    $\|L(x) - x\|^2$, and $\lambda$ (the weight of $D$'s loss) falls to 0 by step $K$, after which
#    the lens is the identity. So it can only blur the real data towards the generator a little,
#    early on; the generator is always trained to fool $D$ on what $D$ sees as real, and after $K$
#    that is the real data again.
# 2. Pairing removes what the seeds change for both runs alike (initial networks, batches), so
#    the spread of the per-seed differences $d_i$ is smaller than that of either score. With mean
#    $\bar d$ and sample sd $s$ of the differences, the standard error is $s / \sqrt{n}$: $n \ge
#    (2 s / \bar d)^2$ seeds. Compute it from the recorded per-seed differences.
# 3. The lens would stay active: the generator would keep matching slightly distorted real data,
#    a lasting bias, possibly with a more stable $D$. Measure: train with a constant small $\lambda$
#    and with the schedule, several seeds, and compare the yardstick's distance at the end and the
#    lens shift $\|L(x) - x\|$ over training.
# 4. Per second (or per unit of compute): on a laptop, time is the budget. Section 3 compared at
#    equal steps, where the tempered GAN needs more time per run; the equal-time comparison is the
#    benchmark's.

# %% [markdown]
# ## Summary
#
# - A tempered GAN puts a lens between the data and $D$: trained to deceive $D$ while staying near
#   the identity, with a weight $\lambda$ that falls to 0, with zero slope, at step $K$.
# - On disjoint supports the lens keeps $D$ from separating the data cleanly, and a generator with
#   the saturating loss reaches the data that it never reaches without it.
# - The lens's adversarial term saturates like the minimax generator loss; how strongly it acts
#   depends on $\lambda$'s scale against the reconstruction term.
# - On MNIST we measured the claim of faster, steadier training over seeds, with its cost per step.

# %% [markdown]
# ## Going further
#
# - `python benchmarks/gan_mnist.py --only mnist-tempered "mnist-dcgan-w64 (ema=0.0)" --seconds 900` trains
#   the full-width tempered and plain GANs for 15 minutes each.
# - Put the lens in front of WGAN-GP's critic: add `recipes["wgan-gp-lens"] =
#   adversarial.recipe("mnist-wgan-gp").with_(width=WIDTH, batch=BATCH, lens=True, steps=400)`
#   and train it with `run("wgan-gp-lens", SEED)` (the paper reports gains there too), or try a
#   lens with a constant small $\lambda$.

# %% [markdown]
# ## References
#
# - Sajjadi, Parascandolo, Mehrjou, Schölkopf. Tempered adversarial networks. ICML 2018.
# - Goodfellow et al. Generative adversarial nets. NIPS 2014.
# - Arjovsky, Bottou. Towards principled methods for training generative adversarial networks. ICLR 2017.
# - Gulrajani, Ahmed, Arjovsky, Dumoulin, Courville. Improved training of Wasserstein GANs. NIPS 2017.
# - Mescheder, Geiger, Nowozin. Which training methods for GANs do actually converge? ICML 2018.
# - Heusel, Ramsauer, Unterthiner, Nessler, Hochreiter. GANs trained by a two time-scale update rule
#   converge to a local Nash equilibrium. NIPS 2017 (the FID, which our metric imitates).
