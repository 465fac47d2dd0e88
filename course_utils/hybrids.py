"""The lecture's two VAE / GAN hybrids, trained for notebook 08.

- ``train_codes``: an auto-encoder with a 2-D code whose codes are pushed towards a prior (``PRIORS``:
  N(0, I) or Makhzani et al.'s mixture of ten Gaussian arms), either by a KL term (the VAE; by
  Monte Carlo, ``mc_kl``, for the mixture) or by a game on codes (the adversarial auto-encoder,
  Makhzani et al. 2015): a discriminator tells prior samples from codes of real images, and the
  encoder is its generator. ``code_report`` measures how closely codes follow their prior.
- ``train_vae_gan``: a VAE whose samples from scratch a discriminator judges against real images,
  with its reconstructions labelled real (the lecture's picture) or fake (Larsen et al. 2016,
  without their feature-space reconstruction loss); with weight 0, the same VAE without it.

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

from course_utils import gan, metrics, train, variational


class NormalPrior:
    """N(0, I) on 2-D codes: ``sample(n, generator)`` ``(n, 2)`` and ``log_prob(z)`` ``(..., 2) -> (...)``."""

    name = "normal"

    def settings(self) -> dict:
        return {"name": self.name}

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return torch.randn(n, 2, generator=generator)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return -0.5 * (z * z).sum(-1) - math.log(2 * math.pi)

    def nearest(self, z: torch.Tensor) -> torch.Tensor:
        raise ValueError("N(0, I) has one component: component shares are for the mixture prior.")


class ArmsPrior:
    """Makhzani et al.'s (2015, Figure 2b) mixture of k 2-D Gaussians, equal weights, one per arm
    of a star: component j sits at distance ``shift`` along the angle 2 pi j / k, with standard
    deviation ``radial_sd`` along its arm and ``tangential_sd`` across it. The course's arms are
    wider than the thin ones of the figure (0.3 / 3 across against about 0.05 / 1.4), so that a
    3,000-step run can fill them; still ten separate arms (36 degrees apart). A discriminator can
    match it from samples alone; a VAE's KL term to it has no closed form (Monte Carlo, notebook 08).
    """

    name = "mixture"

    def __init__(self, k: int = 10, shift: float = 3.0, radial_sd: float = 0.8, tangential_sd: float = 0.3):
        self.k, self.shift, self.radial_sd, self.tangential_sd = k, shift, radial_sd, tangential_sd
        angle = 2 * math.pi * torch.arange(k, dtype=torch.float64) / k
        self.directions = torch.stack([angle.cos(), angle.sin()], 1)  # (k, 2) unit vectors along the arms

    def settings(self) -> dict:
        """What defines the prior (a trained model's settings name it)."""
        return {"name": self.name, "k": self.k, "shift": self.shift, "radial_sd": self.radial_sd,
                "tangential_sd": self.tangential_sd}

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``(n, 2)`` samples (float32)."""
        j = torch.randint(self.k, (n,), generator=generator)
        along = self.shift + self.radial_sd * torch.randn(n, generator=generator)
        across = self.tangential_sd * torch.randn(n, generator=generator)
        e = self.directions[j].float()
        return along[:, None] * e + across[:, None] * torch.stack([-e[:, 1], e[:, 0]], 1)

    def component_log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """``(..., 2) -> (..., k)``: log N(z; component j) for every j."""
        e = self.directions.to(z)
        along = z @ e.T - self.shift  # (..., k): coordinate along arm j, from its centre
        across = z @ torch.stack([-e[:, 1], e[:, 0]], 1).T  # (..., k): coordinate across it
        return (-0.5 * ((along / self.radial_sd) ** 2 + (across / self.tangential_sd) ** 2)
                - math.log(2 * math.pi * self.radial_sd * self.tangential_sd))

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """``(..., 2) -> (...)``: log of the mixture density, log-sum-exp over components (stable)."""
        return torch.logsumexp(self.component_log_prob(z), -1) - math.log(self.k)

    def nearest(self, z: torch.Tensor) -> torch.Tensor:
        """``(N, 2) -> (N,)``: the most likely component of each code."""
        return self.component_log_prob(z).argmax(-1)


PRIORS = {"normal": NormalPrior(), "mixture": ArmsPrior()}
CODE_STEPS = 3000  # steps of every model of notebook 08's figure (batch 256: 12.8 passes over MNIST)
CODE_TEST = 5000  # held-out test digits whose codes are drawn and tested against the prior
# train_codes' networks and auto-encoder optimiser (encoder 784-512-512-2, its mirror, D 2-256-256-1;
# Adam 1e-3 for the auto-encoder, the game's betas): every value is in each checkpoint's settings
CODE_NETS = {"hidden": 512, "layers": 2, "d_hidden": 256, "d_layers": 2, "ae_lr": 1e-3, "betas": (0.5, 0.999)}
# notebook 08's VAE-GAN and its equal-budget VAE (benchmarks/vae_gan.py): steps, images per step,
# width of the discriminator (gan.DCDiscriminator); the VAE's sizes and the two optimisers' rates
VAE_GAN = {"steps": 2000, "batch": 128, "width": 64, "latent": 32, "hidden": 512, "depth": (2, 3), "vae_lr": 1e-3,
           "d_lr": 2e-4, "betas": (0.5, 0.999)}


def percentile_grid(n: int = 10) -> torch.Tensor:
    """``(n * n, 2)`` codes at the Gaussian percentiles (k + 0.5) / n, k = 0 .. n - 1, of each axis
    (Makhzani et al.'s Figure 2e), row by row from the top left: x grows along a row, y falls down
    the rows, so decoded images tile like the plane they come from."""
    axis = torch.special.ndtri((torch.arange(n, dtype=torch.float64) + 0.5) / n).float()
    return torch.stack(torch.meshgrid(axis, axis.flip(0), indexing="xy"), -1).reshape(-1, 2)


def component_shares(prior: ArmsPrior, z: torch.Tensor) -> torch.Tensor:
    """``(k,)``: the share of codes ``z`` ``(N, 2)`` whose most likely component is each of the
    prior's; 1 / k each when the codes use the mixture evenly."""
    return torch.bincount(prior.nearest(z), minlength=prior.k).double() / len(z)


def code_report(codes: torch.Tensor, prior: str, seed: int = 5) -> dict:
    """How closely codes ``(N, 2)`` follow the prior named ``prior``: ``accuracy``, the held-out
    accuracy of a two-sample classifier telling them from N prior samples (0.5: indistinguishable;
    ``metrics.two_sample_accuracy``); ``prior vs prior``, the same test on two prior samples (what
    chance alone gives); ``sd ratio``, the codes' standard deviation over the prior's (averaged over
    the two axes); for the mixture, ``shares`` (``component_shares``) and their extremes. Computed once
    per output folder for the same codes (keyed by their bytes), then loaded: a second run trains no
    classifier again."""
    settings = {"codes": metrics.tensor_digest(codes), "prior": prior, "seed": seed}
    return train.compute_or_load("code_report", lambda: _code_report(codes, prior, seed), settings, verbose=False)


def _code_report(codes: torch.Tensor, prior: str, seed: int) -> dict:
    p_z = PRIORS[prior]
    g = torch.Generator().manual_seed(seed)
    z, z_other = p_z.sample(len(codes), g), p_z.sample(len(codes), g)
    report = {"accuracy": metrics.two_sample_accuracy(codes, z),
              "prior vs prior": metrics.two_sample_accuracy(z_other, z),
              "sd ratio": float(codes.std(0).mean() / z.std(0).mean())}
    if prior == "mixture":
        shares = component_shares(p_z, codes)
        report.update(shares=shares.tolist(), **{"smallest share": float(shares.min()),
                                                 "largest share": float(shares.max())})
    return report


def mc_kl(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, log_prior) -> torch.Tensor:
    """One-sample Monte Carlo estimate of KL(q(z|x) || p(z)) per image, ``(B,)``: log q(z|x) - log p(z)
    at z ``(B, D)`` drawn from q = N(mu, diag exp(logvar)) by reparameterisation (so its gradient
    flows to mu and logvar). Unbiased; for N(0, I) its mean is ``variational.gaussian_kl``."""
    return variational.gaussian_log_prob(z, mu, logvar).sum(-1) - log_prior(z)


def train_codes(kind: str, prior: str, x_train: torch.Tensor, x_test: torch.Tensor, steps: int, device,
                seed: int = 0, batch: int = 256, game_lr: float = 1e-3, d_steps: int = 2, r1_gamma: float = 0.0,
                decay: bool = True, adv_weight: float | None = 30.0, name: str = "08_codes"):
    """Train an auto-encoder with a 2-D code on ``x_train`` ``(N, 1, 28, 28)`` in [0, 1] (dynamically
    binarised) and return ``(codes, decoder, History)``: the codes ``(len(x_test), 2)`` of ``x_test``
    (the encoder's means for the VAE), on the CPU, and the decoder ``(B, 2) -> (B, 784)`` logits.

    kind: ``"aae"`` (adversarial prior matching) or ``"vae"`` (a KL term instead of the game: closed
    form for N(0, I), the one-sample Monte Carlo estimate ``mc_kl`` for the mixture). prior: a key of
    ``PRIORS``. Each AAE step: the auto-encoder's step (Adam 1e-3) on its reconstruction loss (nats
    per image) plus ``adv_weight`` times the encoder's non-saturating loss against the discriminator
    D; then ``d_steps`` steps of D on prior samples (real) against the new codes (fake), with the R1
    penalty ``r1_gamma / 2 * |grad D|^2`` on prior samples when > 0 (Adam ``game_lr``, betas
    (0.5, 0.999)). With ``adv_weight=None``, Makhzani et al.'s separate phases instead: the
    reconstruction step alone, D's steps, then an encoder step on the adversarial loss alone
    (Adam ``game_lr``). ``decay``: every learning rate falls to 0 on a cosine over the run.

    The defaults are the course's (notebook 08, ``benchmarks/aae_figure.py``), chosen on seed 0 of
    the mixture prior at 3,000 steps by the two-sample accuracy of held-out codes against the prior
    (0.5: matched). Tried first, on seed 0, on these arms and on thinner ones (shift 2, sd 0.6 along
    and 0.15 across): separate phases with the game at Adam 1e-4 or 3e-4, one or two D steps
    (0.77-0.84: the codes kept the reconstruction's shape; the benchmark's ablation records this
    over 3 seeds); the game at 1e-3 (0.78-0.79, codes crowded into the centre, also with R1,
    gamma 1); one combined step with weight 10 or 100 (0.68, 0.65: a ring, no arms). Weight 30 with
    two D steps at 1e-3: 0.60, the arms visible.
    """
    if kind not in ("aae", "vae"):
        raise ValueError(f"kind = {kind!r}: use 'aae' (adversarial auto-encoder) or 'vae'.")
    if prior not in PRIORS:
        raise ValueError(f"prior = {prior!r}: use one of {sorted(PRIORS)}.")
    p_z = PRIORS[prior]
    c = CODE_NETS
    nets = train.seeded(seed, lambda: nn.ModuleDict({
        "enc": gan.mlp(784, 4 if kind == "vae" else 2, c["hidden"], c["layers"]),
        "dec": gan.mlp(2, 784, c["hidden"], c["layers"]), "D": gan.mlp(2, 1, c["d_hidden"], c["d_layers"])})).to(device)
    generator = torch.Generator().manual_seed(seed)
    x_flat = x_train.flatten(1).to(device)

    def train_fn():
        opt_ae = torch.optim.Adam([*nets["enc"].parameters(), *nets["dec"].parameters()], lr=c["ae_lr"])
        opt_d = torch.optim.Adam(nets["D"].parameters(), lr=game_lr, betas=c["betas"])
        optimizers = [opt_ae, opt_d]
        if adv_weight is None:
            opt_g = torch.optim.Adam(nets["enc"].parameters(), lr=game_lr, betas=c["betas"])
            optimizers.append(opt_g)
        # cosine decay of every learning rate to 0: the codes settle instead of circling the prior
        schedulers = [torch.optim.lr_scheduler.CosineAnnealingLR(o, steps) for o in optimizers] if decay else []

        def step_fn(step):
            x = variational.binarised_batch(x_flat, batch, generator)
            if kind == "vae":
                mu, logvar = nets["enc"](x).chunk(2, -1)
                code = variational.reparameterize(mu, logvar, torch.randn(mu.shape, generator=generator).to(device))
                if prior == "normal":
                    kl = variational.gaussian_kl(mu, logvar).sum(-1).mean()
                else:
                    kl = mc_kl(code, mu, logvar, p_z.log_prob).mean()
            else:
                code, kl = nets["enc"](x), torch.zeros((), device=device)
            loss = -variational.bernoulli_log_likelihood(x, nets["dec"](code)).mean() + kl
            adv = (adv_weight * gan.generator_loss_nonsaturating(nets["D"](code).view(-1))
                   if kind == "aae" and adv_weight is not None else 0.0)
            opt_ae.zero_grad(set_to_none=True)
            (loss + adv).backward()
            opt_ae.step()
            if kind == "vae":
                for scheduler in schedulers[:1]:
                    scheduler.step()
                return {"loss": loss}
            # the regularisation phase: D on prior samples (real) against codes (fake), then the encoder
            with torch.no_grad():
                fake_z = nets["enc"](x)
            for _ in range(d_steps):
                prior_z = p_z.sample(batch, generator).to(device)
                if r1_gamma > 0:
                    prior_z.requires_grad_(True)
                real_logits = nets["D"](prior_z).view(-1)
                loss_d = gan.discriminator_loss(real_logits, nets["D"](fake_z).view(-1))
                if r1_gamma > 0:
                    loss_d = loss_d + 0.5 * r1_gamma * gan.r1_penalty(real_logits, prior_z)
                opt_d.zero_grad(set_to_none=True)
                loss_d.backward()
                opt_d.step()
            if adv_weight is None:  # Makhzani et al.'s separate regularisation step of the encoder
                loss_g = gan.generator_loss_nonsaturating(nets["D"](nets["enc"](x)).view(-1))
                opt_g.zero_grad(set_to_none=True)
                loss_g.backward()
                opt_g.step()
            for scheduler in schedulers:
                scheduler.step()
            return {"loss": loss, "loss_d": loss_d}

        return train.fit(step_fn, steps, log_every=50, desc=f"{kind}, prior {prior}", max_value=1e5,
                         optimizers=optimizers, schedulers=schedulers, generators=[generator])

    settings = {"kind": kind, "prior": p_z.settings(), "steps": steps, "seed": seed, "batch": batch,
                "game_lr": game_lr, "d_steps": d_steps, "r1_gamma": r1_gamma, "decay": decay,
                "adv_weight": adv_weight, **CODE_NETS}  # every value that shapes the weights
    history = train.train_or_load(name, nets, train_fn, settings, generators=[generator])
    with torch.no_grad():
        out = nets["enc"](x_test.flatten(1).to(device))
    return out[:, :2].cpu(), nets["dec"].eval(), history


def train_vae_gan(x_train: torch.Tensor, steps: int, device, adversarial_weight: float = 1.0, seed: int = 0,
                  width: int = 64, batch: int = 128, reconstructions: str = "real", name: str = "08_vae_gan"):
    """Train a VAE (the course's: latent 32, hidden 512) with one more term, and return ``(vae, History)``
    (the VAE in eval mode).

    Each step: a discriminator (``gan.DCDiscriminator(width)``, Adam 2e-4, betas (0.5, 0.999): ``VAE_GAN``) learns
    to tell real images from the VAE's samples from scratch ``sigmoid(Dec(z))``, z ~ N(0, I), with
    the VAE's reconstructions of the batch on one side: ``reconstructions="real"`` as the lecture
    draws it, ``"fake"`` as Larsen et al. (2016) label them (without their feature-space
    reconstruction loss). Then the VAE (Adam 1e-3) minimises its negative ELBO plus
    ``adversarial_weight`` times the non-saturating generator loss (nats per image) of what D calls
    fake: its samples, and with ``"fake"`` its reconstructions too. With ``adversarial_weight=0``
    D is never trained: the plain VAE with the same networks, batches, steps and schedule, the
    VAE-GAN's equal-budget baseline. x_train: ``(N, 1, 28, 28)`` in [0, 1], dynamically binarised.
    Cached under ``name``.
    """
    if reconstructions not in ("real", "fake"):
        raise ValueError(f"reconstructions = {reconstructions!r}: use 'real' (the lecture's picture) or 'fake' "
                         "(Larsen et al. 2016).")
    v = VAE_GAN
    nets = train.seeded(seed, lambda: nn.ModuleDict({
        "vae": variational.VAE(latent=v["latent"], hidden=v["hidden"], depth=v["depth"]),
        "D": gan.DCDiscriminator(width)})).to(device)
    generator = torch.Generator().manual_seed(seed)
    x_flat = x_train.flatten(1).to(device)
    adversarial = adversarial_weight != 0

    def as_image(v):
        return v.view(-1, 1, 28, 28)

    def train_fn():
        opt_vae = torch.optim.Adam(nets["vae"].parameters(), lr=v["vae_lr"])
        opt_d = torch.optim.Adam(nets["D"].parameters(), lr=v["d_lr"], betas=v["betas"])

        def step_fn(step):
            x = variational.binarised_batch(x_flat, batch, generator)
            eps = torch.randn(batch, v["latent"], generator=generator).to(device)
            z = torch.randn(batch, v["latent"], generator=generator).to(device)  # drawn either way: the same batches
            if not adversarial:
                loss_vae = nets["vae"].negative_elbo(x, generator=generator)
                opt_vae.zero_grad(set_to_none=True)
                loss_vae.backward()
                opt_vae.step()
                return {"loss": loss_vae}
            mu, logvar = nets["vae"].encode(x)
            recon = torch.sigmoid(nets["vae"].decode(variational.reparameterize(mu, logvar, eps)))
            fake = torch.sigmoid(nets["vae"].decode(z))
            if reconstructions == "real":
                real_side, fake_side = torch.cat([as_image(x), as_image(recon.detach())]), as_image(fake.detach())
            else:
                real_side, fake_side = as_image(x), torch.cat([as_image(recon.detach()), as_image(fake.detach())])
            loss_d = gan.discriminator_loss(nets["D"](real_side).view(-1), nets["D"](fake_side).view(-1))
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            fooled = as_image(fake) if reconstructions == "real" else torch.cat([as_image(recon), as_image(fake)])
            loss_vae = (nets["vae"].negative_elbo(x, generator=generator)
                        + adversarial_weight * gan.generator_loss_nonsaturating(nets["D"](fooled).view(-1)))
            opt_vae.zero_grad(set_to_none=True)
            loss_vae.backward()
            opt_vae.step()
            return {"loss": loss_vae, "loss_d": loss_d}

        return train.fit(step_fn, steps, log_every=50, desc="VAE-GAN" if adversarial else "VAE (VAE-GAN's budget)",
                         max_value=1e5, optimizers=[opt_vae, opt_d], generators=[generator])

    settings = {**VAE_GAN, "steps": steps, "weight": adversarial_weight, "seed": seed, "batch": batch, "width": width,
                "reconstructions": reconstructions}  # every value that shapes the weights
    history = train.train_or_load(name, nets, train_fn, settings, generators=[generator])
    return nets["vae"].eval(), history


def vae_images(vae, x_test: torch.Tensor, n: int, seed: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """What a VAE (``variational.VAE``) draws and how it reconstructs, for the yardstick: decoder means
    of ``n`` samples from scratch (z ~ p(z), ``vae.sample_prior``, from ``seed``: for N(0, I) the same
    noise for every model of the same latent size) and of the reconstructions of ``x_test[:n]`` at the
    encoder's mean, both ``(n, 1, 28, 28)`` on the test images' device."""
    device = x_test.device
    with torch.no_grad():
        z = vae.sample_prior(n, torch.Generator().manual_seed(seed)).to(device)
        samples = torch.cat([torch.sigmoid(vae.decode(c)) for c in z.split(1000)])
        mu = torch.cat([vae.encode(x.flatten(1))[0] for x in x_test[:n].split(1000)])
        recons = torch.cat([torch.sigmoid(vae.decode(c)) for c in mu.split(1000)])
    return samples.view(-1, 1, 28, 28), recons.view(-1, 1, 28, 28)
