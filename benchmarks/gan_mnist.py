"""The MNIST GAN recipes, measured on the course's yardstick: classifier-Fréchet distance of 10,000
samples (beside the real-vs-real floor), digit coverage and speed, after a budget of training time.

    python benchmarks/gan_mnist.py                          # every recipe, seed 0, 15 minutes each
    python benchmarks/gan_mnist.py --only mnist-dcgan --seconds 900 --seeds 0 1 2
    python benchmarks/gan_mnist.py --fast                   # smoke run
    python benchmarks/gan_mnist.py --stacked --only "mnist-dcgan (ema=0.0)" mnist-wgan-gp --seconds 600  # 1,000 modes
    python benchmarks/gan_mnist.py --only mnist-tempered "mnist-dcgan-w64 (ema=0.0)" --record tempered_mnist  # nb 07

Every run is a registered recipe of ``adversarial.RECIPES`` and the fields it changes, named as
``Recipe.label`` writes it on the command line, in the table and in the record (no names of its own), and
trains with the course's engine (``adversarial.train_gan``) for ``--seconds`` of training time
(the budget the course states). Every ``--eval-every`` seconds the curve gets the unbiased
kernel distance of ``--n-curve`` samples (``metrics.Yardstick.curve_point``); at the end the
yardstick scores exactly 10,000 samples against the 10,000 test images, printed beside its floor
(10,000 training images against the same test images). Not FID: see ``course_utils.metrics``.

``--stacked``: stacked MNIST (Metz et al. 2017; VEEGAN; PacGAN), three independent digits as the
three channels of one image, so 10 x 10 x 10 = 1,000 modes. The same recipes train 3-channel
networks; every evaluation draws 26,000 samples (the protocol of VEEGAN and PacGAN), reads each
channel with the yardstick's classifier and reports the modes hit and KL(mode histogram || uniform).
Published figures (read from the papers' tables; VEEGAN's setting, 26,000 samples) are printed
beside ours; their networks and training budgets differ from ours.
"""

from __future__ import annotations

import argparse

import torch

from course_utils import adversarial, config, data, metrics, results

_r = adversarial.recipe
RUNS = [  # the default runs
    _r("mnist-dcgan").with_(ema=0.0),
    _r("mnist-dcgan"),
    _r("mnist-dcgan-r1"),
    # the DCGAN paper's sizes (width 64, batch 128, Adam 2e-4): the course's recipe before
    # benchmarks/gan_peers.py measured the CPU-sized one; earlier records name it
    _r("mnist-dcgan-w64").with_(ema=0.0),
    _r("mnist-dcgan-w64"),
    # deliberately bad settings (notebook 04, "a setting that collapses")
    _r("mnist-dcgan").with_(ema=0.0, freeze_d_after=500),
    _r("mnist-dcgan").with_(ema=0.0, lr_d=2e-5),
    # Wasserstein GANs (notebook 06): Gulrajani et al.'s lambda 10, 5 critic steps, Adam 1e-4;
    # betas (0.5, 0.9) as in their released code (the paper's Algorithm 1 has beta1 = 0)
    _r("mnist-wgan-gp"),
    _r("mnist-wgan-gp").with_(ema=0.999),
    # tempered GAN (notebook 07): a lens whose weight lambda falls to 0 over the first k_share of the time
    # budget (under a time budget the engine's schedule runs on training seconds)
    _r("mnist-tempered"),
]


# Stacked MNIST, published: (modes of 1,000, KL(histogram || uniform)). VEEGAN Table 2 (Srivastava
# et al. 2017) and PacGAN Table 2 (Lin et al. 2018, same setting, mean of 10 runs).
PUBLISHED_STACKED = {
    "DCGAN (VEEGAN Table 2)": (99.0, 3.40),
    "ALI (VEEGAN Table 2)": (16.0, 5.40),
    "Unrolled GAN (VEEGAN Table 2)": (48.7, 4.32),
    "VEEGAN (VEEGAN Table 2)": (150.0, 2.95),
    "PacDCGAN2 (PacGAN Table 2)": (1000.0, 0.06),
}
STACKED_SAMPLES = 26_000


def train_recipe(recipe: adversarial.Recipe, yardstick: metrics.Yardstick, x_all: torch.Tensor, labels: torch.Tensor,
                 seconds: float, evals: int, seed: int, cfg, n_curve: int, stacked: bool = False,
                 n_stacked: int = STACKED_SAMPLES):
    """Train ``recipe`` from ``seed`` for ``seconds`` of training; returns (History, final scores).
    Each of the ``evals`` evaluations logs the kernel distance, entropy and digits of ``n_curve``
    samples (stacked: modes and KL of ``n_stacked`` samples); the final scores are the yardstick's
    (stacked: modes and KL). x_all ``(60000, 1, 28, 28)`` in [0, 1] and labels: the training set, on the device."""
    if stacked:
        recipe = recipe.with_(channels=3)

    def stacked_batches(n, g):  # three independent random digits per image
        return data.stacked(x_all, labels, n, generator=g)[0]

    real = stacked_batches if stacked else adversarial.real_batches(x_all)
    n_final = n_stacked if stacked else yardstick.n
    curve_z = adversarial.noise(n_curve, recipe.latent, adversarial.CURVE_SEED, cfg.device)
    final_z = adversarial.noise(n_final, recipe.latent, adversarial.SCORE_SEED, cfg.device)

    def evaluate(nets):
        if stacked:
            scores = metrics.stacked_modes(yardstick.classifier, adversarial.generate(nets, final_z))
            line = {"modes": scores["modes"], "kl": scores["kl"]}
        else:
            line = yardstick.curve_point(adversarial.generate(nets, curve_z))
        print(f"  {', '.join(f'{k} {v:.4g}' for k, v in line.items())}", flush=True)
        return line

    nets = adversarial.build(recipe, seed, cfg.device)
    history = adversarial.train_gan(nets, real, recipe, seed, seconds=seconds, evaluate=evaluate, evals=evals,
                                    desc=f"{recipe.label()}, seed {seed}", log_every=50)
    adversarial.sampler(nets).eval()
    images = adversarial.generate(nets, final_z)
    final = metrics.stacked_modes(yardstick.classifier, images) if stacked else yardstick.score(images)
    return history, final


def run(argv=None) -> list[dict]:
    """Train and score the runs ``argv`` asks for, print the table, record it (not with ``--fast``).
    Returns the runs as data: {"recipe", "seed", "steps", "seconds", and the final scores: the
    yardstick's, or with ``--stacked`` "modes" and "kl"}; with ``--stacked`` a last row
    {"recipe": "real", "modes", "kl"}: the protocol's floor, real stacked images."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", metavar="RECIPE",
                        help='registered recipes, with the fields they change as in the table, e.g. "mnist-dcgan '
                             '(ema=0.0)" (default: every run of RUNS)')
    parser.add_argument("--seeds", nargs="*", type=int, default=[0])
    parser.add_argument("--seconds", type=float, default=900, help="seconds of training per run")
    parser.add_argument("--eval-every", type=float, default=150, help="seconds of training between points of the curve")
    parser.add_argument("--n-curve", type=int, default=2000,
                        help="samples per point of the curve (final scores: 10,000)")
    parser.add_argument("--stacked", action="store_true", help="stacked MNIST: 3 channels, 1,000 modes")
    parser.add_argument("--fast", action="store_true")
    parser.add_argument("--record", help="name of the results record (default gan_mnist / stacked_mnist; "
                                         "a run replaces its record)")
    args = parser.parse_args(argv)
    try:
        todo = [adversarial.from_label(x) for x in args.only] if args.only is not None else RUNS
    except ValueError as err:
        parser.error(str(err))
    cfg = config.setup(fast=args.fast, seed=0, device="auto")
    seconds, n_curve = (4, 500) if args.fast else (args.seconds, args.n_curve)
    n_stacked = 2000 if args.fast else STACKED_SAMPLES  # the smoke run: fewer stacked samples
    evals = 2 if args.fast else max(1, round(seconds / args.eval_every))
    yardstick = metrics.Yardstick(cfg.device)
    train_set = data.mnist("train")  # loaded once, for every run
    x_all, labels = train_set.images.to(cfg.device).float().div_(255), train_set.labels.to(cfg.device)
    if args.stacked:  # the floor of this protocol: real stacked images, read by the same classifier
        real_stacked = data.stacked(x_all, labels, n_stacked,
                                    generator=torch.Generator().manual_seed(0))[0]
        real_modes = metrics.stacked_modes(yardstick.classifier, real_stacked)
        print(f"real stacked MNIST ({n_stacked:,} images): modes {real_modes['modes']} / 1000, "
              f"KL {real_modes['kl']:.3f}")
    table = []
    for recipe in todo:
        name = recipe.label()
        for seed in (args.seeds[:1] if args.fast else args.seeds):
            print(f"{name}, seed {seed}: {recipe.description}", flush=True)
            history, final = train_recipe(recipe, yardstick, x_all, labels, seconds, evals, seed, cfg, n_curve,
                                          stacked=args.stacked, n_stacked=n_stacked)
            steps, t = int(history.steps["loss_g"][-1]) + 1, float(history["seconds"][-1])
            table.append((name, seed, steps, t, final))
    runs = [{"recipe": name, "seed": seed, "steps": step, "seconds": t, **final}
            for name, seed, step, t, final in table]
    if args.stacked:
        runs.append({"recipe": "real", **real_modes})
    record_name = args.record or ("stacked_mnist" if args.stacked else "gan_mnist")
    if args.stacked:
        print("\n| recipe | seed | steps | seconds | steps/s | modes (of 1,000) | KL(histogram || uniform) |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for name, seed, step, t, s in table:
            print(f"| {name} | {seed} | {step} | {t:.0f} | {step / t:.1f} | {s['modes']} | {s['kl']:.3f} |")
        print(f"| real stacked MNIST (the floor) | | | | | {real_modes['modes']} | {real_modes['kl']:.3f} |")
        for name, (modes, kl) in PUBLISHED_STACKED.items():
            print(f"| published: {name} | | | | | {modes:g} | {kl:.2f} |")
        if not args.fast:
            record = {"real stacked MNIST: modes (of 1,000)": real_modes["modes"],
                      "real stacked MNIST: KL(histogram || uniform)": real_modes["kl"]}
            for name, seed, step, t, s in table:
                key = f"{name} (stacked) seed {seed}, {t / 60:.0f} min"
                record[f"{key}: modes (of 1,000)"] = s["modes"]
                record[f"{key}: KL(histogram || uniform)"] = s["kl"]
            results.record(record_name, record, cfg, paper={
                key: "PacDCGAN2 1000 (PacGAN Table 2); DCGAN 99 (VEEGAN Table 2)" if "modes" in key else
                "PacDCGAN2 0.06; DCGAN 3.40" for key in record if not key.startswith("real")})
        return runs
    print(f"\nthe yardstick: {yardstick.n:,} samples against the test set; real-vs-real floor {yardstick.floor:.2f}")
    print("| recipe | seed | steps | seconds | steps/s | classifier-Fréchet | x floor | digits | entropy "
          "| confidence |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, seed, step, t, s in table:
        print(f"| {name} | {seed} | {step} | {t:.0f} | {step / t:.1f} | {s['frechet']:.2f} | {s['x_floor']:.1f} | "
              f"{s['classes_present']} | {s['entropy']:.3f} | {s['confidence']:.3f} |")
    if not args.fast:
        record = {"yardstick: real-vs-real floor (n = 10,000)": yardstick.floor}
        for name, seed, step, t, s in table:
            label = f"{name} seed {seed}, {t / 60:.0f} min"
            record[f"{label}: classifier-Fréchet (n = 10,000)"] = s["frechet"]
            record[f"{label}: classifier-Fréchet / floor"] = s["x_floor"]
            record[f"{label}: entropy (nats)"] = s["entropy"]
        results.record(record_name, record, cfg)
    return runs


if __name__ == "__main__":
    run()
