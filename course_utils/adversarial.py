"""The course's one adversarial training engine, and its recipes as data.

Notebook 04 writes the GAN training loop out as its lesson; from then on, notebooks, benchmarks
and slide figures train every GAN, WGAN and tempered GAN with ``adversarial.train_gan``, plugging in
the student's checked functions (``Losses``), so the exercises still drive real training:

    recipe = adversarial.recipe("mnist-gan-half")               # or .with_(lr=1e-3): the lesson's change
    nets = adversarial.build(recipe, seed, cfg.device)         # G, D (G_ema, L), from the seed alone
    real = adversarial.real_batches(x_train)                   # real(n, generator) -> (n, 1, 28, 28)
    history = adversarial.train_gan(nets, real, recipe, seed, losses=adversarial.Losses(g_loss=my_g_loss))
    images = adversarial.generate(nets, adversarial.noise(10_000))  # always from sampler(nets)

``train_critic`` runs the same D step with no generator, against two fixed distributions
(notebook 06's probes of what a discriminator or critic measures). ``real(n, generator)`` returns
``(n, ...)`` real samples. ``train_gan`` runs inside ``train.fit``, so it
has its progress bar, divergence guard, History and, inside ``train.train_or_load``, snapshots and
resumption; ``train_or_load_gan`` below wraps the two. A table row names its recipe (``Recipe.label``).

Choices made once (earlier copies of the loop differed on each):
- **G's step reuses the batch of D's last step**: the same noise z and the same G(z), judged again by
  the updated D. It is an equally valid sample of p_g, G is not run twice, and the noise drawn per
  step is the same with 1 or 5 critic steps. (Goodfellow et al.'s Algorithm 1 draws a fresh batch.)
- **R1 / R2 on their own forward pass**: ``Losses.r1_term(D, x, gamma)``, notebook 05's exercise,
  takes D and x alone, so the student's function plugs in unchanged; lazy regularisation (every
  ``lazy`` D steps, weight x ``lazy``; Karras et al. 2020) makes the extra pass cheap.
- **One random generator per run**, seeded by the run's seed: real batches, noise, the gradient
  penalty's mixing weights and every other draw come from it, in a fixed order.
- Names: ``latent`` (the noise size), ``gamma`` (R1 / R2), ``gp_lambda`` (gradient penalty),
  ``lambda`` (the lens's weight, logged), ``n_critic`` (D steps per G step).
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import hashlib
import time
from dataclasses import dataclass
from typing import Callable, Mapping

import torch
from torch import nn

from course_utils import gan, tempered, train

OBJECTIVES = ("saturating", "ns", "wgan")
PENALTIES = ("none", "r1", "r2", "gp", "gp-one-sided", "clip")


@dataclass(frozen=True)
class Recipe:
    """One way to train a GAN, as data (every field goes into the checkpoint's fingerprint).

    objective: "saturating" / "ns" (D's cross-entropy; G's minimax or non-saturating loss) or "wgan"
    (critic scores). penalty: "r1" / "r2" (gamma / 2 E||grad_x D||^2 on real / generated points,
    every ``lazy`` D steps with weight x lazy), "gp" / "gp-one-sided" (gp_lambda x the gradient
    penalty, two- or one-sided), "clip" (weights into [-clip, clip] after each D step) or "none".
    nets: "dcgan" (28 x 28 images: ``latent``, ``width``, ``channels``) or "mlp" (points in
    ``dim`` dimensions: ``latent``, ``hidden``, ``layers``). lr_d: D's learning rate when it differs
    from G's; optimizer_g: G's optimiser when it differs from D's ("sgd": plain gradient descent,
    for notebook 07's one-parameter generator); lr_end: both decayed to it along a cosine over the run.
    ema: beta of G's average (0: none). lens: the tempered GAN's lens, its weight lambda falling to 0 at
    k_share of the steps.
    freeze_d_after: D stops learning after that many steps (notebook 04's deliberately bad setting).
    name: the registered name; base: the registered recipe it was derived from ("" for a root).
    """

    description: str
    # the game: objective, penalty and critic steps
    objective: str = "ns"
    penalty: str = "none"
    gamma: float = 0.0
    lazy: int = 1
    gp_lambda: float = 10.0
    clip: float = 0.01
    n_critic: int = 1
    # the optimisers: rates, schedule, batch, G's average
    optimizer: str = "adam"
    optimizer_g: str | None = None
    lr: float = 2e-4
    lr_d: float | None = None
    betas: tuple[float, float] = (0.5, 0.999)
    lr_end: float | None = None
    batch: int = 128
    ema: float = 0.0
    # the tempered GAN's lens
    lens: bool = False
    lens_lr: float = 1e-3
    k_share: float = 0.5
    # the run's length (and notebook 04's deliberately frozen D)
    freeze_d_after: int | None = None
    steps: int = 1000
    # the networks
    nets: str = "dcgan"
    latent: int = 64
    width: int = 64
    channels: int = 1
    hidden: int = 256
    layers: int = 3
    dim: int = 2
    # naming only, left out of the checkpoint's key (settings)
    name: str = ""
    base: str = ""

    def __post_init__(self):
        checks = [(self.objective in OBJECTIVES, f"objective must be one of {OBJECTIVES}"),
                  (self.penalty in PENALTIES, f"penalty must be one of {PENALTIES}"),
                  (self.optimizer in ("adam", "rmsprop"), "optimizer must be 'adam' or 'rmsprop'"),
                  (self.optimizer_g in (None, "adam", "rmsprop", "sgd"),
                   "optimizer_g must be None, 'adam', 'rmsprop' or 'sgd'"),
                  (self.nets in ("dcgan", "mlp"), "nets must be 'dcgan' or 'mlp'"),
                  (self.n_critic >= 1 and self.lazy >= 1 and self.batch >= 1, "n_critic, lazy and batch must be >= 1"),
                  (not (self.penalty in ("r1", "r2") and self.gamma <= 0), "an R1 / R2 penalty needs gamma > 0"),
                  (0.0 <= self.ema < 1.0, "ema must be in [0, 1)")]
        for ok, message in checks:
            if not ok:
                raise ValueError(f"recipe {self.name or self.description!r}: {message}")

    def with_(self, **changes) -> "Recipe":
        """A copy with some fields changed; its label says what changed."""
        return dataclasses.replace(self, **changes)

    def settings(self) -> dict:
        """What determines the trained weights, as plain values: every field but the description, the
        name and the base (renaming a recipe or fixing its description keeps its checkpoints)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in _NOT_WEIGHTS}

    def label(self) -> str:
        """The recipe's name and what differs from the registered recipe of that name, e.g.
        "mnist-dcgan (width=32, ema=0.0)": the row name of a table."""
        base = RECIPES.get(self.name)
        if base is None:
            return self.name or self.description
        changed = [f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self)
                   if f.name not in _NOT_WEIGHTS and getattr(self, f.name) != getattr(base, f.name)]
        return f"{self.name} ({', '.join(changed)})" if changed else self.name


_NOT_WEIGHTS = ("description", "name", "base")  # fields that name or describe a recipe, not train it


def _registry(**recipes: Recipe) -> dict[str, Recipe]:
    return {name: dataclasses.replace(r, name=name) for name, r in recipes.items()}


def _derived(registry: dict[str, Recipe], **recipes: tuple[str, str, dict]) -> dict[str, Recipe]:
    """Recipes stated as a registered base plus changes: name=(base, description, changes)."""
    return {name: dataclasses.replace(registry[base], description=description, name=name, base=base, **changes)
            for name, (base, description, changes) in recipes.items()}


# The course's recipes, by name. Notebooks and benchmarks refer to them by name, so a benchmark
# measures exactly what a notebook runs.
_TOY = dict(nets="mlp", latent=2, hidden=256, layers=3, dim=2, batch=256, betas=(0.5, 0.9))
_MNIST = dict(lr=1e-3, batch=64, width=32, ema=0.999, steps=20000)  # mnist-dcgan's sizes, shared by its variants
RECIPES: dict[str, Recipe] = _registry(
    **{
        # 2-D mixtures (notebooks 04-06, benchmarks/gan_toys.py)
        "toy-gan": Recipe("GAN, VEEGAN's sizes: 2 x 128 ReLU MLPs, 256-d noise, Adam 1e-4 (0.5, 0.999), batch 512",
                          nets="mlp", latent=256, hidden=128, layers=2, dim=2, lr=1e-4, batch=512, steps=20000),
        "toy-r1": Recipe("GAN + lazy R1 (gamma 0.1 every 4 steps), 3 x 256 MLPs, 2-d noise, Adam 5e-4 -> 0 cosine, "
                         "batch 256",
                         penalty="r1", gamma=0.1, lazy=4, lr=5e-4, lr_end=0.0, steps=17500, **_TOY),
        "toy-wgan-gp": Recipe("WGAN-GP (lambda 1, 2 critic steps), 3 x 256 MLPs, 2-d noise, Adam 5e-4 -> 0 cosine, "
                              "batch 256", objective="wgan", penalty="gp", gp_lambda=1.0, n_critic=2, lr=5e-4,
                              lr_end=0.0, steps=11000, **_TOY),
        "toy-wgan-clip": Recipe("WGAN, weights clipped to 0.01, 5 critic steps, 3 x 256 MLPs, RMSprop 5e-5, batch 256",
                                objective="wgan", penalty="clip", clip=0.01, n_critic=5, optimizer="rmsprop", lr=5e-5,
                                steps=4000, **_TOY),
        # MNIST, 28 x 28 (notebooks 04-08, benchmarks/gan_mnist.py, benchmarks/gan_peers.py).
        # mnist-dcgan is sized for a CPU: at half the DCGAN paper's width and batch a step costs a
        # fifth, so 10 minutes buy 4.6x the steps, and Adam 1e-3 (5x the paper's 2e-4) uses them; the
        # average of G (EMA 0.999, a horizon of about 1,000 steps) smooths the faster walk. Measured in
        # benchmarks/gan_peers.py over 3 seeds of 10 minutes: 44.2 +- 3.2 against 129.1 (seed 0) for
        # mnist-dcgan-w64, the paper's sizes, which earlier records name.
        "mnist-dcgan": Recipe("DCGAN, non-saturating loss, latent 64, width 32, Adam 1e-3 (0.5, 0.999), batch 64, "
                              "EMA 0.999",
                              **_MNIST),
        "mnist-dcgan-w64": Recipe("DCGAN at the DCGAN paper's sizes: non-saturating loss, latent 64, width 64, "
                                  "Adam 2e-4 (0.5, 0.999), batch 128, EMA 0.999",
                                  ema=0.999, steps=11000),
        # mnist-dcgan-r1 is notebook 04's recipe: mnist-dcgan plus notebook 04's lazy R1 (Karras et al.
        # 2020: every 16 D steps with 16 times the weight, so its extra backward pass is rare). In
        # benchmarks/gan_peers.py, 3 seeds each: 26.9 +- 2.3 after 10 minutes and 25.6 +- 1.4 after 15,
        # against 44.2 +- 3.2 and 49.3 +- 4.4 for mnist-dcgan (records gan_peers, gan_peers_15min_r1).
        "mnist-dcgan-r1": Recipe("as mnist-dcgan, plus lazy R1 (gamma 1 on real digits, every 16 D steps x 16)",
                                 penalty="r1", gamma=1.0, lazy=16, **_MNIST),
        "mnist-wgan-gp": Recipe("WGAN-GP: lambda 10, 5 critic steps, Adam 1e-4 (0.5, 0.9), batch 64",
                                objective="wgan", penalty="gp", gp_lambda=10.0, n_critic=5, lr=1e-4, betas=(0.5, 0.9),
                                batch=64, steps=3000),
        "mnist-wgan-clip": Recipe("WGAN, weights clipped to 0.01, 5 critic steps, RMSprop 5e-5, batch 64",
                                  objective="wgan", penalty="clip", clip=0.01, n_critic=5, optimizer="rmsprop", lr=5e-5,
                                  batch=64, steps=3000),
        "mnist-tempered": Recipe("non-saturating DCGAN with the tempered GAN's lens (Adam 1e-3), lambda 1 -> 0 "
                                 "over the first half of the steps", lens=True, lens_lr=1e-3, k_share=0.5, steps=11000),
    }
)
# The one-minute MNIST runs of notebooks 05-08 and the decks (3 seeds each, 1,500 generator steps of
# half the DCGAN paper's width and batch): each a registered base with only what differs.
RECIPES.update(_derived(
    RECIPES,
    **{
        "mnist-gan-half": ("mnist-dcgan", "the one-minute GAN of notebooks 05-08: mnist-dcgan at the DCGAN paper's "
                           "Adam 2e-4, no average of G, 1,500 steps", dict(lr=2e-4, ema=0.0, steps=1500)),
        "mnist-wgan-gp-half": ("mnist-wgan-gp", "WGAN-GP at mnist-dcgan's width 32, 400 generator steps (2,000 "
                               "critic steps)", dict(width=32, steps=400)),
        "mnist-wgan-clip-half": ("mnist-wgan-clip", "the clipped WGAN at mnist-dcgan's width 32, 600 generator steps",
                                 dict(width=32, steps=600)),
        "mnist-tempered-half": ("mnist-tempered", "the tempered GAN at mnist-dcgan's width 32 and batch 64, 1,500 "
                                "steps, the lens over the first half", dict(width=32, batch=64, steps=1500)),
    },
))


def recipe(name: str) -> Recipe:
    """The registered recipe ``name``, or a message listing the names."""
    try:
        return RECIPES[name]
    except KeyError:
        raise KeyError(f"no recipe {name!r}; the course's recipes: {', '.join(RECIPES)}") from None


def from_label(label: str) -> Recipe:
    """The recipe a table row names, as ``Recipe.label`` writes it: a registered name ("toy-r1"), or one with
    the fields it changes ("toy-r1 (penalty='none', gamma=0.0, steps=20000)"). How a benchmark's command
    line and its records name a run: registered recipes and their changes, no names of their own."""
    name, _, changes = label.strip().partition(" (")
    if name not in RECIPES:
        raise ValueError(f"no recipe {name!r}; the course's recipes: {', '.join(RECIPES)}")
    base = RECIPES[name]
    if not changes:
        return base
    try:
        if not changes.endswith(")"):
            raise SyntaxError("no closing parenthesis")
        call = ast.parse(f"f({changes[:-1]})", mode="eval").body
        if call.args:
            raise SyntaxError("a value without its field's name")
        values = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}
    except (SyntaxError, ValueError) as err:
        raise ValueError(f"cannot read the recipe {label!r} ({err}): write it as Recipe.label does, e.g. "
                         "\"toy-r1 (gamma=0.0, steps=20000)\"") from None
    fields = {f.name for f in dataclasses.fields(Recipe)} - set(_NOT_WEIGHTS)
    unknown = sorted(set(values) - fields)
    if unknown:
        raise ValueError(f"recipe {label!r}: no field {', '.join(unknown)}; a recipe's fields: "
                         f"{', '.join(sorted(fields))}")
    return base.with_(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


# FAST mode (CI, a first look in class) trains an MNIST recipe for a few dozen generator steps: 40, or 16
# for a critic recipe, whose generator step costs n_critic critic steps (80 at n_critic = 5).
FAST_STEPS, FAST_STEPS_CRITIC = 40, 16


def for_mode(name: str, overrides: Mapping | None = None, fast: bool = False) -> Recipe:
    """The recipe a parameter cell asks for: the registered recipe ``name`` with ``overrides`` (a dict of
    fields, e.g. ``{"lr": 1e-4}``), for its own number of steps, or in FAST mode (``fast``, i.e.
    ``cfg.fast``) for ``FAST_STEPS`` (``FAST_STEPS_CRITIC`` when ``n_critic > 1``)."""
    r = recipe(name).with_(**(overrides or {}))
    if fast:
        r = r.with_(steps=FAST_STEPS if r.n_critic == 1 else FAST_STEPS_CRITIC)
    return r


@dataclass
class Losses:
    """The functions ``train_gan`` trains with: the library's references by default, or the student's
    checked versions. None: the objective's own (``gan.discriminator_loss`` with the saturating or
    non-saturating generator loss, or ``gan.critic_loss`` / ``gan.generator_loss_critic``).

    d_loss(real_out, fake_out) and g_loss(fake_out): outputs ``(B,)``, a scalar to minimise.
    r1_term(D, x, gamma): gamma / 2 E||grad_x D(x)||^2 on the points x (``gan.r1_term``).
    gradient_penalty(D, real, fake, eps): E[(||grad f(xhat)|| - 1)^2] at xhat = eps real + (1 - eps)
    fake, eps ``(B,)`` drawn by the engine (None: ``gan.gradient_penalty``, one-sided if the recipe says).
    lens_loss(real_logits, fake_logits, lensed, x, lam, d_loss): ``tempered.lens_loss``.
    """

    d_loss: Callable | None = None
    g_loss: Callable | None = None
    r1_term: Callable = gan.r1_term
    gradient_penalty: Callable | None = None
    lens_loss: Callable = tempered.lens_loss

    def resolved(self, recipe: Recipe) -> "Losses":
        wasserstein = recipe.objective == "wgan"
        g_default = {"saturating": gan.generator_loss_saturating, "ns": gan.generator_loss_nonsaturating,
                     "wgan": gan.generator_loss_critic}[recipe.objective]
        one_sided = recipe.penalty == "gp-one-sided"
        return Losses(
            d_loss=self.d_loss or (gan.critic_loss if wasserstein else gan.discriminator_loss),
            g_loss=self.g_loss or g_default,
            r1_term=self.r1_term,
            gradient_penalty=self.gradient_penalty or (
                lambda D, real, fake, eps: gan.gradient_penalty(D, real, fake, eps=eps, one_sided=one_sided)),
            lens_loss=self.lens_loss,
        )


def build(recipe: Recipe, seed: int, device="cpu") -> nn.ModuleDict:
    """The recipe's networks, initialised from ``seed`` alone (the global random state is neither
    read nor advanced): "G", "D", "G_ema" (G's running average, if ``recipe.ema``; saved with the
    run) and "L" (the lens, if ``recipe.lens``; built after G and D, so a tempered run starts from
    the networks of its plain twin with the same seed)."""
    def make() -> dict:
        if recipe.nets == "dcgan":
            nets = {"G": gan.DCGenerator(recipe.latent, recipe.width, recipe.channels),
                    "D": gan.DCDiscriminator(recipe.width, recipe.channels)}
        else:
            nets = {"G": gan.mlp(recipe.latent, recipe.dim, recipe.hidden, recipe.layers),
                    "D": gan.mlp(recipe.dim, 1, recipe.hidden, recipe.layers)}
        if recipe.lens:
            nets["L"] = (tempered.image_lens(recipe.channels) if recipe.nets == "dcgan"
                         else tempered.point_lens(recipe.dim))
        return nets

    nets = train.seeded(seed, make)
    if recipe.ema:
        nets["G_ema"] = copy.deepcopy(nets["G"]).eval().requires_grad_(False)
    return nn.ModuleDict(nets).to(device)


def sampler(nets: nn.ModuleDict) -> nn.Module:
    """The generator to sample from: G's running average if the run keeps one, else G."""
    return nets["G_ema"] if "G_ema" in nets else nets["G"]


# The course's fixed noise: seed 2 for the curves logged during training, seed 3 for final scores
# and pictures, so every model of a table is scored on the same z.
CURVE_SEED, SCORE_SEED = 2, 3


# Points of a training curve: the yardstick's kernel distance of CURVE_SAMPLES samples (FAST mode:
# FAST_CURVE_SAMPLES), never divided by the floor; final scores use the yardstick's 10,000.
CURVE_SAMPLES, FAST_CURVE_SAMPLES = 2000, 500


def curve_samples(fast: bool = False) -> int:
    """Samples per point of a training curve: ``CURVE_SAMPLES``, or ``FAST_CURVE_SAMPLES`` in FAST mode."""
    return FAST_CURVE_SAMPLES if fast else CURVE_SAMPLES


def noise(n: int, latent: int = 64, seed: int = SCORE_SEED, device="cpu") -> torch.Tensor:
    """``(n, latent)`` standard normal noise from its own generator seeded ``seed``: the same z in every
    notebook, run and device (drawn on the CPU, then moved)."""
    return torch.randn(n, latent, generator=torch.Generator().manual_seed(seed)).to(device)


def real_batches(x: torch.Tensor) -> Callable[[int, torch.Generator], torch.Tensor]:
    """``real(n, generator)`` for ``train_gan``: ``n`` rows of ``x`` ``(N, ...)`` drawn uniformly with
    replacement by the run's generator, on ``x``'s device."""
    def real(n: int, g: torch.Generator) -> torch.Tensor:
        return x[torch.randint(len(x), (n,), generator=g).to(x.device)]

    return real


@torch.no_grad()
def generate(nets: nn.ModuleDict, z: torch.Tensor, chunk: int | None = 1000) -> torch.Tensor:
    """Samples of ``sampler(nets)`` (G's average when the run keeps one) for noise ``z`` ``(N, latent)``:
    ``(N, C, H, W)`` images or ``(N, dim)`` points, ``chunk`` at a time (None: all at once), no autograd
    graph kept. Takes the run's networks, not a G,
    so no caller can score the raw G of an averaged run. G's train / eval mode is left as it is."""
    if not isinstance(nets, nn.ModuleDict):
        raise TypeError("generate takes the run's networks (adversarial.build / train_or_load_gan), not a generator: "
                        "it samples from sampler(nets), G's average when the run keeps one")
    G = sampler(nets)
    return G(z) if chunk is None else torch.cat([G(part) for part in z.split(chunk)])


def yardstick_curve(yardstick, z: torch.Tensor) -> Callable[[nn.ModuleDict], dict]:
    """``evaluate`` for ``train_gan``: a point of the training curve from the samples of ``generate(nets,
    z)`` for the fixed noise ``z`` ``(n, latent)``: the yardstick's (``metrics.Yardstick``) kernel
    distance, digit entropy and number of digits present ("kernel", "entropy", "classes")."""
    def curve(nets: nn.ModuleDict) -> dict:
        point = yardstick.curve_point(generate(nets, z))
        return {"kernel": point["kernel"], "entropy": point["entropy"], "classes": point["classes_present"]}

    return curve


def course_dcgan(x_train: torch.Tensor, yardstick, device="cpu", *, fast: bool = False, recipe: Recipe | None = None,
                 losses: Losses | None = None, seed: int = 0,
                 data: str = "mnist") -> tuple[nn.ModuleDict, train.History]:
    """Notebook 04's DCGAN (its section 6), for the notebook and for deck 04: ``recipe`` (default
    ``for_mode("mnist-dcgan-r1", fast=fast)``) on images ``x_train`` ``(N, 1, 28, 28)`` in [0, 1] of
    dataset ``data`` ("mnist" or "fashion"), eight points of ``yardstick_curve`` on
    ``curve_samples(fast)`` samples of the curve noise, through ``train_or_load_gan``: whichever of the
    two runs first trains the model, the other loads it. ``losses``: the student's functions (the
    library's by default). Returns (nets, History)."""
    recipe = recipe if recipe is not None else for_mode("mnist-dcgan-r1", fast=fast)
    n_curve = curve_samples(fast)
    curve_z = noise(n_curve, recipe.latent, CURVE_SEED, device)
    return train_or_load_gan("04_dcgan", recipe, real_batches(x_train), seed, device, data=data, losses=losses,
                             evaluate=yardstick_curve(yardstick, curve_z), evals=8, points=8,
                             settings={"n_curve": n_curve, "metric": "yardstick"})


def _optimizer(recipe: Recipe, params, lr: float, kind: str | None = None) -> torch.optim.Optimizer:
    kind = kind or recipe.optimizer
    if kind == "rmsprop":  # the WGAN paper's choice: momentum hurt its clipped critic
        return torch.optim.RMSprop(params, lr=lr)
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr)
    return torch.optim.Adam(params, lr=lr, betas=recipe.betas)


def _d_step(D: nn.Module, opt_d: torch.optim.Optimizer, recipe: Recipe, fns: Losses, real: torch.Tensor,
            fake: torch.Tensor, d_step: int, g: torch.Generator, update: bool = True):
    """One step of D / the critic on a real and a generated batch (fake detached): the objective's
    loss plus the recipe's penalty, the update, the clipping. The one D step of ``train_gan`` and
    ``train_critic``. Returns (D's outputs on fake ``(B,)``, the loss before the update)."""
    real_out, fake_out = D(real).view(-1), D(fake).view(-1)
    loss_d = fns.d_loss(real_out, fake_out)
    if recipe.penalty in ("r1", "r2") and d_step % recipe.lazy == 0:
        points = real if recipe.penalty == "r1" else fake
        loss_d = loss_d + recipe.lazy * fns.r1_term(D, points, recipe.gamma)
    elif recipe.penalty in ("gp", "gp-one-sided"):
        eps = torch.rand(real.shape[0], generator=g).to(real.device)
        loss_d = loss_d + recipe.gp_lambda * fns.gradient_penalty(D, real, fake, eps)
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    if update:
        opt_d.step()
    if recipe.penalty == "clip":
        gan.clip_weights(D, recipe.clip)
    return fake_out, loss_d


def train_gan(nets: nn.ModuleDict, real: Callable, recipe: Recipe, seed: int, *, steps: int | None = None,
          seconds: float | None = None, losses: Losses | None = None, evaluate: Callable | None = None,
          evals: int = 8, watch: torch.Tensor | None = None, keep: "Trajectory | None" = None,
          desc: str | None = None, log_every: int = 25, progress: bool | None = None) -> train.History:
    """Train ``nets`` (from ``build``) on ``real(n, generator) -> (n, ...)`` with ``recipe``.

    Each step: ``n_critic`` D steps (a real batch, the lens's view of it while its weight lambda > 0,
    a batch of G(z), D's loss plus the recipe's penalty; clipping after the step), then one lens
    step if a lens is on, then one G step on the last D step's batch, then G's average and the
    learning-rate schedules. ``steps`` (default ``recipe.steps``) or a budget of ``seconds`` of
    training (evaluations left out): whichever ends first. ``evals`` times, evenly spaced (in steps,
    or in seconds under a budget): ``evaluate(nets)``'s scores (a dict of numbers; G in eval mode,
    autograd off: wrap a part that needs it in ``torch.enable_grad()``; sample from
    ``sampler(nets)``) and ``at_seconds``. Logged every ``log_every`` steps: loss_d, loss_g,
    seconds (training time so far) and, with a lens, lambda and lens_shift (mean ||L(x) - x||).
    watch: fixed real samples ``(m, ...)``: nets["views"] (``tempered.Views``) keeps L(watch) at each
    evaluation. keep: a ``Trajectory`` of this run's steps, filled with copies of ``nets`` at its steps (how
    ``train_or_load_gan`` draws every curve after training, from the saved copies). Returns the ``train.History``.
    """
    _check_networks(nets, recipe)
    if seconds is None and steps is None:
        steps = recipe.steps
    if steps is None and recipe.lr_end is not None:
        raise ValueError(f"recipe {recipe.label()!r} decays its learning rates over a number of steps (lr_end): "
                         "give steps= as well as seconds=, or use a recipe without lr_end")
    if keep is not None and (steps is None or keep.at[-1] != steps):
        raise ValueError("keep= needs a Trajectory built for this run's number of steps (Trajectory(nets, steps))")
    run = _GanRun(nets, real, recipe, seed, steps, seconds, (losses or Losses()).resolved(recipe), evaluate, evals,
                  watch, keep)
    stop = (lambda step: run.trained() >= seconds) if seconds is not None else None
    run.G.train(), run.D.train()
    return train.fit(run.step, run.n_steps, log_every=log_every, desc=desc or recipe.label(), history=run.history,
                     stop=stop, progress=progress, optimizers=run.optimizers, schedulers=run.schedules,
                     generators=[run.g])


def _check_networks(nets: nn.ModuleDict, recipe: Recipe) -> None:
    """The networks were built for this recipe (``build``): a lens if it has one, G's average if it keeps one."""
    if recipe.lens != ("L" in nets):
        raise ValueError("the recipe and the networks disagree about the lens: build the networks with "
                         "adversarial.build(recipe, ...)")
    if recipe.ema and "G_ema" not in nets:
        raise ValueError("the recipe keeps an average of G (ema) but the networks have no 'G_ema': "
                         "use adversarial.build")


class _GanRun:
    """One ``train_gan`` run: its optimisers, schedules, random generator and clock, and ``step``, the
    step function ``train.fit`` calls (D's steps, the lens's, G's, then the averages and schedules)."""

    def __init__(self, nets, real, recipe: Recipe, seed: int, steps: int | None, seconds: float | None,
                 fns: Losses, evaluate: Callable | None, evals: int, watch: torch.Tensor | None,
                 keep: "Trajectory | None" = None):
        self.nets, self.real, self.recipe, self.fns, self.keep = nets, real, recipe, fns, keep
        self.G, self.D = nets["G"], nets["D"]
        self.lens = nets["L"] if "L" in nets else None
        self.seconds, self.evaluate, self.evals, self.watch = seconds, evaluate, evals, watch
        self.n_steps = steps if steps is not None else 10**9
        self.device = next(self.G.parameters()).device
        self.g = torch.Generator().manual_seed(seed)
        self.opt_g = _optimizer(recipe, self.G.parameters(), recipe.lr, recipe.optimizer_g)
        self.opt_d = _optimizer(recipe, self.D.parameters(), recipe.lr_d if recipe.lr_d is not None else recipe.lr)
        self.optimizers = [self.opt_g, self.opt_d]
        if self.lens is not None:
            self.optimizers.append(torch.optim.Adam(self.lens.parameters(), lr=recipe.lens_lr, betas=recipe.betas))
        self.schedules = ([torch.optim.lr_scheduler.CosineAnnealingLR(o, self.n_steps, eta_min=recipe.lr_end)
                           for o in (self.opt_g, self.opt_d)] if recipe.lr_end is not None else [])
        self.ema = gan.EMA(self.G, recipe.ema, average=nets["G_ema"]) if recipe.ema else None
        # the step (or second, under a time budget) at which the lens's weight reaches 0
        self.K = (max(1, round(recipe.k_share * self.n_steps)) if seconds is None
                  else recipe.k_share * seconds)
        self.history = train.History()
        self.start, self.evaluating, self.evals_done = time.perf_counter(), 0.0, 0

    def trained(self) -> float:
        """Training time so far, evaluations left out."""
        return time.perf_counter() - self.start - self.evaluating

    def lens_weight(self, step: int) -> float:
        """lambda: on steps, or on training seconds under a time budget."""
        if self.lens is None:
            return 0.0
        clock = step if self.seconds is None else self.trained()
        return tempered.lambda_schedule(clock, self.K)

    def eval_due(self, step: int) -> bool:
        """Evaluations evenly spaced in steps, or in training seconds under a budget."""
        if (self.evaluate is None and self.watch is None) or self.evals_done >= self.evals:
            return False
        if self.seconds is None:
            return (step + 1) % max(1, self.n_steps // self.evals) == 0
        return self.trained() >= (self.evals_done + 1) * self.seconds / self.evals

    def d_steps(self, step: int, use_lens: bool):
        """``n_critic`` D steps; returns the last real batch, its G(z) (with G's graph), D's outputs on it
        and D's loss."""
        r = self.recipe
        for i in range(r.n_critic):
            x = self.real(r.batch, self.g)
            shown = self.lens(x).detach() if use_lens else x
            z = torch.randn(r.batch, r.latent, generator=self.g).to(self.device)
            with torch.set_grad_enabled(i == r.n_critic - 1):  # G's graph only for the batch G's step reuses
                fake = self.G(z)
            fake_out, loss_d = _d_step(self.D, self.opt_d, r, self.fns, shown, fake.detach(), step * r.n_critic + i,
                                       self.g, update=r.freeze_d_after is None or step < r.freeze_d_after)
        return x, fake, fake_out, loss_d

    def lens_logs(self, x, fake_out, lam: float) -> dict:
        """The lens's step while its weight lambda > 0; its logs (lambda, lens_shift, loss_lens)."""
        if lam <= 0:
            return {"lambda": lam, "lens_shift": 0.0}
        loss_l, lensed = tempered.lens_step(self.lens, self.D, self.optimizers[2], x, fake_out, lam, self.fns.d_loss,
                                            self.fns.lens_loss)
        return {"lambda": lam, "loss_lens": loss_l, "lens_shift": (lensed - x).detach().flatten(1).norm(dim=1).mean()}

    def g_step(self, fake) -> torch.Tensor:
        """G's step on the last D step's batch, then G's average and the learning-rate schedules."""
        loss_g = self.fns.g_loss(self.D(fake).view(-1))
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        if self.ema is not None:
            self.ema.update()
        for schedule in self.schedules:
            schedule.step()
        return loss_g

    def evaluate_now(self, step: int, use_lens: bool) -> None:
        """One evaluation (G in eval mode, autograd off), logged at ``step + 1``; its time is not training time."""
        at, began = self.trained(), time.perf_counter()
        self.evals_done += 1
        self.G.eval()
        with torch.no_grad():
            scores = dict(self.evaluate(self.nets)) if self.evaluate is not None else {}
            if self.watch is not None and "views" in self.nets:
                self.nets["views"].lensed[self.evals_done - 1] = self.lens(self.watch) if use_lens else self.watch
        self.G.train()
        self.history.log(step + 1, **scores, at_seconds=at)
        self.evaluating += time.perf_counter() - began

    def step(self, step: int) -> dict:
        lam = self.lens_weight(step)
        x, fake, fake_out, loss_d = self.d_steps(step, lam > 0)
        logs = {"loss_d": loss_d}
        if self.lens is not None:
            logs.update(self.lens_logs(x, fake_out, lam))
        logs.update(loss_g=self.g_step(fake), seconds=self.trained())
        if self.keep is not None and step + 1 in self.keep.index:
            self.keep.capture(step + 1, self.nets, self.trained())
        if self.eval_due(step):
            self.evaluate_now(step, lam > 0)
        return logs


# A trained model is kept with copies of its networks at CURVE_POINTS steps evenly spaced over the run:
# every training curve is drawn from them afterwards, so one checkpoint serves every notebook, deck and
# benchmark that trains the same recipe, seed, steps and data, whatever each one plots.
CURVE_POINTS = 10


def trajectory_steps(steps: int, points: int = CURVE_POINTS) -> list[int]:
    """The steps (1-based counts of steps done) at which a run of ``steps`` keeps its networks:
    round(i x steps / points) for i = 1..points, the last one the run's end (fewer when steps < points)."""
    if steps < 1 or points < 1:
        raise ValueError(f"steps and points must be >= 1, got {steps} and {points}")
    return sorted({max(1, round(i * steps / points)) for i in range(1, points + 1)})


class Trajectory(nn.Module):
    """Copies of a run's networks at ``trajectory_steps(steps, points)`` (``at``), and the training
    seconds at each (``seconds`` ``(len(at),)``). A module, so the checkpoint and the resumable
    snapshots keep it with the run. ``train_gan(..., keep=trajectory)`` fills it."""

    def __init__(self, nets: nn.ModuleDict, steps: int, points: int = CURVE_POINTS):
        super().__init__()
        self.at = trajectory_steps(steps, points)
        self.index = {step: i for i, step in enumerate(self.at)}
        self.nets = nn.ModuleList(copy.deepcopy(nets) for _ in self.at)  # modes as built: as during training
        self.register_buffer("seconds", torch.zeros(len(self.at), dtype=torch.float64))

    @torch.no_grad()
    def capture(self, step: int, nets: nn.ModuleDict, seconds: float) -> None:
        """Keep ``nets`` as they are after ``step`` steps."""
        i = self.index[step]
        self.nets[i].load_state_dict(nets.state_dict())
        self.seconds[i] = seconds

    def every(self, evals: int) -> list[int]:
        """Indices of ``evals`` kept points, evenly spaced and ending at the run's end (all of them when
        the run kept fewer, as a run shorter than ``points`` steps does)."""
        evals = min(evals, len(self.at))
        if evals < 1 or len(self.at) % evals:
            raise ValueError(f"evals={evals} must divide the {len(self.at)} points this run keeps: pick one of "
                             f"{[d for d in range(1, len(self.at) + 1) if len(self.at) % d == 0]}, or train with "
                             "points= a multiple of it")
        stride = len(self.at) // evals
        return list(range(stride - 1, len(self.at), stride))

    def evaluate(self, evaluate: Callable, evals: int) -> dict:
        """``evaluate(nets)`` at ``evals`` kept points, with the modes of ``train_gan``'s evaluations (G in
        eval mode, the rest as trained; autograd off). Returns {"steps": [...], "scores": {name: [...]}}."""
        steps, scores = [], {}
        for i in self.every(evals):
            point = self.nets[i]
            point["G"].eval()
            with torch.no_grad():
                for name, value in dict(evaluate(point)).items():
                    scores.setdefault(name, []).append(float(value))
            point["G"].train()
            steps.append(self.at[i])
        return {"steps": steps, "scores": scores}


def _weights_digest(nets: nn.ModuleDict) -> str:
    """A short hash of the trained weights: a cached curve belongs to these weights and no others."""
    h = hashlib.sha256()
    for name, value in nets.state_dict().items():
        h.update(name.encode())
        h.update(value.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def train_or_load_gan(name: str, recipe: Recipe, real: Callable, seed: int, device="cpu", *, data,
                      steps: int | None = None, settings: Mapping | None = None, evaluate: Callable | None = None,
                      evals: int = CURVE_POINTS, points: int = CURVE_POINTS, watch: torch.Tensor | None = None,
                      losses: Losses | None = None, desc: str | None = None, log_every: int = 25,
                      progress: bool | None = None) -> tuple[nn.ModuleDict, train.History]:
    """``build`` then ``train_gan``, through ``train.train_or_load``, with one cache for every caller.

    The model is keyed by what determines its weights: the recipe's values (not its name or
    description), ``seed``, ``steps`` (default ``recipe.steps``), ``data`` (what ``real`` draws from,
    e.g. "mnist" or {"mixture": "grid", "sigma": 0.05}) and ``points`` (how many copies of the networks
    the run keeps, ``Trajectory``). Any notebook, deck or benchmark asking for the same key loads the
    checkpoint (or ``COURSE_PRETRAINED``'s) instead of training again. ``losses`` (the student's checked
    functions) are not in the key: they compute what the library's do.

    The curve: ``evaluate(nets)`` (a dict of numbers, as in ``train_gan``) at ``evals`` of the kept
    points (``evals`` divides ``points``), computed from the copies after training and cached apart
    under ``name`` with the key, a digest of the weights and ``settings`` (what else the evaluation
    depends on: its sample size, its data). Logged into the returned History at those steps with
    ``at_seconds``, as a ``train_gan`` evaluation would be. ``watch`` (a lens's run): nets["views"]
    (``tempered.Views``) holds L(watch) at the same steps while the lens's weight is above 0, else
    watch. Returns (nets, History)."""
    steps = steps if steps is not None else recipe.steps
    nets = build(recipe, seed, device)
    keep = Trajectory(nets, steps, points)
    key = {"recipe": recipe.settings(), "seed": seed, "steps": steps, "data": data, "points": points}
    history = train.train_or_load(f"gan_{recipe.nets}", nn.ModuleDict({"nets": nets, "trajectory": keep}),
                                  lambda: train_gan(nets, real, recipe, seed, steps=steps, losses=losses, keep=keep,
                                                    desc=desc, log_every=log_every, progress=progress), key)
    chosen = keep.every(evals)
    if evaluate is not None:
        curve = train.compute_or_load(f"{name}_curve", lambda: keep.evaluate(evaluate, evals),
                                      {**key, "weights": _weights_digest(nets), "evals": evals, **(settings or {})})
        for j, (step, i) in enumerate(zip(curve["steps"], chosen)):
            history.log(step, **{k: v[j] for k, v in curve["scores"].items()}, at_seconds=keep.seconds[i].item())
    if watch is not None:
        if not recipe.lens:
            raise ValueError("watch= shows what a lens does to images: give it with a recipe that has a lens")
        K = max(1, round(recipe.k_share * steps))  # as train_gan computes it
        views = tempered.Views(len(chosen), watch).to(device)
        with torch.no_grad():
            for j, i in enumerate(chosen):
                # train_gan's evaluation after step t (0-based) shows L(x) while lambda(t) > 0
                on = tempered.lambda_schedule(keep.at[i] - 1, K) > 0
                views.lensed[j] = keep.nets[i]["L"](watch) if on else watch
        nets["views"] = views
    return nets, history


def train_critic(D: nn.Module, batches: Callable, recipe: Recipe, seed: int, *, steps: int | None = None,
                 losses: Losses | None = None, inspect: Callable | None = None, log_every: int = 25,
                 desc: str | None = None, progress: bool | None = False) -> train.History:
    """Train a discriminator or critic ``D`` alone, against two fixed distributions (notebook 06's
    probes: no generator learns). ``batches(n, generator) -> (real, fake)``, each ``(n, ...)`` with
    n = ``recipe.batch``, drawn from the run's one generator (seeded by ``seed``). Each step is
    ``train_gan``'s D step: the recipe's objective (cross-entropy for "saturating" / "ns", critic
    scores for "wgan"; ``losses.d_loss`` if given), its penalty (R1 / R2, gradient penalty: the
    student's ``losses.gradient_penalty`` if given; clipping), its optimiser (``lr_d`` or ``lr``,
    ``betas``). ``inspect(step, D)``, if given, runs after each update (D's ``.grad`` still holds that
    step's gradients) and returns a dict of numbers to log at ``step + 1``, or None.
    Returns the ``train.History`` (loss_d every ``log_every`` steps, and inspect's numbers)."""
    steps = steps if steps is not None else recipe.steps
    fns = (losses or Losses()).resolved(recipe)
    g = torch.Generator().manual_seed(seed)
    opt_d = _optimizer(recipe, D.parameters(), recipe.lr_d if recipe.lr_d is not None else recipe.lr)
    history = train.History()

    def step_fn(step):
        real, fake = batches(recipe.batch, g)
        _, loss_d = _d_step(D, opt_d, recipe, fns, real, fake.detach(), step, g)
        if inspect is not None:
            seen = inspect(step, D)
            if seen:
                history.log(step + 1, **seen)
        return {"loss_d": loss_d}

    D.train()
    return train.fit(step_fn, steps, log_every=log_every, desc=desc or f"critic: {recipe.label()}", history=history,
                     progress=progress, optimizers=[opt_d], generators=[g])


# names a notebook saved from an earlier version of the course may still use
_RENAMED = {"train_or_load": "train_or_load_gan"}


def __getattr__(name: str):
    if name in _RENAMED:
        raise AttributeError(f"adversarial.{name} is now adversarial.{_RENAMED[name]} (renamed so that it is not "
                             f"confused with train.train_or_load). Fix: rename the call in your notebook.")
    raise AttributeError(f"module 'course_utils.adversarial' has no attribute {name!r}")
