"""The Dirac-GAN (Mescheder, Geiger & Nowozin 2018, section 2): a GAN with two parameters.

Data: a point mass at 0, p_D = delta_0. Generator: a point mass at theta, p_theta = delta_theta.
Discriminator: a line through the origin, D_psi(x) = psi * x. The objective (eq. 1 and 2)

    L(theta, psi) = E_{x ~ p_theta}[f(D_psi(x))] + E_{x ~ p_D}[f(-D_psi(x))] = f(psi * theta) + f(0)

is minimised by the generator and maximised by the discriminator, with f(t) = -log(1 + exp(-t))
for the GAN and f(t) = t for the WGAN. The unique equilibrium is (theta, psi) = (0, 0).
Gradient descent-ascent follows the vector field (eq. 4)

    v(theta, psi) = (-dL/dtheta, dL/dpsi) = (-psi f'(psi theta), theta f'(psi theta)).

Everything here is NumPy on plain float64 arrays, vectorised over points, so that a trajectory of
a few thousand steps takes milliseconds (the notebook's widget redraws on every slider move).
The tuple order is always (theta, psi). One class per objective and per regulariser, a few lines
each; ``field`` puts them together, ``step`` / ``trajectory`` run simultaneous or alternating
gradient descent, ``update_jacobian`` differentiates one update numerically.
"""

from __future__ import annotations

import math

import numpy as np

# ---------------------------------------------------------------------------------------------
# Objectives: f, f', f'' and the generator's direction of descent


def _sigmoid(t):
    # sigmoid(t) = exp(-logaddexp(0, -t)): no overflow for large |t|
    return np.exp(-np.logaddexp(0.0, -np.asarray(t, dtype=float)))


class GAN:
    """f(t) = -log(1 + exp(-t)) = log sigmoid(t); f'(t) = sigmoid(-t), so f'(0) = 1/2;
    f''(t) = -sigmoid(t) sigmoid(-t), so f''(0) = -1/4. The generator minimises L itself
    (the saturating "minimax" loss)."""

    name = "GAN"

    @staticmethod
    def f(t):
        return -np.logaddexp(0.0, -np.asarray(t, dtype=float))

    @staticmethod
    def df(t):
        return _sigmoid(-t)

    @staticmethod
    def d2f(t):
        return -_sigmoid(t) * _sigmoid(-t)

    @classmethod
    def generator_direction(cls, x, psi):
        """-d/dx of the generator's loss at a generated point x: -psi f'(psi x)."""
        return -psi * cls.df(psi * x)

    @classmethod
    def generator_direction_derivatives(cls, x, psi):
        """(d/dx, d/dpsi) of ``generator_direction``."""
        t = psi * x
        return -psi**2 * cls.d2f(t), -cls.df(t) - t * cls.d2f(t)


class NSGAN(GAN):
    """The non-saturating GAN: D as in the GAN, the generator minimises -f(-psi x) instead of
    f(psi x) (Goodfellow et al. 2014). Same Jacobian at the equilibrium, other field elsewhere."""

    name = "NS-GAN"

    @classmethod
    def generator_direction(cls, x, psi):
        return -psi * cls.df(-psi * x)

    @classmethod
    def generator_direction_derivatives(cls, x, psi):
        t = psi * x
        return psi**2 * cls.d2f(-t), -cls.df(-t) + t * cls.d2f(-t)


class WGAN(GAN):
    """f(t) = t (Arjovsky et al. 2017): f'(0) = 1, f'' = 0. The 1-Lipschitz constraint is left to
    a regulariser (``Clip``, ``GradientPenalty``)."""

    name = "WGAN"

    @staticmethod
    def f(t):
        return np.asarray(t, dtype=float)

    @staticmethod
    def df(t):
        return np.ones_like(np.asarray(t, dtype=float))

    @staticmethod
    def d2f(t):
        return np.zeros_like(np.asarray(t, dtype=float))


OBJECTIVES = {cls.name: cls for cls in (GAN, NSGAN, WGAN)}


# ---------------------------------------------------------------------------------------------
# Regularisers: a term added to the field, or a projection after each discriminator step


class Regulariser:
    """No regularisation. Subclasses change the discriminator's direction (``psi_term``, the
    gradient of -R(psi)), the whole field (``Consensus``), the data (``InstanceNoise``) or project
    psi after each discriminator step (``Clip``)."""

    name = "none"
    noise_std = 0.0

    def psi_term(self, theta, psi):
        return 0.0

    def project(self, psi):
        return psi


class R1(Regulariser):
    """R1 = gamma/2 E_{p_D}[|d/dx D_psi(x)|^2] = gamma/2 psi^2 (eq. 9): the discriminator's
    direction gets -gamma psi. Jacobian eigenvalues at 0: -gamma/2 +- sqrt(gamma^2/4 - f'(0)^2)."""

    name = "R1"

    def __init__(self, gamma: float):
        self.gamma = float(gamma)

    def psi_term(self, theta, psi):
        return -self.gamma * psi


class R2(R1):
    """R2 = gamma/2 E_{p_theta}[|d/dx D_psi(x)|^2] (eq. 10): the penalty on generated points.
    D_psi has slope psi everywhere, so in the Dirac-GAN it equals R1 (eq. 9 vs 10)."""

    name = "R2"


class GradientPenalty(Regulariser):
    """WGAN-GP (Gulrajani et al. 2017): gamma/2 (|d/dx D_psi(x)| - g0)^2 = gamma/2 (|psi| - g0)^2.
    It pulls |psi| to g0 instead of psi to 0, so (0, 0) is no longer a rest point of psi, and the
    penalty has no derivative at psi = 0 (Mescheder et al. 2018, section 3.2)."""

    name = "WGAN-GP"

    def __init__(self, gamma: float, g0: float = 1.0):
        self.gamma, self.g0 = float(gamma), float(g0)

    def psi_term(self, theta, psi):
        return -self.gamma * (np.abs(psi) - self.g0) * np.sign(psi)


class Clip(Regulariser):
    """WGAN weight clipping (Arjovsky et al. 2017): psi <- clip(psi, -c, c) after each
    discriminator step. Inside the box it changes nothing, so the local analysis is the WGAN's."""

    name = "clipping"

    def __init__(self, c: float):
        self.c = float(c)

    def project(self, psi):
        return np.clip(psi, -self.c, self.c) if isinstance(psi, np.ndarray) else min(max(psi, -self.c), self.c)


class InstanceNoise(Regulariser):
    """Gaussian noise of std sigma added to real and generated points (Sønderby et al. 2017):
    L = E_eps[f(psi (theta + eps))] + E_eps[f(-psi eps)]. Jacobian eigenvalues at 0:
    f''(0) sigma^2 +- sqrt(f''(0)^2 sigma^4 - f'(0)^2) (Mescheder et al. 2018, section 3)."""

    name = "instance noise"

    def __init__(self, sigma: float):
        self.noise_std = float(sigma)


class Consensus(Regulariser):
    """Consensus optimisation (Mescheder et al. 2017): follow v - gamma grad(1/2 |v|^2) = v - gamma J^T v.
    At the equilibrium its Jacobian is J - gamma J^T J."""

    name = "consensus"

    def __init__(self, gamma: float):
        self.gamma = float(gamma)


# ---------------------------------------------------------------------------------------------
# The field


# Gauss-Hermite nodes for E_eps[g(eps)], eps ~ N(0, 1): exact for polynomials of degree < 40
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(20)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def _noise(reg: Regulariser):
    """Points and weights of E over eps ~ N(0, sigma^2): one point at 0 without noise."""
    if reg.noise_std > 0:
        return reg.noise_std * _NODES, _WEIGHTS
    return np.zeros(1), np.ones(1)


def _broadcast(theta, psi):
    theta, psi = np.broadcast_arrays(np.asarray(theta, dtype=float), np.asarray(psi, dtype=float))
    return theta, psi


def base_field(objective, theta, psi, reg: Regulariser = Regulariser()):
    """(v_theta, v_psi) of the objective, with instance noise if ``reg`` has some, without
    penalties. theta, psi: arrays of any (common) shape; returns two arrays of that shape."""
    if reg.noise_std == 0:  # the common case, kept cheap for the widget: x = theta, no real-data term
        return objective.generator_direction(theta, psi), theta * objective.df(psi * theta)
    theta, psi = _broadcast(theta, psi)
    eps, weight = _noise(reg)
    x = theta[..., None] + eps  # generated points, (..., nodes)
    y = eps                     # real points (data at 0 plus noise)
    p = psi[..., None]
    v_theta = (objective.generator_direction(x, p) * weight).sum(-1)
    # D ascends L: d/dpsi f(psi x) = x f'(psi x) on generated points, d/dpsi f(-psi y) = -y f'(-psi y) on real ones
    v_psi = ((x * objective.df(p * x) - y * objective.df(-p * y)) * weight).sum(-1)
    return v_theta, v_psi


def _jacobian_entries(objective, theta, psi, reg: Regulariser):
    """d v_theta/d theta, d v_theta/d psi, d v_psi/d theta, d v_psi/d psi of ``base_field``."""
    if reg.noise_std == 0:
        g_x, g_psi = objective.generator_direction_derivatives(theta, psi)
        t = psi * theta
        return g_x, g_psi, objective.df(t) + t * objective.d2f(t), theta**2 * objective.d2f(t)
    theta, psi = _broadcast(theta, psi)
    eps, weight = _noise(reg)
    x, y, p = theta[..., None] + eps, eps, psi[..., None]
    g_x, g_psi = objective.generator_direction_derivatives(x, p)
    t = p * x
    d_psi_dtheta = objective.df(t) + t * objective.d2f(t)
    d_psi_dpsi = x**2 * objective.d2f(t) + y**2 * objective.d2f(-p * y)
    return tuple((e * weight).sum(-1) for e in (g_x, g_psi, d_psi_dtheta, d_psi_dpsi))


def base_jacobian(objective, theta, psi, reg: Regulariser = Regulariser()):
    """Analytic Jacobian of ``base_field``: an array ``(..., 2, 2)``, rows (v_theta, v_psi),
    columns (d/dtheta, d/dpsi)."""
    theta, psi = _broadcast(theta, psi)
    j00, j01, j10, j11 = _jacobian_entries(objective, theta, psi, reg)
    return np.stack([np.stack([j00, j01], -1), np.stack([j10, j11], -1)], -2)


def field(objective, theta, psi, reg: Regulariser = Regulariser()):
    """The regularised gradient field (v_theta, v_psi) that gradient descent-ascent follows."""
    v_theta, v_psi = base_field(objective, theta, psi, reg)
    if isinstance(reg, Consensus):
        j00, j01, j10, j11 = _jacobian_entries(objective, theta, psi, reg)
        # J^T v = grad of 1/2 |v|^2
        return v_theta - reg.gamma * (j00 * v_theta + j10 * v_psi), v_psi - reg.gamma * (j01 * v_theta + j11 * v_psi)
    return v_theta, v_psi + reg.psi_term(theta, psi)


# ---------------------------------------------------------------------------------------------
# Gradient descent: simultaneous and alternating updates, trajectories, Jacobians


def step(objective, theta, psi, h: float, reg: Regulariser = Regulariser(), mode: str = "simultaneous",
         d_steps: int = 1):
    """One update with step size h (arrays broadcast). mode:

    - "simultaneous": (theta, psi) <- (theta, psi) + h v(theta, psi), d_steps times for psi first
      when d_steps > 1 (the discriminator sees the same theta);
    - "alternating": psi takes d_steps steps, then theta one step using the new psi.
    """
    if mode not in ("simultaneous", "alternating"):
        raise ValueError(f"mode must be 'simultaneous' or 'alternating', got {mode!r}")
    if mode == "simultaneous":
        v_theta, v_psi = field(objective, theta, psi, reg)
        psi_new = reg.project(psi + h * v_psi)
        for _ in range(d_steps - 1):
            psi_new = reg.project(psi_new + h * field(objective, theta, psi_new, reg)[1])
        return theta + h * v_theta, psi_new
    for _ in range(d_steps):
        psi = reg.project(psi + h * field(objective, theta, psi, reg)[1])
    return theta + h * field(objective, theta, psi, reg)[0], psi


def trajectory(objective, theta0: float, psi0: float, h: float, steps: int, reg: Regulariser = Regulariser(),
               mode: str = "simultaneous", d_steps: int = 1, limit: float = 1e6) -> np.ndarray:
    """The points visited, ``(steps + 1, 2)`` as (theta, psi) rows. mode "continuous" integrates
    the ODE d/dt (theta, psi) = v with classic Runge-Kutta steps of length h (so time = h * step).
    Stops early (the rest NaN) if the point leaves |.| < limit."""
    out = np.full((steps + 1, 2), np.nan)
    theta, psi = float(theta0), float(reg.project(float(psi0)))  # a clipped D starts inside its box
    out[0] = theta, psi
    for i in range(1, steps + 1):
        if mode == "continuous":
            theta, psi = _rk4(objective, theta, psi, h, reg)
            psi = float(reg.project(psi))
        else:
            theta, psi = (float(a) for a in step(objective, theta, psi, h, reg, mode, d_steps))
        if not (abs(theta) < limit and abs(psi) < limit):
            break
        out[i] = theta, psi
    return out


def _rk4(objective, theta, psi, h, reg):
    def v(a, b):
        va, vb = field(objective, a, b, reg)
        return float(va), float(vb)

    k1 = v(theta, psi)
    k2 = v(theta + h / 2 * k1[0], psi + h / 2 * k1[1])
    k3 = v(theta + h / 2 * k2[0], psi + h / 2 * k2[1])
    k4 = v(theta + h * k3[0], psi + h * k3[1])
    return (theta + h / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0]),
            psi + h / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1]))


def distance(path: np.ndarray) -> np.ndarray:
    """Distance of each point of a trajectory ``(n, 2)`` to the equilibrium (0, 0): ``(n,)``."""
    return np.hypot(path[:, 0], path[:, 1])


def update_jacobian(objective, h: float | None = None, reg: Regulariser = Regulariser(), mode: str = "simultaneous",
                    d_steps: int = 1, at=(0.0, 0.0), eps: float = 1e-6) -> np.ndarray:
    """Jacobian ``(2, 2)`` of one update at ``at``, by central finite differences (float64).

    mode "continuous" (h ignored): the Jacobian of the field v itself; its eigenvalues need a
    negative real part for local convergence. Otherwise: of the map (theta, psi) -> step(...);
    its eigenvalues need modulus < 1 (Mescheder et al. 2018, Propositions 1 and 2).
    """
    if isinstance(reg, GradientPenalty) and at[1] == 0:
        raise ValueError("WGAN-GP's penalty gamma/2 (|psi| - g0)^2 has no derivative at psi = 0, so the update "
                         "has no Jacobian at the equilibrium: judge it by its trajectory instead.")

    def update(theta, psi):
        if mode == "continuous":
            return np.array(field(objective, theta, psi, reg))
        return np.array(step(objective, theta, psi, h, reg, mode, d_steps))

    columns = []
    for direction in np.eye(2):
        plus = update(at[0] + eps * direction[0], at[1] + eps * direction[1])
        minus = update(at[0] - eps * direction[0], at[1] - eps * direction[1])
        columns.append((plus - minus) / (2 * eps))
    return np.stack(columns, axis=1)


def eigenvalues(jacobian: np.ndarray) -> np.ndarray:
    """Eigenvalues of a ``(2, 2)`` Jacobian as a complex array ``(2,)``, sorted by np.sort_complex."""
    return np.sort_complex(np.linalg.eigvals(jacobian).astype(complex))


def spectral_radius(objective, h: float, reg: Regulariser = Regulariser(), mode: str = "simultaneous",
                    d_steps: int = 1) -> float:
    """max |lambda| of the update's Jacobian at (0, 0): below 1, gradient descent converges
    locally (linearly, with that rate); above 1 it moves away."""
    return float(np.abs(eigenvalues(update_jacobian(objective, h, reg, mode, d_steps))).max())


def verdict(path: np.ndarray, tolerance: float = 1e-2) -> str:
    """A one-word summary of a trajectory ``(n, 2)``, comparing its first and last quarters:

    "converges" if it ends within ``tolerance`` of (0, 0); "diverges" if it left the plane or its
    last quarter stays further out than its first quarter ever went (by 5 %); "approaches" if its
    last quarter stays closer in than its first quarter ever came (by 5 %); "circles" otherwise.
    """
    d = distance(path)
    if not np.all(np.isfinite(d)):
        return "diverges"
    if d[-1] < tolerance:
        return "converges"
    quarter = max(1, len(d) // 4)
    early, late = d[:quarter], d[-quarter:]
    if late.min() > 1.05 * early.max():
        return "diverges"
    if late.max() < 0.95 * early.min():
        return "approaches"
    return "circles"


# ---------------------------------------------------------------------------------------------
# Closed forms of the eigenvalues at (0, 0) (Mescheder et al. 2018, sections 2 and 3).
# a = f'(0) (1/2 for the GAN, 1 for the WGAN), b = f''(0) (-1/4, 0), h the step size.
# Each returns a complex array (2,) sorted by np.sort_complex, like ``eigenvalues``.


def _pair(centre, root_of):
    root = np.sqrt(complex(root_of))
    return np.sort_complex(np.array([centre - root, centre + root], dtype=complex))


def eigenvalues_continuous(a: float) -> np.ndarray:
    """The field's Jacobian [[0, -a], [a, 0]]: +-a i, on the imaginary axis."""
    return _pair(0.0, -a**2)


def eigenvalues_simultaneous(a: float, h: float, d_steps: int = 1) -> np.ndarray:
    """I + h J: 1 +- h a i, modulus sqrt(1 + h^2 a^2) > 1 for every h > 0. With
    d_steps discriminator steps from the same theta: 1 +- h a sqrt(d_steps) i, further out."""
    return 1 + h * math.sqrt(d_steps) * eigenvalues_continuous(a)


def jacobian_alternating(a: float, h: float) -> np.ndarray:
    """The ``(2, 2)`` Jacobian at (0, 0) of one alternating update (psi first, then theta with the new psi;
    rows and columns theta, psi) for a field whose Jacobian is [[0, -a], [a, 0]]: psi' = psi + h a theta,
    theta' = theta - h a psi' = (1 - h^2 a^2) theta - h a psi. Its determinant is 1 (notebook 05, Exercise 1)."""
    return np.array([[1 - (h * a) ** 2, -h * a], [h * a, 1.0]])


def eigenvalues_alternating(a: float, h: float, d_steps: int = 1) -> np.ndarray:
    """d_steps discriminator steps then one generator step: with alpha^2 = d_steps h^2 a^2,
    1 - alpha^2 / 2 +- sqrt((1 - alpha^2 / 2)^2 - 1), modulus exactly 1 for alpha <= 2."""
    centre = 1 - d_steps * (h * a) ** 2 / 2
    return _pair(centre, centre**2 - 1)


def eigenvalues_r1(a: float, gamma: float, h: float | None = None) -> np.ndarray:
    """R1 or R2: -gamma/2 +- sqrt(gamma^2/4 - a^2) for the field; with a step size h,
    simultaneous updates: 1 + h times those."""
    lam = _pair(-gamma / 2, gamma**2 / 4 - a**2)
    return lam if h is None else 1 + h * lam


def fastest_r1_gamma(a: float, h: float) -> float:
    """The R1 weight whose simultaneous updates with step ``h`` contract fastest near the
    equilibrium (smallest spectral radius of I + hJ): gamma = 2a, critical damping, for every
    0 < h < 2 / a. Below it |1 + h lambda|^2 = 1 - h gamma + h^2 a^2 falls with gamma; above it the
    eigenvalues are real and the slower one, (-gamma + sqrt(gamma^2 - 4a^2)) / 2, creeps to 0."""
    if not 0 < h < 2 / a:
        raise ValueError(f"step h = {h} outside (0, 2 / a) = (0, {2 / a:g}): no R1 weight converges there")
    return 2.0 * a


def eigenvalues_instance_noise(a: float, b: float, sigma: float, h: float | None = None) -> np.ndarray:
    """Instance noise of std sigma: b sigma^2 +- sqrt(b^2 sigma^4 - a^2); converges
    only where f''(0) = b < 0 (the GAN, not the WGAN)."""
    lam = _pair(b * sigma**2, b**2 * sigma**4 - a**2)
    return lam if h is None else 1 + h * lam


def eigenvalues_consensus(a: float, gamma: float, h: float | None = None) -> np.ndarray:
    """Consensus optimisation: J - gamma J^T J = [[-gamma a^2, -a], [a, -gamma a^2]], eigenvalues
    -gamma a^2 +- a i."""
    lam = -gamma * a**2 + eigenvalues_continuous(a)
    return lam if h is None else 1 + h * lam


# ---------------------------------------------------------------------------------------------
# The same game in PyTorch, to check the hand-written field against autograd


def objective_torch(theta, psi, objective=GAN):
    """L(theta, psi) = f(psi theta) + f(0) for tensors of one shape, point by point (eq. 2)."""
    import torch

    if objective is WGAN:
        f = lambda t: t  # noqa: E731
    else:
        f = lambda t: -torch.nn.functional.softplus(-t)  # noqa: E731  -log(1 + exp(-t)), stable
    return f(psi * theta) + f(torch.zeros_like(theta))


def autograd_field(theta, psi, objective=GAN):
    """(-dL/dtheta, dL/dpsi) by autograd at each point: tensors ``(n,)`` in, two ``(n,)`` out.
    The saturating GAN's and the WGAN's field (the NS-GAN's generator follows another loss)."""
    import torch

    theta = theta.detach().clone().requires_grad_(True)
    psi = psi.detach().clone().requires_grad_(True)
    d_theta, d_psi = torch.autograd.grad(objective_torch(theta, psi, objective).sum(), (theta, psi))
    return -d_theta, d_psi
