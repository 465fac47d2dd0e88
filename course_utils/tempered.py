"""Tempered adversarial networks (Sajjadi, Parascandolo, Mehrjou & Schölkopf, ICML 2018), notebook 07.

A *lens* L sits between the real data and the discriminator: D is trained on {(L(x), 1)} and
{(G(z), 0)}, and the lens is trained to deceive D while staying close to the data,

    L* = argmin_L  -lambda * L_D + sum_i ||L(x_i) - x_i||^2,   (the lecture; ``lens_loss`` averages the sum)

with lambda decayed to 0 so that, in the end, D sees the real data. This module holds the reference
versions of notebook 07's exercises (``lambda_schedule``, ``lens_loss``), the lens networks, the lens's
optimiser step and the buffer that keeps what D was shown; ``adversarial.train_gan`` trains with them
(a recipe with ``lens=True``).
"""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn as nn

from course_utils import gan


def lambda_schedule(t: int, K: int) -> float:
    """The lens's adversarial weight at step ``t``: 1 - sin(t pi / (2 K)) for t < K, then 0.

    Starts at 1 and falls fastest at first (slope -pi / 2K); it reaches 0 at K with zero slope, so
    the lens is withdrawn gently (the form of Sajjadi et al. 2018)."""
    if K <= 0:
        raise ValueError(f"K must be a positive number of steps, got {K}")
    if t < 0:
        raise ValueError(f"t must be a step number >= 0, got {t}")
    return 1.0 - math.sin(t * math.pi / (2 * K)) if t < K else 0.0


def lens_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, lensed: torch.Tensor, x: torch.Tensor,
              lam: float, d_loss: Callable = gan.discriminator_loss) -> torch.Tensor:
    """The lens's objective, -lambda * L_D + (1 / (n d)) sum_i ||L(x_i) - x_i||^2 (the lecture's L*).

    The squared norm is averaged over the n samples and their d coordinates (pixels): a mean
    squared error, so that lambda = 1 weighs D's loss against the reconstruction of one pixel.
    (Summed over the 784 pixels instead, the reconstruction term won so easily that the lens
    moved real digits by 0.1 in norm and did nothing; notebook 07 shows the measurement.)
    real_logits: D's outputs on the lensed batch ``(n,)`` or ``(n, 1)``; fake_logits: on generated
    samples (constant for the lens, kept so the value is D's whole loss); lensed, x: ``(n, ...)``,
    L(x) and x; d_loss(real_logits, fake_logits): D's loss, the mean over the batch (GAN: binary
    cross-entropy; WGAN: ``gan.critic_loss``)."""
    reconstruction = (lensed - x).pow(2).mean()
    return -lam * d_loss(real_logits, fake_logits) + reconstruction


class Lens(nn.Module):
    """L(x) = x + r(x), with the last layer of r zero-initialised: L is exactly the identity at
    the start (Sajjadi et al. start from the identity too), and any change is learned.

    residual: a network from x's shape to x's shape whose last module is a Linear or Conv2d."""

    def __init__(self, residual: nn.Module):
        super().__init__()
        last = [m for m in residual.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
        if not last:
            raise ValueError("the lens's residual network needs a Linear or Conv2d layer")
        nn.init.zeros_(last[-1].weight)
        if last[-1].bias is not None:
            nn.init.zeros_(last[-1].bias)
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.residual(x)


def lens_push(real_logits: torch.Tensor, lam) -> torch.Tensor:
    """How hard the lens's adversarial term pushes each lensed real point: |d(-lam L_D) / d logit| for one point,
    whose share of L_D is -log sigmoid(logit), so lam sigmoid(-logit) = lam (1 - D(L(x))). It fades as D grows
    confident that the point is real, like the minimax generator loss (notebook 07, Exercise 3). Any shape."""
    return lam * torch.sigmoid(-real_logits)


def image_lens(channels: int = 1, width: int = 16, depth: int = 3) -> Lens:
    """A small convolutional lens for ``(N, channels, H, W)`` images: ``depth`` 3x3 convolutions
    (same size, ReLU between them) as the residual."""
    layers, c = [], channels
    for _ in range(depth - 1):
        layers += [nn.Conv2d(c, width, 3, padding=1), nn.ReLU()]
        c = width
    return Lens(nn.Sequential(*layers, nn.Conv2d(c, channels, 3, padding=1)))


def point_lens(dim: int = 2, hidden: int = 64, layers: int = 2) -> Lens:
    """A lens for points ``(N, dim)``: an MLP residual."""
    return Lens(gan.mlp(dim, dim, hidden, layers))


def lens_step(lens: nn.Module, D: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor,
              fake_logits: torch.Tensor, lam: float, d_loss: Callable = gan.discriminator_loss,
              loss_fn: Callable | None = None):
    """One optimiser step of the lens on ``lens_loss`` (or ``loss_fn``, a student's version with its
    signature), against the D just updated (fake_logits, D's outputs on a generated batch, are a
    constant for the lens). x: a real batch ``(n, ...)``.
    Returns (the lens loss, L(x)); D's gradients are cleared, since the backward pass went through D."""
    lensed = lens(x)
    loss = (loss_fn or lens_loss)(D(lensed).view(-1), fake_logits.detach().view(-1), lensed, x, lam, d_loss)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    D.zero_grad(set_to_none=True)
    return loss, lensed


class Views(nn.Module):
    """What D was shown of fixed real samples at each evaluation: ``lensed`` ``(evals, m, ...)``,
    a buffer, so a checkpoint keeps it."""

    def __init__(self, evals: int, watch: torch.Tensor):
        super().__init__()
        self.register_buffer("lensed", torch.zeros(evals, *watch.shape))
