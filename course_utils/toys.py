"""Two-dimensional Gaussian mixtures for GAN experiments, and the mode / quality counter.

The two standard mode-collapse benchmarks (Metz et al. 2017, Unrolled GAN; Srivastava et al. 2017,
VEEGAN, section 5.1; Lin et al. 2018, PacGAN):

- ``ring(8)``: 8 Gaussians with means evenly spaced on a circle of radius 2;
- ``grid(25)``: 25 Gaussians with means on the grid {-4, -2, 0, 2, 4}^2;

each with standard deviation ``sigma`` (0.05 here) and equal weights. ``mode_report`` scores
2,500 generated points the way VEEGAN does: a point is *high quality* when it lies within 3
``sigma`` of its nearest mean, and a mode is *captured* when it is the nearest mean of at least
``min_count`` high-quality points (VEEGAN counts one point; PacGAN asks for 20 of 2,500).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class Mixture:
    """An equal-weight mixture of isotropic Gaussians. means: ``(K, 2)``; sigma: their std."""

    name: str
    means: torch.Tensor
    sigma: float

    @property
    def n_modes(self) -> int:
        return self.means.shape[0]

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` points ``(n, 2)`` float32: a uniformly chosen mode plus N(0, sigma^2 I) noise."""
        k = torch.randint(self.n_modes, (n,), generator=generator)
        return self.means[k] + self.sigma * torch.randn(n, 2, generator=generator)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) for points ``(n, 2)`` -> ``(n,)`` (exact, used for density plots and checks)."""
        sq = torch.cdist(x.to(self.means.dtype), self.means).pow(2)  # (n, K)
        log_normal = -sq / (2 * self.sigma**2) - math.log(2 * math.pi * self.sigma**2)
        return torch.logsumexp(log_normal, dim=1) - math.log(self.n_modes)


def ring(n_modes: int = 8, radius: float = 2.0, sigma: float = 0.05) -> Mixture:
    """``n_modes`` Gaussians evenly spaced on a circle of ``radius`` (the first on the x-axis)."""
    angle = 2 * math.pi * torch.arange(n_modes, dtype=torch.float32) / n_modes
    means = radius * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    return Mixture(f"ring of {n_modes}", means, sigma)


def grid(n_modes: int = 25, spacing: float = 2.0, sigma: float = 0.05) -> Mixture:
    """``n_modes`` (a square number) Gaussians on a centred square grid with ``spacing``."""
    side = math.isqrt(n_modes)
    if side * side != n_modes:
        raise ValueError(f"grid needs a square number of modes (9, 16, 25, ...), got {n_modes}")
    ticks = spacing * (torch.arange(side, dtype=torch.float32) - (side - 1) / 2)
    gx, gy = torch.meshgrid(ticks, ticks, indexing="ij")
    return Mixture(f"grid of {n_modes}", torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1), sigma)


def segments(theta, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Two parallel segments with disjoint supports (Arjovsky et al. 2017, Example 1): ``n`` real
    points ``(0, y)`` and ``n`` generated points ``(theta, y)``, ``y ~ U[0, 1]``, each ``(n, 2)``.

    theta: a float or a 0-d tensor (with requires_grad, to differentiate through the samples)."""
    real = segment_points(n, generator)
    fake = torch.cat([torch.zeros_like(real[:, :1]) + theta, real[:, 1:]], 1)
    return real, fake


class SegmentGenerator(nn.Module):
    """The generator of the two segments, as a module the GAN engine can train: one parameter
    ``theta``; noise ``z`` ``(n, latent >= 1)`` ~ N(0, 1) becomes the point ``(theta, Phi(z_1))``,
    uniform on the segment {theta} x [0, 1] (Phi: the standard normal CDF). Returns ``(n, 2)``."""

    def __init__(self, theta: float = 1.0):
        super().__init__()
        self.theta = nn.Parameter(torch.tensor(float(theta)))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        y = 0.5 * (1 + torch.erf(z[:, :1] / math.sqrt(2)))
        return torch.cat([self.theta.expand(len(z), 1), y], 1)


def segment_points(n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """``n`` real points ``(0, y)``, ``y ~ U[0, 1]``: ``(n, 2)`` (the real segment of ``segments``)."""
    y = torch.rand(n, 1, generator=generator)
    return torch.cat([torch.zeros_like(y), y], 1)


def expected_modes(n_modes: int, n: int) -> float:
    """Expected number of distinct modes among ``n`` samples of a sampler that picks each of ``n_modes`` modes
    with probability 1 / n_modes: by linearity of expectation, n_modes (1 - (1 - 1 / n_modes)^n) (a mode is
    missed by all n samples with probability (1 - 1 / n_modes)^n; notebook 04, Exercise 4)."""
    return n_modes * (1.0 - (1.0 - 1.0 / n_modes) ** n)


def mode_report(samples: torch.Tensor, mixture: Mixture, n_sigma: float = 3.0, min_count: int = 1) -> dict:
    """Score generated points against the mixture (VEEGAN's protocol, see the module docstring).

    samples: ``(n, 2)``. Returns a dict: ``modes`` (number captured), ``high_quality`` (share of
    points within ``n_sigma`` sigma of their nearest mean, in [0, 1]), ``counts`` (``(K,)`` high-
    quality points per mode) and ``kl`` (KL divergence, in nats, from the histogram of high-
    quality points over the modes to the uniform one; 0 when every mode gets the same share,
    log K when all fall on one mode; ``nan`` when there is no high-quality point).
    """
    if samples.dim() != 2 or samples.shape[1] != 2:
        raise ValueError(f"samples must have shape (n, 2), got {tuple(samples.shape)}")
    samples = samples.detach().cpu().float()
    dist = torch.cdist(samples, mixture.means)  # (n, K)
    nearest_dist, nearest = dist.min(dim=1)
    good = nearest_dist <= n_sigma * mixture.sigma
    counts = torch.bincount(nearest[good], minlength=mixture.n_modes)
    total = int(counts.sum())
    if total:
        share = counts.double() / total
        nonzero = share > 0
        kl = float((share[nonzero] * (share[nonzero] * mixture.n_modes).log()).sum())
    else:
        kl = float("nan")
    return {
        "modes": int((counts >= min_count).sum()),
        "high_quality": float(good.double().mean()) if len(samples) else float("nan"),
        "counts": counts,
        "kl": kl,
    }
