"""The Dirac-GAN module: every eigenvalue notebook 05 shows, against the paper's closed forms, for
several f'(0), gamma, sigma and h; the field against autograd; trajectories that must (not) converge."""

import numpy as np
import pytest
import torch

from course_utils import checks, dynamics as dy, gan


class ScaledWGAN(dy.WGAN):
    """f(t) = a t: a WGAN with f'(0) = a, to vary f'(0) beyond 1/2 (GAN) and 1 (WGAN)."""

    name = "scaled WGAN"
    a = 2.5

    @classmethod
    def df(cls, t):
        return cls.a * np.ones_like(np.asarray(t, dtype=float))

    @classmethod
    def f(cls, t):
        return cls.a * np.asarray(t, dtype=float)


# (objective, f'(0), f''(0))
OBJECTIVES = [(dy.GAN, 0.5, -0.25), (dy.NSGAN, 0.5, -0.25), (dy.WGAN, 1.0, 0.0), (ScaledWGAN, 2.5, 0.0)]
STEPS = [0.01, 0.1, 0.5]


def numeric(objective, h=None, reg=dy.Regulariser(), mode="simultaneous", d_steps=1):
    return dy.eigenvalues(dy.update_jacobian(objective, h, reg, "continuous" if h is None else mode, d_steps))


def close(got, expected, tol=1e-6):
    np.testing.assert_allclose(got, expected, atol=tol, rtol=0)


@pytest.mark.parametrize("objective,a,b", OBJECTIVES)
def test_unregularised_eigenvalues_match_the_closed_forms(objective, a, b):
    assert objective.df(0.0) == pytest.approx(a) and objective.d2f(0.0) == pytest.approx(b)
    close(numeric(objective), dy.eigenvalues_continuous(a))
    close(numeric(objective), [-a * 1j, a * 1j])
    for h in STEPS:
        sim = numeric(objective, h)
        close(sim, [1 - h * a * 1j, 1 + h * a * 1j])
        assert np.abs(sim).min() > 1  # spirals out, whatever the step
        for d in (1, 3, 5):
            close(numeric(objective, h, mode="simultaneous", d_steps=d), dy.eigenvalues_simultaneous(a, h, d))
            alt = numeric(objective, h, mode="alternating", d_steps=d)
            close(alt, dy.eigenvalues_alternating(a, h, d))
            if np.sqrt(d) * h * a <= 2:
                close(np.abs(alt), [1.0, 1.0])  # on the unit circle: circles for ever


@pytest.mark.parametrize("objective,a,b", OBJECTIVES)
@pytest.mark.parametrize("gamma", [0.1, 0.3, 1.0, 3.0])
def test_r1_and_r2_eigenvalues(objective, a, b, gamma):
    for reg in (dy.R1(gamma), dy.R2(gamma)):
        cont = numeric(objective, reg=reg)
        close(cont, dy.eigenvalues_r1(a, gamma))
        close(cont, np.sort_complex(np.roots([1, gamma, a**2]).astype(complex)))  # det(lambda I - J) = 0
        assert cont.real.max() < 0
        for h in STEPS:
            close(numeric(objective, h, reg), dy.eigenvalues_r1(a, gamma, h))
            close(numeric(objective, h, reg), 1 + h * dy.eigenvalues_r1(a, gamma))


@pytest.mark.parametrize("objective,a,b", OBJECTIVES)
@pytest.mark.parametrize("sigma", [0.3, 1.0, 2.0])
def test_instance_noise_eigenvalues(objective, a, b, sigma):
    reg = dy.InstanceNoise(sigma)
    cont = numeric(objective, reg=reg)
    close(cont, dy.eigenvalues_instance_noise(a, b, sigma))
    if b < 0:
        assert cont.real.max() < 0  # the GAN: locally convergent
    else:
        close(cont.real, [0.0, 0.0])  # the WGAN: noise changes nothing at the equilibrium
    for h in STEPS:
        close(numeric(objective, h, reg), dy.eigenvalues_instance_noise(a, b, sigma, h))


@pytest.mark.parametrize("objective,a,b", OBJECTIVES)
@pytest.mark.parametrize("gamma", [0.1, 0.5, 1.0, 2.0])
def test_consensus_eigenvalues(objective, a, b, gamma):
    reg = dy.Consensus(gamma)
    close(numeric(objective, reg=reg), dy.eigenvalues_consensus(a, gamma), tol=1e-5)
    for h in STEPS:
        close(numeric(objective, h, reg), dy.eigenvalues_consensus(a, gamma, h), tol=1e-5)


@pytest.mark.parametrize("objective,a,b", OBJECTIVES)
def test_clipping_changes_nothing_inside_its_box(objective, a, b):
    for h in STEPS:
        close(numeric(objective, h, dy.Clip(0.1)), dy.eigenvalues_simultaneous(a, h))


def test_alternating_r1_matches_its_two_by_two_product():
    # psi step then theta step, linearised: M = [[1, -h a], [0, 1]] @ [[1, 0], [h a, 1 - h gamma]]
    for a, gamma, h in [(0.5, 0.3, 0.1), (1.0, 1.0, 0.5), (2.5, 0.2, 0.01)]:
        objective = {0.5: dy.GAN, 1.0: dy.WGAN, 2.5: ScaledWGAN}[a]
        M = np.array([[1, -h * a], [0, 1]]) @ np.array([[1, 0], [h * a, 1 - h * gamma]])
        close(numeric(objective, h, dy.R1(gamma), mode="alternating"), dy.eigenvalues(M))


def test_wgan_gp_has_no_jacobian_at_the_equilibrium():
    with pytest.raises(ValueError, match="no derivative at psi = 0"):
        dy.update_jacobian(dy.WGAN, 0.1, dy.GradientPenalty(1.0))


def test_the_field_is_autograds_gradient_of_L():
    g = torch.Generator().manual_seed(0)
    theta, psi = (3 * torch.randn(200, generator=g, dtype=torch.float64) for _ in range(2))
    for objective in (dy.GAN, dy.WGAN):
        v_theta, v_psi = dy.field(objective, theta.numpy(), psi.numpy())
        a_theta, a_psi = dy.autograd_field(theta, psi, objective)
        np.testing.assert_allclose(v_theta, a_theta.numpy(), rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(v_psi, a_psi.numpy(), rtol=1e-8, atol=1e-12)
    # the NS-GAN: D's half is the GAN's, G follows -f(-psi theta)
    v_theta, v_psi = dy.field(dy.NSGAN, theta.numpy(), psi.numpy())
    t = theta.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(torch.nn.functional.softplus(psi * t).sum(), t)  # -f(-psi t) = softplus(psi t)
    np.testing.assert_allclose(v_theta, -grad.numpy(), rtol=1e-8, atol=1e-12)
    close(v_psi, dy.field(dy.GAN, theta.numpy(), psi.numpy())[1], 0)


@pytest.mark.parametrize("objective", [dy.GAN, dy.NSGAN, dy.WGAN])
@pytest.mark.parametrize("reg", [dy.Regulariser(), dy.InstanceNoise(0.8)])
def test_analytic_jacobian_matches_finite_differences(objective, reg):
    rng = np.random.default_rng(0)
    for theta, psi in rng.normal(size=(5, 2)):
        J = dy.base_jacobian(objective, theta, psi, reg)
        eps = 1e-6
        fd = np.stack([(np.array(dy.base_field(objective, theta + eps * e[0], psi + eps * e[1], reg))
                        - np.array(dy.base_field(objective, theta - eps * e[0], psi - eps * e[1], reg))) / (2 * eps)
                       for e in np.eye(2)], axis=1)
        close(J, fd, 1e-7)


def test_instance_noise_field_is_the_expectation_over_the_noise():
    from scipy import integrate, stats

    theta, psi, sigma = 0.7, -1.3, 0.9
    reg = dy.InstanceNoise(sigma)
    v_theta, v_psi = dy.field(dy.GAN, theta, psi, reg)
    density = stats.norm(0, sigma).pdf
    want_theta = integrate.quad(lambda e: -psi * dy.GAN.df(psi * (theta + e)) * density(e), -10, 10)[0]
    want_psi = integrate.quad(lambda e: ((theta + e) * dy.GAN.df(psi * (theta + e)) - e * dy.GAN.df(-psi * e))
                              * density(e), -10, 10)[0]
    assert v_theta == pytest.approx(want_theta, abs=1e-6)
    assert v_psi == pytest.approx(want_psi, abs=1e-6)


# ---------------------------------------------------------------------------------------------
# Trajectories


def final_distance(objective, reg=dy.Regulariser(), mode="simultaneous", h=0.1, steps=4000, d_steps=1):
    return dy.distance(dy.trajectory(objective, 1.0, 1.0, h, steps, reg, mode, d_steps))[-1]


@pytest.mark.parametrize("objective", [dy.GAN, dy.NSGAN, dy.WGAN])
def test_convergent_methods_reach_the_equilibrium(objective):
    for reg in (dy.R1(0.3), dy.R2(1.0), dy.Consensus(0.5)):
        for mode in ("simultaneous", "alternating", "continuous"):
            path = dy.trajectory(objective, 1.0, 1.0, 0.1, 4000, reg, mode)
            assert dy.distance(path)[-1] < 1e-3, (objective.name, reg.name, mode)
            assert dy.verdict(path) == "converges"


def test_instance_noise_converges_for_the_gan_only():
    assert final_distance(dy.GAN, dy.InstanceNoise(0.7), steps=6000) < 1e-3
    path = dy.trajectory(dy.WGAN, 1.0, 1.0, 0.1, 4000, dy.InstanceNoise(0.7), "alternating")
    assert dy.verdict(path) == "circles" and dy.distance(path).min() > 0.5


@pytest.mark.parametrize("objective", [dy.GAN, dy.NSGAN, dy.WGAN])
def test_unregularised_updates_never_converge(objective):
    sim = dy.trajectory(objective, 0.5, 0.5, 0.1, 4000)
    # GAN and WGAN spiral out; the NS-GAN's nonlinearity stops it on a cycle of radius about 0.45
    assert dy.verdict(sim) == ("circles" if objective is dy.NSGAN else "diverges")
    assert np.nanmin(dy.distance(sim)[1000:]) > 0.4
    alt = dy.trajectory(objective, 0.5, 0.5, 0.1, 4000, mode="alternating")
    assert dy.verdict(alt) == ("approaches" if objective is dy.NSGAN else "circles")
    # eigenvalues on the unit circle leave it to the nonlinear terms: the GAN and WGAN keep their
    # distance, the NS-GAN creeps inwards (about 1 / sqrt(steps)), far slower than any linear rate
    assert dy.distance(alt)[1000:].min() > (0.1 if objective is dy.NSGAN else 0.6)
    assert dy.verdict(dy.trajectory(objective, 0.5, 0.5, 0.1, 4000, mode="alternating", d_steps=5)) != "converges"
    cont = dy.trajectory(objective, 0.5, 0.5, 0.05, 4000, mode="continuous")
    d = dy.distance(cont)
    if objective is dy.NSGAN:
        # d/dt |w|^2 / 2 = t (f'(t) - f'(-t)) <= 0 with t = psi theta: a slow, sublinear creep inwards
        assert np.all(np.diff(d) <= 1e-12) and d[-1] > 0.1
    else:
        # d/dt |w|^2 / 2 = theta v_theta + psi v_psi = 0: the ODE circles for ever
        assert abs(d[-1] - d[0]) < 1e-3


@pytest.mark.parametrize("objective", [dy.GAN, dy.WGAN])
def test_clipping_and_wgan_gp_do_not_converge(objective):
    for reg in (dy.Clip(0.1), dy.GradientPenalty(1.0)):
        for mode in ("simultaneous", "alternating"):
            path = dy.trajectory(objective, 1.0, 1.0, 0.1, 4000, reg, mode)
            assert dy.distance(path)[-1000:].min() > 0.05, (objective.name, reg.name, mode)


def test_too_large_a_step_or_gamma_breaks_r1():
    # continuous R1 eigenvalues for the GAN with gamma = 5: -0.05 and -4.95; h * 4.95 > 2 leaves the unit circle
    assert dy.spectral_radius(dy.GAN, 0.3, dy.R1(5.0)) < 1
    assert dy.spectral_radius(dy.GAN, 0.5, dy.R1(5.0)) > 1
    assert dy.verdict(dy.trajectory(dy.GAN, 0.1, 0.1, 0.5, 2000, dy.R1(5.0))) == "diverges"
    assert dy.verdict(dy.trajectory(dy.GAN, 0.1, 0.1, 0.3, 2000, dy.R1(5.0))) == "converges"
    # a weak penalty (gamma < 2 f'(0)) needs h < gamma / f'(0)^2: 0.4 for gamma = 0.1
    assert dy.spectral_radius(dy.GAN, 0.35, dy.R1(0.1)) < 1 < dy.spectral_radius(dy.GAN, 0.45, dy.R1(0.1))


def test_trajectory_stops_when_it_leaves_the_plane():
    path = dy.trajectory(dy.WGAN, 1.0, 1.0, 1.0, 500, limit=100.0)
    assert np.isnan(path[-1]).all() and np.isfinite(path[0]).all()
    assert dy.verdict(path) == "diverges"


def test_bad_mode_is_named():
    with pytest.raises(ValueError, match="simultaneous"):
        dy.step(dy.GAN, 0.0, 0.0, 0.1, mode="sideways")


# ---------------------------------------------------------------------------------------------
# The notebook's checkers accept the reference and reject a wrong answer


def test_field_checker():
    cases = [(torch.linspace(-2, 2, 9, dtype=torch.float64), torch.linspace(1, -1, 9, dtype=torch.float64))]
    reference = lambda theta, psi: dy.autograd_field(theta, psi, dy.GAN)  # noqa: E731

    def right(theta, psi):
        s = torch.sigmoid(-psi * theta)
        return -psi * s, theta * s

    def wrong(theta, psi):  # the generator ascends instead of descending
        s = torch.sigmoid(-psi * theta)
        return psi * s, theta * s

    assert checks.check_exercise("field", right, cases, reference=reference) is right
    with pytest.raises(checks.ExerciseError, match=r"output\[0\]"):
        checks.check_exercise("field", wrong, cases, reference=reference)


def test_eigenvalue_checker_compares_complex_values():
    cases = [(0.5, 0.3, 0.1), (1.0, 3.0, 0.2), (0.5, 1.0, 1.0)]
    right = lambda a, gamma, h: np.sort_complex(1 + h * np.roots([1, gamma, a * a]).astype(complex))  # noqa: E731
    assert checks.check_exercise("r1 eigenvalues", right, cases, reference=dy.eigenvalues_r1) is right
    wrong = lambda a, gamma, h: np.sort_complex(1 + h * np.roots([1, -gamma, a * a]).astype(complex))  # noqa: E731
    with pytest.raises(checks.ExerciseError, match="values differ"):
        checks.check_exercise("r1 eigenvalues", wrong, cases, reference=dy.eigenvalues_r1)
    conjugate = lambda a, gamma, h: np.conj(dy.eigenvalues_r1(a, gamma, h))  # noqa: E731  sorted wrongly
    with pytest.raises(checks.ExerciseError):
        checks.check_exercise("r1 eigenvalues", conjugate, cases[:1], reference=dy.eigenvalues_r1)


def test_r1_term_checker():
    torch.manual_seed(0)
    D = gan.mlp(2, 1, 16, 2)
    cases = [(D, torch.randn(32, 2), 0.1), (D, torch.randn(8, 2), 10.0)]

    def wrong(D, x, gamma):  # forgets the 1/2
        x = x.detach().requires_grad_(True)
        return gamma * gan.r1_penalty(D(x), x)

    assert checks.check_exercise("r1", gan.r1_term, cases, reference=gan.r1_term) is gan.r1_term
    with pytest.raises(checks.ExerciseError):
        checks.check_exercise("r1", wrong, cases, reference=gan.r1_term)
    x = torch.randn(4, 2)
    assert gan.r1_term(D, x, 2.0).requires_grad  # it can be back-propagated into D
    assert not x.requires_grad  # and leaves the caller's batch alone


def test_fastest_r1_gamma_is_critical_damping_and_its_checker_accepts_a_grid_search():
    # the closed form against a brute-force search of the spectral radius of I + hJ
    grid = np.linspace(0.01, 10, 20_000)
    for a, h in [(0.5, 0.3), (0.5, 1.0), (0.5, 3.9), (1.0, 0.1), (1.0, 1.5)]:
        searched = grid[np.argmin([np.abs(dy.eigenvalues_r1(a, g, h)).max() for g in grid])]
        assert dy.fastest_r1_gamma(a, h) == pytest.approx(searched, abs=1e-3)
    with pytest.raises(ValueError, match="no R1 weight converges"):
        dy.fastest_r1_gamma(0.5, 4.0)
    cases = [(0.5, 0.3), (0.5, 1.0), (1.0, 0.1)]

    def by_search(a, h):  # the notebook's way, on a coarser grid: accepted within the check's tolerance
        g = np.linspace(0.01, 10, 20_000)
        return float(g[np.argmin([np.abs(dy.eigenvalues_r1(a, x, h)).max() for x in g])])

    assert checks.check_exercise("fastest_gamma", by_search, cases, atol=0.01) is by_search
    with pytest.raises(checks.ExerciseError, match="fastest_gamma"):  # gamma = a: under-damped, not fastest
        checks.check_exercise("fastest_gamma", lambda a, h: a, cases, atol=0.01)
