"""The lecture's two VAE / GAN hybrids, trained for notebook 08.

- ``train_codes``: an auto-encoder with a 2-D code whose codes are pushed towards a prior, either by a
  KL term (the VAE) or by a game on codes (the adversarial auto-encoder, Makhzani et al. 2015): a
  discriminator tells prior samples from codes of real images, and the encoder is its generator.
- ``train_vae_gan``: a VAE whose samples from scratch a discriminator judges against real images and
  reconstructions (after Larsen et al. 2016, without their feature-space reconstruction loss).

Neither is a run of the GAN engine (``adversarial.train_gan`` plays a generator of noise against a
discriminator of data); here the generator is an encoder or a VAE's decoder, and the auto-encoder's
own loss is a step of the loop. The GAN losses are ``gan.py``'s, the VAE pieces ``variational.py``'s,
and the runs are cached, resumable and repeatable like every model of the course: every random draw
comes from one generator seeded from ``seed``, and the networks are built from ``seed`` alone.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn

from course_utils import gan, train, variational


def ring_prior(n: int, generator: torch.Generator, k: int = 10, radius: float = 4.0,
               std: float = 0.5) -> torch.Tensor:
    """Samples ``(n, 2)`` of a mixture of k Gaussians on a circle: a prior that a discriminator can
    match from samples alone, and a KL term could not express in closed form."""
    angle = 2 * math.pi * torch.randint(k, (n,), generator=generator).float() / k
    return radius * torch.stack([angle.cos(), angle.sin()], 1) + std * torch.randn(n, 2, generator=generator)


def normal_prior(n: int, generator: torch.Generator) -> torch.Tensor:
    """Samples ``(n, 2)`` of N(0, I)."""
    return torch.randn(n, 2, generator=generator)


PRIORS = {"normal": normal_prior, "ring": ring_prior}


def train_codes(kind: str, prior: str, x_train: torch.Tensor, x_test: torch.Tensor, steps: int, device,
                seed: int = 0, batch: int = 256, name: str = "08_codes"):
    """Train an auto-encoder with a 2-D code on ``x_train`` ``(N, 1, 28, 28)`` in [0, 1] (dynamically
    binarised) and return ``(codes, History)``: the codes ``(len(x_test), 2)`` of ``x_test`` (the
    encoder's means for the VAE), on the CPU.

    kind: ``"aae"`` (adversarial prior matching: each step, a reconstruction step of encoder and
    decoder, a discriminator step on prior samples against codes, an encoder step to fool it;
    Adam 1e-3 for the auto-encoder, 1e-4 with betas (0.5, 0.999) for the game) or ``"vae"`` (the
    KL term to N(0, I) instead of the game). prior: a name of ``PRIORS``. Cached under ``name``.
    """
    if kind not in ("aae", "vae"):
        raise ValueError(f"kind = {kind!r}: use 'aae' (adversarial auto-encoder) or 'vae'.")
    if prior not in PRIORS:
        raise ValueError(f"prior = {prior!r}: use one of {sorted(PRIORS)}.")
    if kind == "vae" and prior != "normal":
        raise ValueError("a VAE's KL term is to N(0, I): use prior='normal' with kind='vae'.")
    sample_prior = PRIORS[prior]
    nets = train.seeded(seed, lambda: nn.ModuleDict({
        "enc": gan.mlp(784, 4 if kind == "vae" else 2, 512, 2), "dec": gan.mlp(2, 784, 512, 2),
        "D": gan.mlp(2, 1, 256, 2)})).to(device)
    generator = torch.Generator().manual_seed(seed)
    x_flat = x_train.flatten(1).to(device)

    def train_fn():
        opt_ae = torch.optim.Adam([*nets["enc"].parameters(), *nets["dec"].parameters()], lr=1e-3)
        opt_d = torch.optim.Adam(nets["D"].parameters(), lr=1e-4, betas=(0.5, 0.999))
        opt_g = torch.optim.Adam(nets["enc"].parameters(), lr=1e-4, betas=(0.5, 0.999))

        def step_fn(step):
            x = variational.binarised_batch(x_flat, batch, generator)
            if kind == "vae":
                mu, logvar = nets["enc"](x).chunk(2, -1)
                code = variational.reparameterize(mu, logvar, torch.randn(mu.shape, generator=generator).to(device))
                kl = variational.gaussian_kl(mu, logvar).sum(-1).mean()
            else:
                code, kl = nets["enc"](x), torch.zeros((), device=device)
            loss = -variational.bernoulli_log_likelihood(x, nets["dec"](code)).mean() + kl
            opt_ae.zero_grad(set_to_none=True)
            loss.backward()
            opt_ae.step()
            if kind == "vae":
                return {"loss": loss}
            # the regularisation phase: D on prior samples (real) against codes (fake), then the encoder
            prior_z = sample_prior(batch, generator).to(device)
            loss_d = gan.discriminator_loss(nets["D"](prior_z).view(-1), nets["D"](nets["enc"](x).detach()).view(-1))
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            loss_g = gan.generator_loss_nonsaturating(nets["D"](nets["enc"](x)).view(-1))
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            return {"loss": loss, "loss_d": loss_d}

        return train.fit(step_fn, steps, log_every=50, desc=f"{kind}, {sample_prior.__name__}", max_value=1e5,
                         optimizers=[opt_ae, opt_d, opt_g], generators=[generator])

    settings = {"kind": kind, "prior": sample_prior.__name__, "steps": steps, "seed": seed}
    if batch != 256:
        settings["batch"] = batch
    history = train.train_or_load(name, nets, train_fn, settings, generators=[generator])
    with torch.no_grad():
        out = nets["enc"](x_test.flatten(1).to(device))
    return (out[:, :2] if kind == "vae" else out).cpu(), history


def train_vae_gan(x_train: torch.Tensor, steps: int, device, adversarial_weight: float = 1.0, seed: int = 0,
                  width: int = 64, batch: int = 128, name: str = "08_vae_gan"):
    """Train a VAE (the course's: latent 32, hidden 512) with one more term, and return ``(vae, History)``
    (the VAE in eval mode).

    Each step: a discriminator (``gan.DCDiscriminator(width)``, Adam 2e-4, betas (0.5, 0.999)) learns
    to tell real images and the VAE's reconstructions (one side) from its samples from scratch
    ``sigmoid(Dec(z))``, z ~ N(0, I) (the other side); then the VAE (Adam 1e-3) minimises its negative
    ELBO plus ``adversarial_weight`` times the non-saturating generator loss of its samples (nats per
    image). x_train: ``(N, 1, 28, 28)`` in [0, 1], dynamically binarised. Cached under ``name``.
    """
    nets = train.seeded(seed, lambda: nn.ModuleDict({"vae": variational.VAE(latent=32, hidden=512, depth=(2, 3)),
                                                     "D": gan.DCDiscriminator(width)})).to(device)
    generator = torch.Generator().manual_seed(seed)
    x_flat = x_train.flatten(1).to(device)

    def as_image(v):
        return v.view(-1, 1, 28, 28)

    def train_fn():
        opt_vae = torch.optim.Adam(nets["vae"].parameters(), lr=1e-3)
        opt_d = torch.optim.Adam(nets["D"].parameters(), lr=2e-4, betas=(0.5, 0.999))

        def step_fn(step):
            x = variational.binarised_batch(x_flat, batch, generator)
            mu, logvar = nets["vae"].encode(x)
            eps = torch.randn(mu.shape, generator=generator).to(device)
            recon = torch.sigmoid(nets["vae"].decode(variational.reparameterize(mu, logvar, eps)))
            fake = torch.sigmoid(nets["vae"].decode(torch.randn(batch, 32, generator=generator).to(device)))
            # D: real and reconstructed images on one side, samples from scratch on the other
            real_like = torch.cat([as_image(x), as_image(recon.detach())])
            loss_d = gan.discriminator_loss(nets["D"](real_like).view(-1), nets["D"](as_image(fake.detach())).view(-1))
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            loss_vae = (nets["vae"].negative_elbo(x, generator=generator)
                        + adversarial_weight * gan.generator_loss_nonsaturating(nets["D"](as_image(fake)).view(-1)))
            opt_vae.zero_grad(set_to_none=True)
            loss_vae.backward()
            opt_vae.step()
            return {"loss": loss_vae, "loss_d": loss_d}

        return train.fit(step_fn, steps, log_every=50, desc="VAE-GAN", max_value=1e5, optimizers=[opt_vae, opt_d],
                         generators=[generator])

    settings = {"steps": steps, "weight": adversarial_weight, "seed": seed, "batch": batch, "width": width}
    history = train.train_or_load(name, nets, train_fn, settings, generators=[generator])
    return nets["vae"].eval(), history
