"""The course's MNIST GAN against the two implementations students copy, for the same CPU time.

    python benchmarks/gan_peers.py                              # everything, 3 seeds, 10 minutes per run
    python benchmarks/gan_peers.py --seeds 0 --only pytorch-gan course:mnist-dcgan
    python benchmarks/gan_peers.py --seconds 900 --only course:mnist-dcgan --record gan_peers_15min
    python benchmarks/gan_peers.py --seconds 900 --only course:mnist-dcgan-r1 --record gan_peers_15min_r1
    python benchmarks/gan_peers.py --seconds 900 --only "course:mnist-dcgan (lr_end=0.0, steps=31000)"
    python benchmarks/gan_peers.py --cached-only                # the table of the runs done so far
    python benchmarks/gan_peers.py --fast                       # smoke run (seconds, 500 samples)

The peers, re-implemented from their sources in the course's words (networks, initialisation,
losses, optimisers, update order and data pipeline as written; only the data folder is the course's
and a wall-clock budget replaces the epochs):

- ``pytorch-gan``: eriklindernoren/PyTorch-GAN, ``implementations/dcgan/dcgan.py`` (commit c5d6be1),
  the most copied collection of PyTorch GANs: 32 x 32 images, latent 100, batch 64, Adam 2e-4
  (0.5, 0.999), BCE on a sigmoid D; each batch G's step first, then D's on the same generated batch.
- ``examples``: pytorch/examples, ``dcgan/main.py --dataset mnist`` (commit 13caa07), the
  official example: 64 x 64 images (ngf = ndf = 64), latent 100, batch 64, Adam 2e-4 (0.5, 0.999),
  D's step first (real, then G(z)), then G's step on D's verdict on the same G(z); 2 loader workers.

Each peer runs twice: as written (torchvision's ``MNIST`` dataset, PIL ``Resize``, ``ToTensor``,
``Normalize``, a shuffled ``DataLoader`` with its own number of workers) and on the course's data
path (``+ preloaded``: the training set resized once with the same bilinear filter, held as one
tensor, batches drawn by random indexing), so the table separates the data path from the recipe.
The course's rows are recipes of the engine's registry (``adversarial.RECIPES``) trained by the
engine (``adversarial.train_gan``) on the preloaded training set. A recipe that decays its learning
rates (``lr_end``) decays them over its ``steps``, which must fit in the budget (the run stops at
whichever comes first, and says so when the budget cut the decay short).

Every run trains for ``--seconds`` of wall time (data loading included, scoring left out), one
run after another in this process. Then the fixed yardstick (``metrics.Yardstick``) scores 10,000
samples against the 10,000 test images: the peers' samples are mapped from [-1, 1] to [0, 1] and
resized to 28 x 28 with antialiasing. A peer's script samples with G in training mode (batch
statistics, batches of 64); the table takes the better of that and eval-mode sampling, so the
comparison never favours the course through the peer's sampling. Rows: mean ± sd over seeds.

Each finished run is cached under ``$COURSE_OUTPUT/gan_peers`` by its settings, seconds, seed,
machine and torch version, so a rerun (or a run that adds seeds) trains only what is missing.
Without ``--fast`` the table is recorded (``course_utils.results``, record ``gan_peers``) with the
ratios course / best peer, as written and on either data path.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import random
import statistics
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course_utils import adversarial, config, data, metrics, results, storage, train

SOURCES = {
    "pytorch-gan": "eriklindernoren/PyTorch-GAN, implementations/dcgan/dcgan.py, "
                   "commit c5d6be170013db8975d96806084df573d87e5d26",
    "examples": "pytorch/examples, dcgan/main.py --dataset mnist, commit 13caa078cd69d74ffb447a9eda09f0a81b809480",
}


# ---------------------------------------------------------------- PyTorch-GAN's DCGAN (32 x 32)
class PyTorchGANGenerator(nn.Module):
    """z ``(B, 100)`` -> a linear layer to 128 x 8 x 8 -> BN -> [nearest-neighbour upsampling x 2, 3 x 3
    conv, BN, LeakyReLU(0.2)] twice (128 then 64 channels) -> 3 x 3 conv -> tanh: ``(B, 1, 32, 32)``
    in [-1, 1]. The BN layers after the convolutions get 0.8 as their second positional argument,
    which is eps (not momentum): kept, as the source has it."""

    def __init__(self, latent: int = 100, size: int = 32, channels: int = 1):
        super().__init__()
        self.start = size // 4
        self.project = nn.Linear(latent, 128 * self.start**2)
        self.body = nn.Sequential(
            nn.BatchNorm2d(128),
            nn.Upsample(scale_factor=2), nn.Conv2d(128, 128, 3, 1, 1), nn.BatchNorm2d(128, 0.8), nn.LeakyReLU(0.2),
            nn.Upsample(scale_factor=2), nn.Conv2d(128, 64, 3, 1, 1), nn.BatchNorm2d(64, 0.8), nn.LeakyReLU(0.2),
            nn.Conv2d(64, channels, 3, 1, 1), nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(self.project(z).view(z.shape[0], 128, self.start, self.start))


class PyTorchGANDiscriminator(nn.Module):
    """Images ``(B, 1, 32, 32)`` -> four [3 x 3 stride-2 conv, LeakyReLU(0.2), Dropout2d(0.25), BN
    with eps 0.8 (not on the first)] blocks of 16, 32, 64, 128 channels -> linear -> sigmoid:
    probabilities ``(B, 1)``."""

    def __init__(self, size: int = 32, channels: int = 1):
        super().__init__()
        blocks, width = [], channels
        for out, bn in ((16, False), (32, True), (64, True), (128, True)):
            blocks += [nn.Conv2d(width, out, 3, 2, 1), nn.LeakyReLU(0.2), nn.Dropout2d(0.25)]
            if bn:
                blocks.append(nn.BatchNorm2d(out, 0.8))
            width = out
        self.body = nn.Sequential(*blocks, nn.Flatten())
        self.head = nn.Sequential(nn.Linear(128 * (size // 16) ** 2, 1), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


# ---------------------------------------------------------------- pytorch/examples' DCGAN (64 x 64)
class ExamplesGenerator(nn.Module):
    """z ``(B, 100, 1, 1)`` -> transposed 4 x 4 convolutions without bias, 8 ngf x 4 x 4, 4 ngf x 8 x 8,
    2 ngf x 16 x 16, ngf x 32 x 32 (each BN, ReLU) -> 1 x 64 x 64 -> tanh (Radford et al.'s DCGAN)."""

    def __init__(self, latent: int = 100, ngf: int = 64, channels: int = 1):
        super().__init__()
        layers, width = [nn.ConvTranspose2d(latent, 8 * ngf, 4, 1, 0, bias=False), nn.BatchNorm2d(8 * ngf),
                         nn.ReLU()], 8 * ngf
        for out in (4 * ngf, 2 * ngf, ngf):
            layers += [nn.ConvTranspose2d(width, out, 4, 2, 1, bias=False), nn.BatchNorm2d(out), nn.ReLU()]
            width = out
        self.body = nn.Sequential(*layers, nn.ConvTranspose2d(width, channels, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(z.view(z.shape[0], -1, 1, 1))


class ExamplesDiscriminator(nn.Module):
    """Images ``(B, 1, 64, 64)`` -> 4 x 4 stride-2 convolutions without bias to ndf x 32 x 32 (LeakyReLU
    0.2), 2 ndf x 16 x 16, 4 ndf x 8 x 8, 8 ndf x 4 x 4 (each BN, LeakyReLU 0.2) -> a 4 x 4 conv to
    one number -> sigmoid: probabilities ``(B,)``."""

    def __init__(self, ndf: int = 64, channels: int = 1):
        super().__init__()
        layers, width = [nn.Conv2d(channels, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2)], ndf
        for out in (2 * ndf, 4 * ndf, 8 * ndf):
            layers += [nn.Conv2d(width, out, 4, 2, 1, bias=False), nn.BatchNorm2d(out), nn.LeakyReLU(0.2)]
            width = out
        self.body = nn.Sequential(*layers, nn.Conv2d(width, 1, 4, 1, 0, bias=False), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).view(-1)


def dcgan_init(batchnorm: tuple[type, ...]):
    """Both peers' initialisation: every convolution's (and transposed convolution's) weight
    ~ N(0, 0.02), the listed batch-norm layers' scale ~ N(1, 0.02) and shift 0; everything else
    (linear layers, conv biases) keeps PyTorch's default. PyTorch-GAN matches ``BatchNorm2d``
    only, pytorch/examples every ``BatchNorm``: here both have only ``BatchNorm2d``."""
    def init(m: nn.Module) -> None:
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, batchnorm):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    return init


@dataclass(frozen=True)
class Peer:
    """One peer's recipe as its script has it; ``preloaded``: the course's data path instead of its own."""

    name: str
    size: int
    latent: int = 100
    batch: int = 64
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    workers: int = 0
    g_first: bool = False
    preloaded: bool = False

    def label(self) -> str:
        return f"{self.name}{' + preloaded' if self.preloaded else ''}"

    def build(self, seed: int, device) -> tuple[nn.Module, nn.Module]:
        def make() -> nn.ModuleList:
            if self.name == "pytorch-gan":
                nets = nn.ModuleList([PyTorchGANGenerator(self.latent, self.size), PyTorchGANDiscriminator(self.size)])
            else:
                nets = nn.ModuleList([ExamplesGenerator(self.latent), ExamplesDiscriminator()])
            return nets.apply(dcgan_init((nn.BatchNorm2d,)))

        G, D = train.seeded(seed, make).to(device)
        return G, D


PEERS = {
    "pytorch-gan": Peer("pytorch-gan", size=32, workers=0, g_first=True),  # n_cpu is parsed but never used
    "examples": Peer("examples", size=64, workers=2, g_first=False),
}
PEERS.update({f"{k} + preloaded": dataclasses.replace(p, preloaded=True) for k, p in list(PEERS.items())})


def loader_batches(peer: Peer, device):
    """The peer's own pipeline: torchvision's MNIST (PIL images), Resize, ToTensor, Normalize(0.5, 0.5),
    shuffled DataLoader with the peer's workers, epoch after epoch (the last batch of an epoch smaller)."""
    import torchvision.datasets as tvd
    import torchvision.transforms as T

    transform = T.Compose([T.Resize(peer.size), T.ToTensor(), T.Normalize((0.5,), (0.5,))])
    dataset = tvd.MNIST(str(config.data_dir()), train=True, transform=transform, download=True)
    loader = torch.utils.data.DataLoader(dataset, batch_size=peer.batch, shuffle=True, num_workers=peer.workers)
    while True:
        for x, _ in loader:
            yield x.to(device)


def preloaded_batches(peer: Peer, device, seed: int):
    """The course's data path for a peer: one uint8 tensor on the device, batches by random indexing,
    scaled to [-1, 1] as ToTensor + Normalize(0.5, 0.5) would."""
    # resized once, bilinear as PIL's Resize for this upsampling, rounded to uint8 like the PIL image
    x_all = data.resize(data.mnist("train").images, peer.size).to(device)
    g = torch.Generator().manual_seed(seed)
    while True:
        yield x_all[torch.randint(len(x_all), (peer.batch,), generator=g).to(device)].float().div_(127.5).sub_(1.0)


def train_peer(peer: Peer, seed: int, seconds: float, device) -> tuple[nn.Module, int, float]:
    """The peer's training loop for ``seconds`` of wall time (its data loading included). Returns
    (G, steps, seconds)."""
    random.seed(seed)  # as pytorch/examples seeds (the shuffling and z come from torch's global generator)
    np.random.seed(seed)
    torch.manual_seed(seed)
    G, D = peer.build(seed, device)
    bce = nn.BCELoss()
    opt_g = torch.optim.Adam(G.parameters(), lr=peer.lr, betas=peer.betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=peer.lr, betas=peer.betas)
    start = time.perf_counter()
    batches = preloaded_batches(peer, device, seed) if peer.preloaded else loader_batches(peer, device)
    steps, last_print = 0, start
    while time.perf_counter() - start < seconds:
        x = next(batches)
        n = x.shape[0]
        ones, zeros = torch.ones(n, device=device), torch.zeros(n, device=device)
        z = torch.randn(n, peer.latent, device=device)
        if peer.g_first:  # PyTorch-GAN: G's step, then D's step on the same generated batch
            fake = G(z)
            opt_g.zero_grad()
            bce(D(fake).view(-1), ones).backward()
            opt_g.step()
            opt_d.zero_grad()
            ((bce(D(x).view(-1), ones) + bce(D(fake.detach()).view(-1), zeros)) / 2).backward()
            opt_d.step()
        else:  # pytorch/examples: D's step (real, then G(z)), then G's step on the updated D's verdict
            D.zero_grad()
            bce(D(x), ones).backward()
            fake = G(z)
            bce(D(fake.detach()), zeros).backward()
            opt_d.step()
            G.zero_grad()
            bce(D(fake), ones).backward()
            opt_g.step()
        steps += 1
        if time.perf_counter() - last_print > 60:
            last_print = time.perf_counter()
            print(f"  {peer.label()}, seed {seed}: {steps} steps, {last_print - start:.0f} s", flush=True)
    return G, steps, time.perf_counter() - start


@torch.no_grad()
def peer_samples(G: nn.Module, n: int, latent: int, training_mode: bool, device, batch: int = 64) -> torch.Tensor:
    """``n`` samples of a peer's G as 28 x 28 images in [0, 1] ``(n, 1, 28, 28)``: tanh output mapped
    to [0, 1], resized with antialiasing. training_mode: batch statistics in batches of ``batch`` (as
    the peers' scripts sample; the running averages are put back afterwards), else eval mode."""
    z = torch.randn(n, latent, generator=torch.Generator().manual_seed(3)).to(device)
    saved = {k: v.clone() for k, v in G.state_dict().items()}
    G.train(training_mode)
    out = torch.cat([G(chunk) for chunk in z.split(batch if training_mode else 1000)])
    G.load_state_dict(saved)
    G.eval()
    out = F.interpolate(out.add(1).div(2), size=(28, 28), mode="bilinear", align_corners=False, antialias=True)
    return out.clamp_(0, 1)


def course_samples(nets: nn.ModuleDict, n: int, latent: int, device) -> torch.Tensor:
    return adversarial.generate(nets, adversarial.noise(n, latent, adversarial.SCORE_SEED, device)).clamp_(0, 1)


def decay_steps(recipe: adversarial.Recipe) -> int | None:
    """The steps a course run trains for under its time budget: a learning-rate decay (lr_end) needs
    its length in steps; otherwise None, and the time budget alone ends the run."""
    return recipe.steps if recipe.lr_end is not None else None


def train_course(recipe: adversarial.Recipe, seed: int, seconds: float, x_all: torch.Tensor, device):
    """The engine on the preloaded training set ``x_all`` ``(60000, 1, 28, 28)`` in [0, 1]. Returns
    (the run's networks, steps, seconds)."""
    nets = adversarial.build(recipe, seed, device)
    steps = decay_steps(recipe)
    history = adversarial.train_gan(nets, adversarial.real_batches(x_all), recipe, seed, steps=steps, seconds=seconds,
                                    desc=f"{recipe.label()}, seed {seed}", log_every=50)
    done = int(history.steps["loss_g"][-1]) + 1
    if steps is not None and done < steps:
        print(f"  warning: the {seconds:g} s budget ended the run at step {done:,} of the {steps:,} its "
              "learning-rate decay spans: give the recipe fewer steps", flush=True)
    adversarial.sampler(nets).eval()
    return nets, done, float(history["seconds"][-1])


def run_key(name: str, settings: dict, seed: int, seconds: float, device) -> str:
    blob = json.dumps({"settings": settings, "seed": seed, "seconds": float(seconds), "machine": results.machine(),
                       "device": torch.device(device).type, "torch": torch.__version__}, sort_keys=True, default=str)
    slug = "course" if name.startswith("course:") else name.replace(" + ", "-")
    return f"{slug}-seed{seed}-{seconds:g}s-{hashlib.sha256(blob.encode()).hexdigest()[:10]}"


def score(images: torch.Tensor, yardstick: metrics.Yardstick, fast: bool) -> dict:
    """The yardstick's scores of 10,000 samples; in a smoke run, the kernel distance of a few hundred."""
    if fast:
        point = yardstick.curve_point(images)
        return {"distance": point["kernel"], "x_floor": float("nan"), "classes_present": point["classes_present"],
                "entropy": point["entropy"]}
    s = yardstick.score(images)
    return {"distance": s["frechet"], "x_floor": s["x_floor"], "classes_present": s["classes_present"],
            "entropy": s["entropy"]}


def course_recipe(name: str) -> adversarial.Recipe:
    """``course:`` and a recipe as ``Recipe.label`` writes it (``adversarial.from_label``): a registered
    recipe, ``course:mnist-dcgan``, or a variant being measured, ``course:mnist-dcgan (width=32, ema=0.995)``."""
    if not name.startswith("course:"):
        raise ValueError(f"unknown row {name!r}: one of {', '.join(PEERS)} or course:<a registered recipe, with "
                         "the fields it changes as the table writes them>")
    return adversarial.from_label(name[len("course:"):])


def one_run(name: str, seed: int, seconds: float, yardstick, x_all, cfg, n: int, cached_only: bool = False) -> dict:
    """Train and score one run, or read it from the cache (cached_only: None for a run not there)."""
    if name.startswith("course:"):
        recipe = course_recipe(name)
        # what trains, not what it is called: a variant that is later registered under a name keeps its
        # runs; under a time budget the step count plays a part only as the length of a decay
        ignored = ("name", "description") + (("steps",) if decay_steps(recipe) is None else ())
        settings = {k: v for k, v in recipe.settings().items() if k not in ignored}
    else:
        peer = PEERS[name]
        settings = dataclasses.asdict(peer)
    key = run_key(name, settings, seed, seconds, cfg.device)
    path = cfg.output_dir / "gan_peers" / f"{key}.json"
    if not cfg.fast and path.is_file():
        row = json.loads(path.read_text())
        print(f"{name}, seed {seed}: cached ({path.name})")
        return {**row, "name": name}  # the same training, perhaps registered under a name since
    if cached_only:
        print(f"{name}, seed {seed}: not run yet on this machine (left out of the table)")
        return None
    print(f"{name}, seed {seed}: training for {seconds:g} s", flush=True)
    if name.startswith("course:"):
        nets, steps, took = train_course(recipe, seed, seconds, x_all, cfg.device)
        row = {**score(course_samples(nets, n, recipe.latent, cfg.device), yardstick, cfg.fast),
               "sampling": "EMA / G"}
    else:
        G, steps, took = train_peer(peer, seed, seconds, cfg.device)
        by_mode = {mode: score(peer_samples(G, n, peer.latent, mode == "training mode", cfg.device), yardstick,
                               cfg.fast) for mode in ("training mode", "eval mode")}
        mode = min(by_mode, key=lambda m: by_mode[m]["distance"])
        other = "eval mode" if mode == "training mode" else "training mode"
        row = {**by_mode[mode], "sampling": mode, f"{other}: distance": by_mode[other]["distance"]}
    row.update(name=name, seed=seed, steps=steps, seconds=took, budget=seconds)
    print(f"  {steps} steps in {took:.0f} s: distance {row['distance']:.4g}, digits {row['classes_present']}, "
          f"entropy {row['entropy']:.3f} ({row['sampling']})", flush=True)
    if not cfg.fast:
        storage.atomic_write_text(path, json.dumps(row, indent=1) + "\n")
    return row


def mean_sd(values) -> tuple[float, float]:
    values = [float(v) for v in values]
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def run(argv=None) -> list[dict]:
    """Train (or load) and score the rows ``argv`` asks for, print the table, record it (not with
    ``--fast``). Returns the runs as data (``one_run``'s dicts: "name", "seed", "steps", "seconds",
    "distance", "x_floor", ...)."""
    course_default = ["course:mnist-dcgan", "course:mnist-dcgan-r1"]
    names = list(PEERS) + course_default
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=names,
                        help=f"rows: {', '.join(PEERS)} or course:<registered recipe>")
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--seconds", type=float, default=600.0, help="wall-clock seconds of training per run")
    parser.add_argument("--fast", action="store_true", help="smoke run: 1.5 s per run, 500 samples, nothing kept")
    parser.add_argument("--cached-only", action="store_true",
                        help="train nothing: the table of the runs already cached (each row says how many)")
    parser.add_argument("--record", default="gan_peers", help="name of the results record")
    args = parser.parse_args(argv)
    for name in args.only:
        try:
            if name not in PEERS:
                course_recipe(name)
        except (ValueError, TypeError, SyntaxError) as err:
            parser.error(str(err))
    cfg = config.setup(fast=args.fast, seed=0, device="auto")
    seconds, n = (1.5, 500) if cfg.fast else (args.seconds, metrics.YARDSTICK_N)
    seeds = args.seeds[:1] if cfg.fast else args.seeds
    yardstick = metrics.Yardstick(cfg.device)
    x_all = data.mnist("train").images.to(cfg.device).float().div_(255)
    rows = [one_run(name, seed, seconds, yardstick, x_all, cfg, n, args.cached_only)
            for name in args.only for seed in seeds]
    rows = [r for r in rows if r is not None]
    args.only = [name for name in args.only if any(r["name"] == name for r in rows)]

    unit = "kernel distance (n = 500, smoke run)" if cfg.fast else "classifier-Fréchet (n = 10,000)"
    print(f"\n{seconds:g} s of training per run on {results.machine()}, {cfg.device}; the yardstick's floor "
          f"{yardstick.floor:.2f}; mean ± sd over seeds {', '.join(map(str, seeds))}")
    print(f"| implementation | runs | steps | seconds | {unit} | x floor | digits present (min) | entropy | "
          "sampling |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    summary = {}
    for name in args.only:
        mine = [r for r in rows if r["name"] == name]
        (d, d_sd), (x, x_sd) = mean_sd(r["distance"] for r in mine), mean_sd(r["x_floor"] for r in mine)
        steps, took, ent = (statistics.fmean(r[k] for r in mine) for k in ("steps", "seconds", "entropy"))
        summary[name] = {"distance": d, "sd": d_sd, "x_floor": x, "digits": min(r["classes_present"] for r in mine),
                         "entropy": ent, "steps": steps, "seconds": took, "runs": len(mine)}
        modes = sorted({r["sampling"] for r in mine})
        print(f"| {name} | {len(mine)} | {steps:,.0f} | {took:.0f} | {d:.4g} ± {d_sd:.2g} | "
              f"{'' if math.isnan(x) else f'{x:.1f} ± {x_sd:.1f}'} | {summary[name]['digits']} | {ent:.3f} | "
              f"{' / '.join(modes)} |")
    peers = {k: v for k, v in summary.items() if not k.startswith("course:")}
    course = {k: v for k, v in summary.items() if k.startswith("course:")}
    record = {}
    for peer in sorted({PEERS[k].name for k in peers}):
        print(f"{peer}: {SOURCES[peer]}")
    as_written = {k: v for k, v in peers.items() if "preloaded" not in k}
    for c, s in course.items():
        for which, pool in (("as written", as_written), ("on either data path", peers)):
            if pool:
                best = min(pool, key=lambda k: pool[k]["distance"])
                ratio = s["distance"] / pool[best]["distance"]
                print(f"{c} / best peer {which} ({best}): {ratio:.3f}x (target: at most 0.25x)")
                record[f"ratio: {c} / best peer {which} ({best})"] = ratio
    if not cfg.fast:
        record["yardstick: real-vs-real floor (n = 10,000)"] = yardstick.floor
        for name, s in summary.items():
            label = f"{name}, {s['runs']} seeds, {seconds / 60:g} min"
            record[f"{label}: classifier-Fréchet (n = 10,000), mean"] = s["distance"]
            record[f"{label}: classifier-Fréchet, sd over seeds"] = s["sd"]
            record[f"{label}: x floor, mean"] = s["x_floor"]
            record[f"{label}: steps, mean"] = s["steps"]
            record[f"{label}: digits present, worst seed"] = s["digits"]
        results.record(args.record, record, cfg)
    return rows


if __name__ == "__main__":
    run()
