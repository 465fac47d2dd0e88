"""GAN pieces shared by notebooks 04-07: the reference losses (the exercises of 04), the R1
penalty, the Wasserstein critic's loss, gradient penalty and weight clipping, small networks for the
2-D toys and for 28 x 28 images, and an exponential moving average of the generator's weights.

Every loss takes the discriminator's *logits* l = log(D / (1 - D)), so D = sigmoid(l): written
with softplus, log D = -softplus(-l) and log(1 - D) = -softplus(l), which never overflow.
The update rule (which loss, how many D steps, which penalty) lives in ``adversarial``, the
course's one training engine, and, written out as the lesson, in notebook 04.
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch import nn

# ---------------------------------------------------------------------------------------------
# Losses (Goodfellow et al. 2014, eq. 1, and the generator's alternatives)


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-(E_data[log D(x)] + E_z[log(1 - D(G(z)))]): D's side of the minimax value, to minimise.

    real_logits, fake_logits: ``(B,)`` or ``(B, 1)``. Returns a scalar.
    """
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss_saturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """E_z[log(1 - D(G(z)))]: G's side of the minimax game, to minimise. Its gradient with respect
    to the logit is -D, which vanishes when D confidently rejects the samples (early training)."""
    return -F.softplus(fake_logits).mean()


def generator_loss_nonsaturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """-E_z[log D(G(z))]: the usual replacement (Goodfellow et al. 2014, section 3), same fixed
    point; gradient with respect to the logit is -(1 - D), largest when D rejects the samples."""
    return F.softplus(-fake_logits).mean()


def generator_loss_logit(fake_logits: torch.Tensor) -> torch.Tensor:
    """E_z[log((1 - D) / D)] = -E_z[logit D(G(z))]: the sum of the two losses above (up to sign
    conventions, the lecture's "-log((1 - D)/D)" with its sign fixed so that G raises D);
    gradient -1 with respect to the logit whatever D says."""
    return -fake_logits.mean()


def r1_penalty(real_logits: torch.Tensor, real_x: torch.Tensor) -> torch.Tensor:
    """R1 = E_data[||grad_x D(x)||^2] on real points (Mescheder et al. 2018, eq. 9, without the
    gamma / 2 factor). real_x must have ``requires_grad=True`` and real_logits be computed from it.
    Returns a scalar that can be back-propagated (``create_graph=True``)."""
    (grad,) = torch.autograd.grad(real_logits.sum(), real_x, create_graph=True)
    return grad.pow(2).reshape(grad.shape[0], -1).sum(1).mean()


def r1_term(D: nn.Module, x: torch.Tensor, gamma: float) -> torch.Tensor:
    """gamma/2 E_data[||grad_x D(x)||^2] for a real batch x (Mescheder et al. 2018, eq. 9), ready
    to add to D's loss: D: a module returning logits; x: ``(B, ...)`` real points (not modified).
    The reference for notebook 05's exercise; costs one more forward pass of D on x."""
    x = x.detach().requires_grad_(True)
    return gamma / 2 * r1_penalty(D(x), x)


# ---------------------------------------------------------------------------------------------
# Wasserstein GANs (Arjovsky, Chintala & Bottou 2017; Gulrajani et al. 2017). The critic f outputs
# unbounded scores, not logits: it maximises E_data[f(x)] - E_z[f(G(z))], which for a 1-Lipschitz
# f estimates W1(P_r, P_g) (Kantorovich-Rubinstein duality); the generator minimises -E_z[f(G(z))].


def critic_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """E_z[f(G(z))] - E_data[f(x)]: the critic's loss, to minimise (the negated W1 estimate).
    real_scores, fake_scores: ``(B,)`` or ``(B, 1)``. Returns a scalar."""
    return fake_scores.mean() - real_scores.mean()


def generator_loss_critic(fake_scores: torch.Tensor) -> torch.Tensor:
    """-E_z[f(G(z))]: the WGAN generator's loss (Arjovsky et al. 2017, Algorithm 1)."""
    return -fake_scores.mean()


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor,
                     generator: torch.Generator | None = None,
                     centre: float = 1.0, eps: torch.Tensor | None = None, one_sided: bool = False) -> torch.Tensor:
    """E_xhat[(||grad_x f(xhat)||_2 - centre)^2] at xhat = eps x + (1 - eps) x_fake, eps ~ U[0, 1]
    per sample (Gulrajani et al. 2017, eq. 3, without the lambda factor). real, fake: ``(B, ...)``
    of one shape (fake is detached: the penalty trains the critic only). eps: ``(B,)`` mixing
    weights to use instead of drawing them (from ``generator``). one_sided: penalise only norms
    above ``centre``, E[max(0, ||grad|| - centre)^2] (Petzka et al. 2018, WGAN-LP). Returns a
    scalar that can be back-propagated into the critic (``create_graph=True``)."""
    if real.shape != fake.shape:
        raise ValueError(f"real and fake batches must have one shape, got {tuple(real.shape)} and {tuple(fake.shape)}")
    shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    if eps is None:
        eps = torch.rand(shape, generator=generator)
    eps = eps.reshape(shape).to(real.device, real.dtype)
    xhat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(xhat).sum(), xhat, create_graph=True)
    excess = grad.flatten(1).norm(dim=1) - centre
    return (excess.clamp(min=0) if one_sided else excess).pow(2).mean()


@torch.no_grad()
def gradient_penalty_fd(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, eps: torch.Tensor,
                        centre: float = 1.0, h: float = 1e-6) -> torch.Tensor:
    """The same penalty with the critic's input gradient taken by central finite differences,
    (f(xhat + h e_i) - f(xhat - h e_i)) / 2h for every coordinate i: an independent reference
    for checking ``gradient_penalty`` (no autograd, no graph). Use a float64 critic and small
    inputs: it costs 2 x (numbers per sample) critic calls. eps: ``(B,)``. Returns a scalar."""
    eps = eps.reshape((real.shape[0],) + (1,) * (real.dim() - 1)).to(real.dtype)
    xhat = eps * real + (1 - eps) * fake
    flat = xhat.flatten(1)
    grad = torch.zeros_like(flat)
    for i in range(flat.shape[1]):
        step = torch.zeros_like(flat)
        step[:, i] = h
        up, down = critic((flat + step).view_as(xhat)), critic((flat - step).view_as(xhat))
        grad[:, i] = (up - down).reshape(-1) / (2 * h)
    return (grad.norm(dim=1) - centre).pow(2).mean()


@torch.no_grad()
def clip_weights(critic: nn.Module, c: float) -> None:
    """WGAN weight clipping: every parameter of the critic into [-c, c], in place (Algorithm 1)."""
    for p in critic.parameters():
        p.clamp_(-c, c)


# ---------------------------------------------------------------------------------------------
# Networks


def mlp(n_in: int, n_out: int, hidden: int = 256, layers: int = 3) -> nn.Sequential:
    """``layers`` hidden ReLU layers of width ``hidden``: the toy experiments' G and D."""
    sizes = [n_in] + [hidden] * layers
    blocks = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        blocks += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*blocks, nn.Linear(sizes[-1], n_out))


class DCGenerator(nn.Module):
    """DCGAN-style generator for 28 x 28 images (Radford et al. 2016, scaled down).

    z ``(B, latent)`` -> linear to ``(B, 2w, 7, 7)`` -> BN, ReLU -> transposed conv to 14 x 14 (w)
    -> BN, ReLU -> transposed conv to 28 x 28 -> sigmoid: images ``(B, channels, 28, 28)`` in (0, 1)
    (channels = 3 for stacked MNIST).
    """

    def __init__(self, latent: int = 64, width: int = 64, channels: int = 1):
        super().__init__()
        self.latent = latent
        self.project = nn.Sequential(nn.Linear(latent, 2 * width * 49, bias=False), nn.BatchNorm1d(2 * width * 49),
                                     nn.ReLU())
        self.body = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
            nn.ConvTranspose2d(width, channels, 4, stride=2, padding=1),
        )
        self.width = width

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.project(z).view(z.shape[0], 2 * self.width, 7, 7)
        return torch.sigmoid(self.body(h))


class DCDiscriminator(nn.Module):
    """DCGAN-style discriminator: images ``(B, channels, 28, 28)`` -> logits ``(B,)``.

    Two strided 4 x 4 convolutions (w, 2w channels) with LeakyReLU(0.2), then a linear layer.
    No batch norm, so that penalties on input gradients (R1, WGAN-GP) stay per-sample.
    """

    def __init__(self, width: int = 64, channels: int = 1):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(2 * width * 49, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).squeeze(1)


class EMA:
    """Exponential moving average of a model's parameters (and copied buffers), for sampling.

    ``ema.update()`` after each optimiser step; ``ema.model`` is the averaged copy (eval mode).
    theta_ema <- beta * theta_ema + (1 - beta) * theta (Yazıcı et al. 2019).
    average: an existing module of the same architecture to average into (e.g. one that is saved
    with the run); by default a copy of ``model``.
    """

    def __init__(self, model: nn.Module, beta: float = 0.999, average: nn.Module | None = None):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"beta must be in [0, 1), got {beta}")
        self.beta = beta
        self.source = model
        self.model = (copy.deepcopy(model) if average is None else average).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self) -> None:
        for avg, new in zip(self.model.parameters(), self.source.parameters()):
            avg.lerp_(new, 1.0 - self.beta)
        for avg, new in zip(self.model.buffers(), self.source.buffers()):
            avg.copy_(new)


def optimal_discriminator(p_r: torch.Tensor, p_g: torch.Tensor) -> torch.Tensor:
    """D*(x) = p_r(x) / (p_r(x) + p_g(x)) (Goodfellow et al. 2014, Proposition 1), from the two
    densities evaluated at the same points (any shape). Where both vanish D* is undefined; 1/2 is
    returned there (no sample ever lands there, so any value is optimal)."""
    total = p_r + p_g
    return torch.where(total > 0, p_r / total.clamp_min(torch.finfo(total.dtype).tiny), torch.full_like(total, 0.5))


def dropped_mode_divergences(w: torch.Tensor) -> torch.Tensor:
    """What a generator pays for dropping a mode that holds the mass ``w`` of the data (modes with
    disjoint supports; the generator keeps the other modes' shapes, renormalised by 1 / (1 - w)).

    Returns ``(..., 2)``: reverse KL(p_g || p_r) = -log(1 - w), and JS(p_r, p_g) =
    1/2 [w log 2 + (1 - w) log(2 (1 - w) / (2 - w)) + log(2 / (2 - w))], for ``w`` of any shape in [0, 1).
    The forward KL(p_r || p_g) is infinite (p_g = 0 where the dropped mode has mass)."""
    w = torch.as_tensor(w)
    reverse_kl = -torch.log1p(-w)
    js = 0.5 * (w * math.log(2) + (1 - w) * torch.log(2 * (1 - w) / (2 - w)) + torch.log(2 / (2 - w)))
    return torch.stack([reverse_kl, js], dim=-1)


def js_estimate(loss_d: torch.Tensor) -> torch.Tensor:
    """The Jensen-Shannon divergence a discriminator's loss implies: loss_D = -V(D, G) (``discriminator_loss``,
    means over the real and the generated batch), and V(D*, G) = 2 JS - log 4 at the optimal D*, so
    JS = log 2 - loss_D / 2 (a lower bound for any other D; notebook 06, Exercise 1). Any shape."""
    return math.log(2) - loss_d / 2
