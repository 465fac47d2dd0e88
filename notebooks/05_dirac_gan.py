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
# # 05 · Why GAN training oscillates: the Dirac-GAN
#
# > "Simple experiments, simple theorems are the building blocks that help us understand more
# > complicated systems." (Ali Rahimi, NIPS 2017 Test of Time Award talk, quoted in the lecture)
#
# Notebook 04's GANs misbehaved: samples kept moving, the mode count rose and fell, and a gradient
# penalty (R1) fixed the 25-Gaussian grid. Mescheder, Geiger & Nowozin (2018) explain why with a
# GAN of **two parameters**: a generator that is a point $\theta$, a discriminator that is a line
# of slope $\psi$, and data at 0. Its training can be drawn in the plane and every popular fix
# judged by two eigenvalues. We rebuild that analysis, check every eigenvalue against its closed
# form, and take the fix it recommends back to real training.
#
# **Learning goals**
# - write the Dirac-GAN's gradient vector field and see it circle the equilibrium;
# - tell continuous dynamics, simultaneous and alternating gradient descent apart by their
#   Jacobians' eigenvalues;
# - judge clipping, WGAN-GP, instance noise, R1 / R2, consensus optimisation and extra D steps by
#   their eigenvalues, and find the step or weight that breaks a working method;
# - add R1 to real GANs (the 25-Gaussian grid and MNIST) and measure what it does over seeds.
#
# **Prerequisites**: notebook 04 (GAN losses, mode counter, yardstick); eigenvalues of a 2 x 2
# matrix; complex numbers.
#
# **Time and hardware**: sections 1-4 take seconds. Section 5 trains 12 small GANs: a full run
# took 14 min on a 2-core server CPU (AMD EPYC). A GPU is used without code changes. FAST mode:
# about 30 s; a second run reloads every trained model. A class sitting in FAST mode: about
# 90 min (estimated as in notebook 00).
#
# **What it shows**: why GAN training oscillates, which fixes converge, and what R1 does in real
# training over seeds; your numbers are printed beside the recorded run's at the end.

# %% tags=["parameters"]
# FAST = True (or COURSE_FAST=1): fewer steps and seeds in section 5, same code and data.
FAST = False
SEED = 0
# DEVICE: "auto" (cuda, then mps, then cpu), "cpu", "cuda", "cuda:0" or "mps".
DEVICE = "auto"
# Seeds for every claim about real training (section 5).
SEEDS = 3
# The Dirac-GAN: step size h and number of updates of the trajectories in sections 2-3.
H = 0.1
STEPS = 3000
# Section 5, the 25-Gaussian grid: steps per run, the R1 weight.
GRID_STEPS = 6000
GAMMA_GRID = 0.1
# Section 5, MNIST: a registered recipe (course_utils/adversarial.py), the fields this run changes
# (e.g. {"steps": 3000}), and the R1 weight of its twin with the penalty.
MNIST_RECIPE = "mnist-gan-half"
MNIST_OVERRIDES = {}
GAMMA_MNIST = 10.0

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn

from course_utils import adversarial, checks, config, data, dynamics, gan, metrics, plots, results, toys, widgets

cfg = config.setup(fast=FAST, seed=SEED, device=DEVICE)
seeds = list(range(SEED, SEED + (1 if cfg.fast else SEEDS)))
GAN, NSGAN, WGAN = dynamics.GAN, dynamics.NSGAN, dynamics.WGAN

# %% [markdown]
# ## 1. A GAN with two parameters
#
# The Dirac-GAN (Mescheder et al. 2018, section 2.2):
#
# - the data distribution is a point mass at zero, $p_\mathcal{D} = \delta_0$;
# - the generator is a point mass at $\theta$, $p_\theta = \delta_\theta$;
# - the discriminator is linear, $D_\psi(x) = \psi\, x$ (a logit: large means "generated").
#
# In the paper's notation the GAN objective is
#
# $$L(\theta, \psi) = \mathbb{E}_{x \sim p_\theta}\big[f(D_\psi(x))\big] + \mathbb{E}_{x \sim
# p_\mathcal{D}}\big[f(-D_\psi(x))\big]
#   = f(\psi\theta) + f(0),$$
#
# which the generator minimises over $\theta$ and the discriminator maximises over $\psi$, with
# $f(t) = -\log(1 + e^{-t})$ for the GAN of notebook 04 and $f(t) = t$ for the Wasserstein GAN
# (notebook 06). The only equilibrium is $(\theta, \psi) = (0, 0)$: the generator sits on the data
# and the discriminator is flat. Gradient descent for $\theta$ and ascent for $\psi$ follow the
# **gradient vector field**
#
# $$v(\theta, \psi) = \begin{pmatrix} -\partial_\theta L \\ \partial_\psi L \end{pmatrix}
#   = \begin{pmatrix} -\psi\, f'(\psi\theta) \\ \theta\, f'(\psi\theta) \end{pmatrix}.$$
#
# `course_utils.dynamics` holds this field in NumPy, vectorised, for the three objectives
# (and checked against autograd in `tests/test_dynamics.py`). The **non-saturating** GAN (NS-GAN)
# keeps the discriminator's half and lets the generator minimise $-f(-\psi\theta)$ instead, as in
# notebook 04. Here are the three fields as stream lines:

# %%
ticks = np.linspace(-2, 2, 41)
grid_theta, grid_psi = np.meshgrid(ticks, ticks)
fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
for ax, objective in zip(axes, (GAN, NSGAN, WGAN)):
    plots.vector_field(ticks, ticks, *dynamics.field(objective, grid_theta, grid_psi), ax=ax, title=objective.name)
plt.tight_layout()
plt.show()

# %% [markdown]
# Every stream line turns around the equilibrium (the red star): no arrow points *at* it. The
# NS-GAN's lines bend where $\psi\theta < 0$, where its generator loss differs most from the GAN's.
# This is the lecture's Figure 1 in two numbers: from $\theta = 1$ and a flat discriminator, the
# slope grows and pushes the generator to the data; when it gets there the slope is at its largest
# and pushes it *past* the data, and so on.

# %%
path = dynamics.trajectory(GAN, 1.0, 0.0, H, 1000, mode="alternating")
fig, (ax_time, ax_lines) = plt.subplots(1, 2, figsize=(12, 3.6))
ax_time.plot(path[:, 0], label=r"$\theta$ (generator)")
ax_time.plot(path[:, 1], label=r"$\psi$ (discriminator's slope)")
ax_time.axhline(0, color="k", lw=0.5)
ax_time.set(xlabel="update", title="alternating gradient descent, GAN, h = %.2g" % H)
ax_time.legend()
x = np.linspace(-1.5, 1.5, 2)
for k, i in enumerate([0, 40, 80, 120, 160]):
    theta_i, psi_i = path[i]
    colour = plt.cm.viridis(k / 4)
    ax_lines.plot(x, psi_i * x, color=colour, label=f"update {i}: D(x) = {psi_i:+.2f} x")
    ax_lines.plot([theta_i], [0], "o", color=colour, markersize=9)
ax_lines.plot([0], [0], "*", color="crimson", markersize=14, label="data")
ax_lines.set(xlabel="x", ylabel=r"$D_\psi(x)$", title="the discriminator's line and the generator's point")
ax_lines.legend(fontsize="small")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 2. Three ways to follow the field
#
# - **Continuous dynamics**: the ODE $\frac{d}{dt}(\theta, \psi) = v(\theta, \psi)$ (integrated
#   here with small Runge-Kutta steps). Near the equilibrium it is governed by the Jacobian
#   $J = v'(0, 0) = \begin{pmatrix} 0 & -f'(0) \\ f'(0) & 0 \end{pmatrix}$, whose eigenvalues
#   $\pm f'(0)\, i$ lie **on the imaginary axis**: the linearised system circles for ever.
#   (For the GAN $f'(0) = 1/2$; for the WGAN, 1.)
# - **Simultaneous gradient descent**: $(\theta, \psi) \leftarrow (\theta, \psi) + h\, v(\theta, \psi)$.
#   The update's Jacobian is $I + hJ$, eigenvalues $1 \pm h f'(0)\, i$, of modulus
#   $\sqrt{1 + h^2 f'(0)^2} > 1$ for any step $h > 0$: it **spirals out**.
# - **Alternating gradient descent**: $\psi$ first, then $\theta$ with the new $\psi$. Is it any
#   better? Exercise 1 finds out.
#
# An update converges locally when every eigenvalue of its Jacobian has modulus below 1 (the ODE:
# negative real part).
#
# **Exercise 1 (derive it).** Linearise one alternating update at $(0, 0)$ with $a = f'(0)$: write
# $\psi'$ from $(\theta, \psi)$, then $\theta'$ from $(\theta, \psi')$, and collect the $2 \times 2$
# matrix that maps $(\theta, \psi)$ to $(\theta', \psi')$ (rows and columns: $\theta$, $\psi$). Write
# `alternating_jacobian(a, h)` returning it as a NumPy array. Then, before running the check, work
# out its determinant: what does it say about the product of the two eigenvalues' moduli?

# %%
def alternating_jacobian(a, h):
    """The (2, 2) Jacobian at (0, 0) of psi <- psi + h v_psi, then theta <- theta + h v_theta (new psi)."""
    ### BEGIN SOLUTION
    return np.array([[1 - (h * a) ** 2, -h * a], [h * a, 1.0]])  # theta' = theta - h a (psi + h a theta)
    ### END SOLUTION


# %%
cases = [(0.5, 0.1), (1.0, 0.7), (0.5, 3.0)]
alternating_jacobian = checks.check_exercise("alternating_jacobian", alternating_jacobian, cases)
for a_, h_ in cases:
    J_alt = alternating_jacobian(a_, h_)
    print(f"a = {a_}, h = {h_}: determinant {np.linalg.det(J_alt):.6f}, "
          f"moduli of the eigenvalues {np.round(np.abs(np.linalg.eigvals(J_alt)), 6)}")

# %% [markdown]
# Every Jacobian below is computed by finite differences of one update (`dynamics.update_jacobian`)
# and checked against its closed form.

# %%
METHODS = {"continuous": dict(mode="continuous"), "simultaneous": dict(mode="simultaneous"),
           "alternating": dict(mode="alternating")}
fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
plots.vector_field(ticks, ticks, *dynamics.field(GAN, grid_theta, grid_psi), ax=axes[0], title="GAN, from (1, 1)")
for name, method in METHODS.items():
    path = dynamics.trajectory(GAN, 1.0, 1.0, H, STEPS, mode=method["mode"])
    axes[0].plot(path[:, 0], path[:, 1], lw=1, label=name)
    axes[1].plot(dynamics.distance(path), label=f"{name}: {dynamics.verdict(path)}")
    J = dynamics.update_jacobian(GAN, H, mode=method["mode"])
    plots.eigenvalues(dynamics.eigenvalues(J), ax=axes[2], label=name, discrete=True)
axes[0].legend(fontsize="small", loc="lower left")
axes[1].set(xlabel="update (continuous: time / h)", ylabel="distance to (0, 0)", title=f"h = {H}, {STEPS} updates")
axes[1].legend()
axes[2].set_title("eigenvalues at (0, 0)")
axes[2].legend(fontsize="small")
plt.tight_layout()
plt.show()

a = GAN.df(0.0)
closed = {"continuous": dynamics.eigenvalues_continuous(a), "simultaneous": dynamics.eigenvalues_simultaneous(a, H),
          "alternating": dynamics.eigenvalues_alternating(a, H)}
print(f"GAN, f'(0) = {a}, h = {H}")
print(f"{'update':13s} {'eigenvalues (numerical)':32s} {'closed form':32s} {'|lambda|':>9s}")
for name, method in METHODS.items():
    lam = dynamics.eigenvalues(dynamics.update_jacobian(GAN, H, mode=method["mode"]))
    fmt = lambda v: ", ".join(f"{z.real:.5f}{z.imag:+.5f}i" for z in v)  # noqa: E731
    print(f"{name:13s} {fmt(lam):32s} {fmt(closed[name]):32s} {np.abs(lam).max():9.6f}")
    assert np.allclose(lam, closed[name], atol=1e-6), name

# %% [markdown]
# (The continuous field's eigenvalues share the axes, but their test is the imaginary axis.) The
# continuous path keeps its distance; simultaneous updates spiral out; alternating updates circle.
# Three facts to keep:
#
# 1. Nothing in plain gradient descent pulls the pair *towards* the equilibrium; a smaller step
#    only slows the spiral.
# 2. The WGAN's eigenvalues are the GAN's with $f'(0) = 1$: the Wasserstein loss does not remove
#    the rotation (the lecture's "cyclic behaviour for GAN and WGAN").
# 3. On the unit circle the linearisation cannot decide; the nonlinear terms do (the NS-GAN's
#    alternating updates creep inwards like $1/\sqrt{t}$; try it in section 4).
#
# ## 3. Fixes and non-fixes
#
# Each proposal changes the field, the update or the data (`course_utils.dynamics` has one class
# each, in the paper's notation). Below, $J = \begin{pmatrix} 0 & -f'(0) \\ f'(0) & 0 \end{pmatrix}$ is the
# plain GAN's Jacobian at $(0, 0)$ (rows and columns: $\theta$, $\psi$):
#
# | method | what it does in the Dirac-GAN | Jacobian at $(0, 0)$ |
# |---|---|---|
# | WGAN + weight clipping | $\psi \leftarrow \mathrm{clip}(\psi, -c, c)$ after each D step | the WGAN's, in the box |
# | WGAN-GP | $+\frac{\gamma}{2}(\lvert\psi\rvert - 1)^2$ on D's loss | none: the penalty has a kink at $\psi = 0$ |
# | instance noise | noise of std $\sigma$ on real and fake points | $J + \mathrm{diag}(0,\ 2 f''(0)\sigma^2)$ |
# | R1 / R2 | $+\frac{\gamma}{2}\psi^2$: squared slope at real (R1) or fake (R2) data | $J - \mathrm{diag}(0, \gamma)$ |
# | consensus optimisation | follow $v - \gamma\, \nabla \tfrac12 \lVert v\rVert^2$ | $J - \gamma J^\top J$ |
# | more D steps | $n_d$ discriminator steps per generator step | alternating: still $\lvert\lambda\rvert = 1$ |
#
# **Exercise 2.** With R1 (or R2) of weight $\gamma$, the field's Jacobian at the equilibrium is
# $\begin{pmatrix} 0 & -a \\ a & -\gamma \end{pmatrix}$ with $a = f'(0)$. Write the two eigenvalues of
# **simultaneous** gradient descent with step $h$, i.e. of $I + hJ$, as a NumPy complex array of
# two values (in either order). Hint: the characteristic polynomial of $J$ is
# $\lambda^2 + \gamma\lambda + a^2$; `np.sqrt(complex(...))` takes roots of negative numbers.

# %%
def r1_eigenvalues(a, gamma, h):
    """Eigenvalues of I + h J for J = [[0, -a], [a, -gamma]]: a complex array (2,), np.sort_complex order."""
    ### BEGIN SOLUTION
    root = np.sqrt(complex(gamma**2 / 4 - a**2))
    return np.sort_complex(np.array([1 + h * (-gamma / 2 - root), 1 + h * (-gamma / 2 + root)]))
    ### END SOLUTION


# %%
cases = [(0.5, 0.3, 0.1), (0.5, 3.0, 0.1), (1.0, 0.1, 0.5), (1.0, 2.0, 1.0), (0.5, 1.0, 0.01)]
r1_eigenvalues = checks.check_exercise("r1_eigenvalues", r1_eigenvalues, cases, unordered=True)
for a_, gamma_, h_ in cases:  # and the numerical Jacobian of one update agrees
    objective = GAN if a_ == 0.5 else WGAN
    numerical = dynamics.eigenvalues(dynamics.update_jacobian(objective, h_, dynamics.R1(gamma_)))
    assert np.allclose(numerical, r1_eigenvalues(a_, gamma_, h_), atol=1e-6)
print("the numerical Jacobian of one R1 update agrees with the closed form on every case")

# %% [markdown]
# Now every method, from the same start $(1, 1)$, with the same step $h$. For the WGAN methods
# the objective is the WGAN; for the others the GAN. The table prints the eigenvalues of one
# update at the equilibrium (numerical, with the closed form where the paper gives one), the
# largest modulus, the distance after the last update, and a verdict read off the trajectory.

# %%
SETUPS = {  # name: (objective, regulariser, update, D steps)
    "GAN (no fix)": (GAN, dynamics.Regulariser(), "simultaneous", 1),
    "WGAN + clipping (c = 0.1)": (WGAN, dynamics.Clip(0.1), "simultaneous", 1),
    "WGAN-GP (gamma = 1)": (WGAN, dynamics.GradientPenalty(1.0), "simultaneous", 1),
    "instance noise (sigma = 1)": (GAN, dynamics.InstanceNoise(1.0), "simultaneous", 1),
    "R1 (gamma = 0.3)": (GAN, dynamics.R1(0.3), "simultaneous", 1),
    "R2 (gamma = 0.3)": (GAN, dynamics.R2(0.3), "simultaneous", 1),
    "consensus (gamma = 1)": (GAN, dynamics.Consensus(1.0), "simultaneous", 1),
    "5 D steps, alternating": (GAN, dynamics.Regulariser(), "alternating", 5),
}


def closed_form(objective, reg, mode, d_steps, h):
    """The paper's eigenvalues for this setup, or None where it gives no closed form."""
    a, b = objective.df(0.0), objective.d2f(0.0)
    if mode == "alternating" and type(reg) is dynamics.Regulariser:
        return dynamics.eigenvalues_alternating(a, h, d_steps)
    if mode != "simultaneous" or d_steps != 1:
        return None
    if isinstance(reg, dynamics.R1):
        return dynamics.eigenvalues_r1(a, reg.gamma, h)
    if isinstance(reg, dynamics.InstanceNoise):
        return dynamics.eigenvalues_instance_noise(a, b, reg.noise_std, h)
    if isinstance(reg, dynamics.Consensus):
        return dynamics.eigenvalues_consensus(a, reg.gamma, h)
    if type(reg) in (dynamics.Regulariser, dynamics.Clip):
        return dynamics.eigenvalues_simultaneous(a, h)
    return None


fig, axes = plt.subplots(2, len(SETUPS), figsize=(2.3 * len(SETUPS), 5.2), gridspec_kw={"height_ratios": [1, 1]})
fmt = lambda v: ", ".join(f"{z.real:.4f}{z.imag:+.4f}i" for z in v)  # noqa: E731
print(f"{'method':28s} {'eigenvalues of one update at (0, 0)':36s} {'max |lambda|':>12s} {'distance':>9s}  verdict")
fix_table = {}
for col, (name, (objective, reg, mode, d_steps)) in enumerate(SETUPS.items()):
    path = dynamics.trajectory(objective, 1.0, 1.0, H, STEPS, reg, mode, d_steps)
    ax = axes[0, col]
    small = np.linspace(-2, 2, 15)
    vt, vp = dynamics.field(objective, *np.meshgrid(small, small), reg)
    norm = np.hypot(vt, vp) + 1e-12  # unit arrows: directions only
    plots.vector_field(small, small, vt / norm, vp / norm, ax=ax, stream=False, color="0.7")
    ax.plot(path[:, 0], path[:, 1], lw=0.8)
    ax.set(xticks=[], yticks=[], xlabel="", ylabel="")
    ax.set_title(name, fontsize=9)
    try:
        lam = dynamics.eigenvalues(dynamics.update_jacobian(objective, H, reg, mode, d_steps))
        expected = closed_form(objective, reg, mode, d_steps, H)
        if expected is not None:
            assert np.allclose(lam, expected, atol=1e-6), name
        plots.eigenvalues(lam, ax=axes[1, col])
        radius, text = np.abs(lam).max(), fmt(lam)
    except ValueError:  # WGAN-GP: no Jacobian at the equilibrium
        plots.eigenvalues([], ax=axes[1, col])
        radius, text = float("nan"), "none (kink at psi = 0)"
    axes[1, col].set(xlim=(0.8, 1.2), ylim=(-0.2, 0.2), xlabel="", ylabel="")
    d = dynamics.distance(path)
    fix_table[name] = dict(radius=radius, distance=float(d[np.isfinite(d)][-1]), verdict=dynamics.verdict(path))
    axes[1, col].set_title(f"{fix_table[name]['verdict']}", fontsize=9)
    print(f"{name:28s} {text:36s} {radius:12.6f} {fix_table[name]['distance']:9.2g}  {fix_table[name]['verdict']}")
plt.tight_layout()
plt.show()

# %% [markdown]
# (Eigenvalue panels: a zoom on $1 \pm 0.2$, the unit circle in grey.) The verdicts:
#
# - **WGAN + clipping**: inside the box nothing changes; it keeps circling. Not convergent.
# - **WGAN-GP**: pulls $|\psi|$ to 1, not 0, so $D$ never goes flat and keeps pushing; no
#   derivative at $\psi = 0$. Not convergent.
# - **Instance noise**: adds $2 f''(0)\sigma^2 < 0$, moving the GAN's eigenvalues inside the
#   circle. Convergent for the GAN, slowly for small $\sigma$, and it blurs the target; for the
#   WGAN ($f'' = 0$) it changes nothing.
# - **R1 / R2**: $-\gamma$ on the diagonal pulls $D$ back to flat. Convergent; the Dirac-GAN
#   cannot tell R1 from R2.
# - **Consensus optimisation**: $-\gamma f'(0)^2$ on both eigenvalues. Convergent, at the cost of
#   a second derivative per step.
# - **More discriminator steps**: the alternating eigenvalues stay on the circle. Not convergent.
#
# ### What breaks a convergent method
#
# Convergence of the *continuous* field is not enough: the update $I + hJ$ must shrink, i.e.
# $|1 + h\lambda| < 1$ for both eigenvalues $\lambda$ of $J$. For R1, large $\gamma$ makes one
# eigenvalue of $J$ about $-\gamma$, so $h\gamma > 2$ throws the update out of the unit circle.
# Too weak a penalty fails too: for $\gamma < 2f'(0)$, $|1 + h\lambda|^2 = 1 - h\gamma + h^2 f'(0)^2$,
# which is below 1 only for $h < \gamma / f'(0)^2$; the rotation wins over a weak pull unless the
# steps are small. The map below is the spectral radius over a grid of $(\gamma, h)$, from the
# closed form, with the boundary $\max|\lambda| = 1$; the two markers are checked by
# simulation.

# %%
gammas = np.logspace(-2, 1.5, 120)
steps_h = np.logspace(-2, 0.5, 100)
radius = np.array([[np.abs(dynamics.eigenvalues_r1(0.5, g_, h_)).max() for g_ in gammas] for h_ in steps_h])
fig, (ax_map, ax_paths) = plt.subplots(1, 2, figsize=(12, 4.2))
image = ax_map.pcolormesh(gammas, steps_h, np.log10(radius), cmap="RdBu_r", vmin=-0.5, vmax=0.5, shading="auto")
ax_map.contour(gammas, steps_h, radius, levels=[1.0], colors="k")
ax_map.set(xscale="log", yscale="log", xlabel=r"$\gamma$ (R1 weight)", ylabel="step size h",
           title="GAN + R1, simultaneous: log10 max |lambda|  (black: = 1)")
fig.colorbar(image, ax=ax_map)
examples = {"gamma = 5, h = 0.3": (5.0, 0.3), "gamma = 5, h = 0.5": (5.0, 0.5)}
for label, (g_, h_) in examples.items():
    ax_map.plot(g_, h_, "o", color="k" if dynamics.spectral_radius(GAN, h_, dynamics.R1(g_)) < 1 else "crimson")
    path = dynamics.trajectory(GAN, 0.1, 0.1, h_, 300, dynamics.R1(g_))
    ax_paths.semilogy(dynamics.distance(path),
                      label=f"{label}: max|lambda| = {dynamics.spectral_radius(GAN, h_, dynamics.R1(g_)):.3f}, "
                            f"{dynamics.verdict(path)}")
ax_paths.set(xlabel="update", ylabel="distance to (0, 0)", title="the two marked settings, simulated")
ax_paths.legend(fontsize="small")
plt.tight_layout()
plt.show()

# %% [markdown]
# **Exercise 3 (an experiment).** Your learning rate $h$ is fixed; choose $\gamma$. Write
# `fastest_gamma(a, h)`, the R1 weight whose updates contract fastest: search a fine grid with
# your `r1_eigenvalues`, or reason from Exercise 2's roots. Then predict the distance after 60
# updates from $(0.1, 0.1)$ at $h = 0.3$ (about $\max|\lambda|^{60}$ times the start) before the
# cell after the check simulates your $\gamma$, a third of it and three times it.

# %%
def fastest_gamma(a, h):
    """The R1 weight gamma > 0 with the smallest max |eigenvalue| of I + h J (a float)."""
    ### BEGIN SOLUTION
    grid = np.linspace(0.01, 10, 20_000)
    return float(grid[np.argmin([np.abs(r1_eigenvalues(a, g_, h)).max() for g_ in grid])])
    ### END SOLUTION


# %%
cases = [(0.5, 0.3), (0.5, 1.0), (1.0, 0.1)]  # (a, h): the GAN's f'(0) = 1/2 and the WGAN's 1
fastest_gamma = checks.check_exercise("fastest_gamma", fastest_gamma, cases, atol=0.01)
h_exp, start = 0.3, np.hypot(0.1, 0.1)
for g_ in (fastest_gamma(0.5, h_exp) / 3, fastest_gamma(0.5, h_exp), 3 * fastest_gamma(0.5, h_exp)):
    rho = np.abs(dynamics.eigenvalues_r1(0.5, g_, h_exp)).max()
    measured = dynamics.distance(dynamics.trajectory(GAN, 0.1, 0.1, h_exp, 60, dynamics.R1(g_)))[-1]
    print(f"gamma {g_:5.2f}: max|lambda| {rho:.3f}, predicted distance {start * rho**60:.2e}, simulated {measured:.2e}")

# %% [markdown]
# Compare your $\gamma$ with the roots of Exercise 2: the fastest contraction sits where the two
# eigenvalues of $J$ meet (critical damping), for every step that converges at all; weaker, the
# rotation wins; stronger, one eigenvalue creeps to 0. Beyond the black line the same penalty diverges.
#
# ## 4. Explore
#
# Pick an objective, a regulariser and its weight, the step, the update, D steps per G step, the
# number of updates and the start; the explorer redraws the trajectory, the distance to the
# equilibrium and the eigenvalues of one update. Things to try: R1 with $\gamma = 0.01$ at $h = 0.1$ (it diverges:
# section 3 says $h$ must stay below $\gamma / f'(0)^2 = 0.04$), then at $h = 0.03$ (it creeps in);
# R1 with $\gamma = 10$ and $h = 0.3$; instance noise on the WGAN; the NS-GAN with alternating
# updates and 3,000 steps; WGAN-GP from $(0.05, 0.05)$. Where no widget front end runs, the current
# picture is shown as a static figure.

# %%
explorer = widgets.dirac_gan()
explorer

# %%
explorer.update()  # one more redraw, now that fonts and caches are warm, to time it
print(f"one redraw: {1000 * explorer.seconds:.0f} ms (benchmarks/dirac_widget.py times every control)")

# %% [markdown]
# ## 5. Back to real GANs: R1 on the 25-Gaussian grid and on MNIST
#
# In a real GAN the "slope at the data" is $\nabla_x D(x)$ at real points, and R1 penalises it,
# $\frac{\gamma}{2}\mathbb{E}_{p_\mathcal{D}}\lVert\nabla_x D(x)\rVert^2$ (Mescheder et al. 2018, eq. 9;
# $\frac{\gamma}{2}\psi^2$ in the Dirac-GAN), with a proof of local convergence for general GANs. It
# simplifies Roth et al. (2017), who penalised the gradient on real and generated data weighted by
# $(1 - D)^2$ and $D^2$; R1 keeps the real-data term, unweighted.
#
# **Exercise 4.** Write the R1 term for a discriminator `D` (a module returning logits, one per
# sample) and a real batch `x`: $\frac{\gamma}{2}$ times the batch mean of $\lVert\nabla_x D(x)\rVert^2$
# (the squared norm summed over every coordinate of one sample). It must be differentiable with
# respect to `D`'s parameters (`create_graph=True`), and must not change `x` itself (work on
# `x.detach().requires_grad_(True)`).

# %%
def r1_term(D, x, gamma):
    """gamma/2 * mean over the batch of ||grad_x D(x)||^2; D: logits (B,) or (B, 1); x: (B, ...) real."""
    ### BEGIN SOLUTION
    x = x.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)
    return gamma / 2 * grad.pow(2).flatten(1).sum(1).mean()
    ### END SOLUTION


# %%
torch.manual_seed(0)
D_check = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1)).double()
D_image = gan.DCDiscriminator(width=8)
cases = [(D_check, torch.randn(64, 2, dtype=torch.float64), 0.1),
         (D_check, torch.randn(5, 2, dtype=torch.float64), 10.0),
         (D_image, torch.rand(4, 1, 28, 28), 1.0)]
r1_term = checks.check_exercise("r1_term", r1_term, cases)
assert r1_term(D_check, torch.randn(3, 2, dtype=torch.float64), 1.0).requires_grad, \
    "the R1 term must carry a graph back to D"

# %% [markdown]
# The course's engine, `adversarial.train_gan`, runs notebook 04's loop with **your** `r1_term`
# added to D's loss. The run keeps its networks at a few steps; at each we score the generator and measure
# the discriminator's slope at the data, $\mathbb{E}\lVert\nabla_x D(x)\rVert$ on 256 fixed real points: the $|\psi|$
# of the Dirac-GAN. Each setting runs with $\gamma = 0$ and with R1, on several seeds, all else equal.
#
# - **Grid of 25**: recipe `toy-r1` (notebook 04's "GAN + R1", shorter), scored with the mode
#   counter on 2,500 samples.
# - **MNIST**: recipe `mnist-dcgan` at Adam $2\cdot10^{-4}$ (the DCGAN paper's rate, at which these
#   runs were recorded), without the average of G; R1 at every step; curves from the kernel
#   distance of 2,000 samples, final scores on the yardstick.

# %%
def slope(D, x):
    """E ||grad_x D(x)|| over the points x: how steep the discriminator is at the data."""
    with torch.enable_grad():
        x = x.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(D(x).sum(), x)
    return grad.flatten(1).norm(dim=1).mean().item()


def run_pair(task, recipe, seed, real, evaluate, evals, points, data, **also_saved):
    """Train recipe's G and D on `data` with your r1_term (or reload them: any notebook that trained the same
    recipe, seed and data did it); returns (nets, History). evals: curve points, of the points copies kept.
    also_saved: what else the evaluation depends on (its sample size)."""
    return adversarial.train_or_load_gan(f"05_r1_{task}", recipe, real, seed, cfg.device, data=data, evaluate=evaluate,
                                         evals=evals, points=points, losses=adversarial.Losses(r1_term=r1_term),
                                         settings=also_saved, desc=f"{task}, gamma {recipe.gamma:g}, seed {seed}")


# %% [markdown]
# ### The grid of 25

# %%
mixture = toys.grid(25, sigma=0.05)
grid_eval_z = torch.randn(2500, 2, generator=torch.Generator().manual_seed(10_000)).to(cfg.device)
grid_slope_x = mixture.sample(256, torch.Generator().manual_seed(10_001)).to(cfg.device)


def grid_scores(nets):
    report = toys.mode_report(adversarial.generate(nets, grid_eval_z, chunk=None), mixture)
    return {"modes": report["modes"], "high_quality": 100 * report["high_quality"],
            "slope": slope(nets["D"], grid_slope_x)}


grid_steps = cfg.scale(full=GRID_STEPS, fast=200)
grid_recipes = {gamma: adversarial.recipe("toy-r1").with_(steps=grid_steps, **(dict(gamma=gamma) if gamma else
                                                                                 dict(penalty="none", gamma=0.0)))
                for gamma in (0.0, GAMMA_GRID)}
grid_real = lambda n, g: mixture.sample(n, g).to(cfg.device)  # noqa: E731
grid_nets, grid_runs = {}, {}
for gamma, recipe in grid_recipes.items():
    print(f"gamma = {gamma:g}: {recipe.label()}")
    for s in seeds:
        grid_nets[(gamma, s)], grid_runs[(gamma, s)] = run_pair("grid", recipe, s, grid_real, grid_scores, evals=6,
                                                                points=6, data={"mixture": "grid", "sigma": 0.05},
                                                                eval_points=2500)

fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
panels = [("data", mixture.sample(2500, torch.Generator().manual_seed(0)))] + [
    (f"gamma = {g_:g}, seed {SEED}", adversarial.generate(grid_nets[(g_, SEED)], grid_eval_z, chunk=None).cpu())
    for g_ in (0.0, GAMMA_GRID)]
for ax, (title, points) in zip(axes, panels):
    ax.scatter(*points.T.numpy(), s=2, alpha=0.5)
    ax.scatter(*mixture.means.T.numpy(), s=20, c="r", marker="x")
    ax.set(title=title, xlim=(-5.5, 5.5), ylim=(-5.5, 5.5), aspect="equal")
plt.tight_layout()
plt.show()

# %%
def report(runs, gamma, panels, title):
    """Print mean ± sd over seeds of each panel's key at the last evaluation (and seconds per run),
    for gamma = 0 and the given gamma, then plot every seed over training, one panel per key plus
    the discriminator's slope at the data. panels: [(key, y label, log scale)].
    Returns ({gamma: {key: per-seed array}}, {gamma: mean seconds per run})."""
    gammas = (0.0, gamma)
    panels = panels + [("slope", "E ||grad_x D(x)|| on real points", True)]
    table = {g_: {k: np.array([runs[(g_, s)][k][-1] for s in seeds]) for k, _, _ in panels} for g_ in gammas}
    seconds = {g_: float(np.mean([runs[(g_, s)].seconds for s in seeds])) for g_ in gammas}
    print(f"{title}, seeds {seeds}: last evaluation, mean ± sd over seeds")
    for k, _, _ in panels:
        print(f"{k:16s} " + "   ".join(f"gamma {g_:<5g}: {results.spread(table[g_][k])}" for g_ in gammas))
    print("seconds per run:", ", ".join(f"gamma {g_:g}: {v:.0f} s" for g_, v in seconds.items()))
    fig, axes = plt.subplots(1, len(panels), figsize=(14, 3.4))
    for g_, colour in zip(gammas, ("C0", "C1")):
        for s in seeds:
            h = runs[(g_, s)]
            for ax, (k, _, log) in zip(axes, panels):
                ax.plot(h.steps[k], h[k], "o-", color=colour, alpha=0.7, label=f"gamma = {g_:g}" if s == SEED else None)
    for ax, (k, label, log) in zip(axes, panels):
        ax.set(xlabel="step", ylabel=label, yscale="log" if log else "linear")
    axes[-1].set_title("the discriminator's slope at the data")
    axes[0].legend()
    return table, seconds, axes


grid_table, grid_seconds, axes = report(grid_runs, GAMMA_GRID, [("modes", "modes captured (of 25)", False),
                                                              ("high_quality", "high-quality samples (%)", False)],
                                        f"grid of 25, {grid_steps} steps")
plt.tight_layout()
plt.show()

# %% [markdown]
# ### MNIST

# %%
x_train = data.mnist("train").batch(torch.arange(60_000), cfg.device)[0]  # (60000, 1, 28, 28) in [0, 1]
yardstick = metrics.Yardstick(cfg.device)  # the course's fixed classifier; prints its accuracy and floor
n_curve = adversarial.curve_samples(cfg.fast)  # per point of a training curve
base = adversarial.for_mode(MNIST_RECIPE, MNIST_OVERRIDES, cfg.fast)
curve_z = adversarial.noise(n_curve, base.latent, adversarial.CURVE_SEED, cfg.device)
score_z = adversarial.noise(yardstick.n, base.latent, adversarial.SCORE_SEED, cfg.device)  # every GAN's final score
mnist_slope_x = x_train[torch.randperm(60_000, generator=torch.Generator().manual_seed(4))[:256].to(cfg.device)]


def mnist_scores(nets):
    point = yardstick.curve_point(adversarial.generate(nets, curve_z))
    return {"kernel": point["kernel"], "entropy": point["entropy"], "slope": slope(nets["D"], mnist_slope_x)}


mnist_recipes = {0.0: base, GAMMA_MNIST: base.with_(penalty="r1", gamma=GAMMA_MNIST)}
mnist_real = adversarial.real_batches(x_train)
mnist_nets, mnist_runs, mnist_final = {}, {}, {}
for gamma, recipe in mnist_recipes.items():
    print(f"gamma = {gamma:g}: {recipe.label()}")
    for s in seeds:
        mnist_nets[(gamma, s)], mnist_runs[(gamma, s)] = run_pair("mnist", recipe, s, mnist_real, mnist_scores, evals=5,
                                                                  points=adversarial.CURVE_POINTS, data="mnist",
                                                                  n_curve=n_curve)
        adversarial.sampler(mnist_nets[(gamma, s)]).eval()
        mnist_final[(gamma, s)] = yardstick.score(adversarial.generate(mnist_nets[(gamma, s)], score_z))
fig, axes = plt.subplots(2, 1, figsize=(12, 3.2))
for ax, g_ in zip(axes, (0.0, GAMMA_MNIST)):
    images = adversarial.generate(mnist_nets[(g_, SEED)], score_z[:24])
    plots.image_grid(images, nrow=24, ax=ax, title=f"gamma = {g_:g}, seed {SEED}, after {base.steps} steps")
plt.tight_layout()
plt.show()

# %%
mnist_table, mnist_seconds, axes = report(mnist_runs, GAMMA_MNIST,
                                          [("kernel", f"kernel distance, {n_curve} samples", True),
                                                                   ("entropy", "entropy of the digits (nats)", False)],
                                          f"MNIST, {base.steps} steps")
axes[1].axhline(math.log(10), color="k", ls=":")
plt.tight_layout()
plt.show()
for key in ("frechet", "x_floor", "entropy", "classes_present"):
    for g_ in (0.0, GAMMA_MNIST):
        mnist_table[g_][key] = np.array([mnist_final[(g_, s)][key] for s in seeds])
print(f"the yardstick at the end ({yardstick.n:,} samples; floor {yardstick.floor:.2f}), mean ± sd over seeds {seeds}:")
for g_ in (0.0, GAMMA_MNIST):
    t = mnist_table[g_]
    print(f"  gamma {g_:<5g} classifier-Fréchet {results.spread(t['frechet'])} ({results.spread(t['x_floor'])} x "
          "floor), "
          f"digits {results.spread(t['classes_present'])}, entropy {results.spread(t['entropy'])}")

# %% [markdown]
# Read the numbers against the Dirac-GAN. Without the penalty the discriminator grows steep at the
# data (a large $|\psi|$, which pushes even a generator already there) and the grid's mode count
# wanders; with R1 the slope stays near zero and every mode is kept. On MNIST a short run with R1
# evens the coverage a little but does not sharpen the digits, within the spread over seeds: the
# paper's claim is about convergence near an equilibrium, which so short a run does not reach. Over
# 10 minutes R1 did pay: 27 ± 2 against 44 ± 3 without (`benchmarks/gan_peers.py`, 3 seeds; README).

# %% [markdown]
# ## 6. Recording the results

# %%
def mean(x):
    return float(np.mean(x))


record_file = results.record(
    "05_dirac_gan",
    {
        "Dirac-GAN, simultaneous GD (h = 0.1): max |lambda|": fix_table["GAN (no fix)"]["radius"],
        "Dirac-GAN, R1 gamma 0.3 (h = 0.1): max |lambda|": fix_table["R1 (gamma = 0.3)"]["radius"],
        "Dirac-GAN, explorer redraw (ms)": 1000 * explorer.seconds,
        "grid of 25, no R1: modes (mean of seeds)": mean(grid_table[0.0]["modes"]),
        "grid of 25, no R1: high-quality samples (%)": mean(grid_table[0.0]["high_quality"]),
        "grid of 25, R1: modes (mean of seeds)": mean(grid_table[GAMMA_GRID]["modes"]),
        "grid of 25, R1: modes (worst seed)": float(np.min(grid_table[GAMMA_GRID]["modes"])),
        "grid of 25, R1: high-quality samples (%)": mean(grid_table[GAMMA_GRID]["high_quality"]),
        "grid of 25: seconds per run (no R1 / R1)": f"{grid_seconds[0.0]:.0f} / {grid_seconds[GAMMA_GRID]:.0f}",
        "yardstick: real-vs-real floor (n = 10,000)": yardstick.floor,
        "MNIST, no R1: classifier-Fréchet (n = 10,000)": mean(mnist_table[0.0]["frechet"]),
        "MNIST, R1: classifier-Fréchet (n = 10,000)": mean(mnist_table[GAMMA_MNIST]["frechet"]),
        "MNIST, no R1: classifier-Fréchet / floor": mean(mnist_table[0.0]["x_floor"]),
        "MNIST, R1: classifier-Fréchet / floor": mean(mnist_table[GAMMA_MNIST]["x_floor"]),
        "MNIST, no R1 / R1: digits present (worst seed)": f"{min(mnist_table[0.0]['classes_present'])} / "
                                                          f"{min(mnist_table[GAMMA_MNIST]['classes_present'])}",
        "MNIST, no R1: entropy (nats)": mean(mnist_table[0.0]["entropy"]),
        "MNIST, R1: entropy (nats)": mean(mnist_table[GAMMA_MNIST]["entropy"]),
        "MNIST, no R1 / R1: slope at the data":
            f"{mean(mnist_table[0.0]['slope']):.2f} / {mean(mnist_table[GAMMA_MNIST]['slope']):.2f}",
        "MNIST: seconds per run (no R1 / R1)": f"{mnist_seconds[0.0]:.0f} / {mnist_seconds[GAMMA_MNIST]:.0f}",
    },
    cfg,
    paper={"Dirac-GAN, simultaneous GD (h = 0.1): max |lambda|": "sqrt(1 + h^2 f'(0)^2) = 1.00125",
           "Dirac-GAN, R1 gamma 0.3 (h = 0.1): max |lambda|": "|1 + h(-gamma/2 + i sqrt(a^2 - gamma^2/4))| = 0.98615"},
)

# %% [markdown]
# ## Think
#
# 1. In the Dirac-GAN, R1 and R2 are the same penalty. In a real GAN they are not: which one keeps
#    the discriminator flat where the *data* is, and why is that the place that matters at the
#    equilibrium?
# 2. WGAN-GP does not converge in the Dirac-GAN, yet notebook 06 trains good toy GANs with it. How
#    can both be true? What does each experiment ask?
# 3. The NS-GAN's alternating updates creep towards the equilibrium like $1/\sqrt{t}$. How many
#    updates does it take to get ten times closer than after 100 updates? Would you call that
#    convergence in a training budget?
# 4. Instance noise converges in the Dirac-GAN, yet few GANs use it today. What does it cost in a
#    real GAN, and how must its $\sigma$ be scheduled?

# %% [markdown] tags=["answers"]
# **Answers for instructors** (the solution build and the deck's speaker notes only;
# the student build leaves them out)
#
# 1. R1. At the equilibrium the generator's distribution is the data, so $D$'s slope at the data
#    is the force on the generator there: if it is not zero, the generator is pushed off the data.
#    R2 acts where the generator is, the same place only once training has converged.
# 2. The Dirac-GAN asks whether training settles *at* the equilibrium (WGAN-GP keeps $D$'s slope
#    at 1 there, so it circles); the toys ask whether a far-away generator covers every mode within
#    a budget (the penalty keeps the critic's gradients useful on the way). Different properties.
# 3. Ten times closer needs 100 times the updates: 10,000 instead of 100. Convergent on paper, a
#    stall in practice.
# 4. $D$ compares blurred data with blurred samples, so the generator is matched only up to the
#    noise. $\sigma$ must be annealed to 0 (Sønderby et al. 2017), and the damping vanishes with it.

# %% [markdown]
# ## Summary
#
# - The Dirac-GAN (one generator parameter $\theta$, one discriminator parameter $\psi$, data at 0)
#   has a unique equilibrium and a gradient field that rotates around it: the Jacobian's
#   eigenvalues are $\pm f'(0)\, i$.
# - Simultaneous gradient descent spirals out (eigenvalues $1 \pm h f'(0)\, i$, outside the unit
#   circle); alternating gradient descent circles (on it), with or without more discriminator
#   steps; the WGAN is no different.
# - WGAN clipping and WGAN-GP do not converge; instance noise (for the GAN), R1 / R2 and consensus
#   optimisation do, by adding a negative real part. A step size or weight too large undoes it.
# - The same R1 term in real training keeps the discriminator flat at the data; on the grid it
#   keeps every mode where the plain GAN's count wanders; on MNIST, in a short run, it does not
#   sharpen the digits.
#
# ## Going further
#
# - Mescheder et al. (2018), section 4, extend the proof for R1 / R2 to general GANs near an
#   equilibrium; their code, GAN_stability, trains image GANs with R1 at $\gamma = 10$.
# - Notebook 06 takes up the Wasserstein GAN and the penalty the Dirac-GAN found wanting.
#
# ## How this notebook was made fast
#
# - Lazy R1 on the toys (every 4 steps, 4 times the weight; Karras et al. 2020); every trained model
#   saved under `COURSE_OUTPUT` by its settings; `benchmarks/dirac_widget.py` times the explorer.
#
# ## References
#
# - Mescheder, Geiger, Nowozin. Which training methods for GANs do actually converge? ICML 2018.
# - Mescheder, Nowozin, Geiger. The numerics of GANs. NIPS 2017 (consensus optimisation).
# - Nagarajan, Kolter. Gradient descent GAN optimization is locally stable. NIPS 2017.
# - Arjovsky, Chintala, Bottou. Wasserstein generative adversarial networks. ICML 2017.
# - Gulrajani, Ahmed, Arjovsky, Dumoulin, Courville. Improved training of Wasserstein GANs. NIPS 2017.
# - Sønderby, Caballero, Theis, Shi, Huszár. Amortised MAP inference for image super-resolution.
#   ICLR 2017 (instance noise).
# - Roth, Lucchi, Nowozin, Hofmann. Stabilizing training of generative adversarial networks
#   through regularization. NIPS 2017.
# - Karras, Laine, Aittala, Hellsten, Lehtinen, Aila. Analyzing and improving the image quality of
#   StyleGAN. CVPR 2020 (lazy regularisation).
# - Rahimi, Recht. Test of Time Award talk, NIPS 2017.
