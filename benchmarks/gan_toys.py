"""Mode collapse on the 2-D mixtures, measured: recipes x seeds -> modes captured and high-quality share.

    python benchmarks/gan_toys.py                         # every run of RUNS, 3 seeds, prints a table
    python benchmarks/gan_toys.py --only toy-r1 "toy-r1 (penalty='none', gamma=0.0)" --seeds 0 1 2
    python benchmarks/gan_toys.py --only toy-gan --mixture ring --steps 5000
    python benchmarks/gan_toys.py --fast                  # smoke run (50 steps)
    python benchmarks/gan_toys.py --only "toy-wgan-gp (ema=0.999)" toy-wgan-clip --record wgan_toys  # notebook 06's

VEEGAN's protocol (Srivastava et al. 2017, section 5.1; ``course_utils.toys.mode_report``):
2,500 samples; a sample is high quality within 3 sigma of its nearest mode; a mode is captured
when it is the nearest mode of at least one high-quality sample. Every run trains for a fixed
number of steps with the course's engine (``adversarial.train_gan``), so a row measures exactly
what a notebook runs; its wall time is printed next to the scores. Results are recorded with
``course_utils.results`` as ``gan_toys`` (or ``--record NAME``; in ``$COURSE_RESULTS``) unless ``--fast``.
A run is a registered recipe of ``adversarial.RECIPES`` and the fields it changes, named as
``Recipe.label`` writes it on the command line, in the table and in the record (``adversarial.from_label``
reads it back): the benchmark has no names of its own.
"""

from __future__ import annotations

import argparse
import statistics

import torch

from course_utils import adversarial, results, toys

_r = adversarial.recipe
# (mixture, recipe): the plain GAN at the Unrolled-GAN / VEEGAN sizes (toy-gan); the course's toy recipes of
# notebooks 04-06 and the variants the notebooks quote.
_SLOW_R1 = dict(lr=1e-4, lr_end=None, lazy=1, steps=20000)  # R1 at toy-gan's Adam 1e-4, every step, constant rate
RUNS = [
    ("grid", _r("toy-gan")),
    ("grid", _r("toy-r1").with_(**_SLOW_R1)),
    ("grid", _r("toy-r1").with_(**_SLOW_R1, ema=0.999)),
    ("grid", _r("toy-r1").with_(steps=20000)),
    # the ablation: toy-r1's networks, noise and schedule without the penalty (what does R1 itself do?)
    ("grid", _r("toy-r1").with_(penalty="none", gamma=0.0, steps=20000)),
    ("grid", _r("toy-r1").with_(ema=0.999, steps=20000)),
    # Wasserstein GANs (notebook 06). Gulrajani et al.'s released toy script: 3 x 512 ReLU, Adam 1e-4
    # (0.5, 0.9), 5 critic steps, lambda 0.1 (the paper itself uses lambda 10 everywhere); the course's faster recipe
    # (toy-wgan-gp): 3 x 256, 2 critic steps, cosine-decayed 5e-4
    ("grid", _r("toy-wgan-gp").with_(hidden=512, lr=1e-4, lr_end=None, gp_lambda=0.1, n_critic=5, steps=2500)),
    ("grid", _r("toy-wgan-gp")),
    ("grid", _r("toy-wgan-gp").with_(ema=0.999)),
    ("grid", _r("toy-wgan-clip")),
    ("ring", _r("toy-gan")),
    ("ring", _r("toy-r1").with_(**_SLOW_R1)),
]
MIXTURES = {"grid": lambda: toys.grid(25, sigma=0.05), "ring": lambda: toys.ring(8, sigma=0.05)}


def train_toy(mixture: toys.Mixture, recipe: adversarial.Recipe, seed: int, steps: int, evals: int = 0):
    """Train one GAN on ``mixture`` with the engine; returns (scores at the end, seconds of training,
    [(step, seconds, scores), ...] at ``evals`` evenly spaced evaluations)."""
    nets = adversarial.build(recipe, seed)
    eval_noise = torch.randn(2500, recipe.latent, generator=torch.Generator().manual_seed(10_000 + seed))

    def evaluate(nets):  # numbers only, for the History
        report = toys.mode_report(adversarial.sampler(nets)(eval_noise), mixture)
        return {k: report[k] for k in ("modes", "high_quality", "kl")}

    history = adversarial.train_gan(nets, lambda n, g: mixture.sample(n, g), recipe, seed, steps=steps,
                                    evaluate=evaluate if evals else None, evals=evals,
                                    desc=f"{recipe.label()}, seed {seed}", log_every=100)
    curve = []
    if evals:
        for i, step in enumerate(history.steps["modes"]):
            curve.append((int(step), float(history["at_seconds"][i]),
                          {k: float(history[k][i]) for k in ("modes", "high_quality", "kl")}))
    with torch.no_grad():
        return evaluate(nets), float(history["seconds"][-1]), curve


def run(argv=None) -> list[dict]:
    """Train and score the runs ``argv`` asks for, print the tables, record them (not with ``--fast``).
    Returns the runs as data: {"recipe", "mixture", "seed", "steps", "seconds", "modes", "high_quality", "kl"}."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", metavar="RECIPE",
                        help='registered recipes, with the fields they change as in the table, e.g. "toy-r1 '
                             '(gamma=0.0)" (default: every run of RUNS, each on its mixture)')
    parser.add_argument("--mixture", choices=list(MIXTURES), default="grid", help="the mixture of the --only runs")
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--steps", type=int, help="override every recipe's number of steps")
    parser.add_argument("--curve", type=int, default=0, help="also print the scores N times during each run")
    parser.add_argument("--fast", action="store_true", help="smoke run: 50 steps, one seed, nothing recorded")
    parser.add_argument("--record", default="gan_toys", help="name of the results record (a run replaces its record)")
    args = parser.parse_args(argv)
    seeds = args.seeds[:1] if args.fast else args.seeds
    print("| recipe | seed | steps | seconds | modes | high quality (%) | KL(hist || uniform) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    summary, runs = {}, []
    try:
        todo = [(args.mixture, adversarial.from_label(x)) for x in args.only] if args.only is not None else RUNS
    except ValueError as err:
        parser.error(str(err))
    for kind, recipe in todo:
        mixture = MIXTURES[kind]()
        steps = 50 if args.fast else (args.steps or recipe.steps)
        name = recipe.with_(steps=steps).label()  # the row's name: the recipe that ran
        print(f"{name} on the {kind}: {recipe.description}", flush=True)
        rows = []
        for seed in seeds:
            scores, seconds, curve = train_toy(mixture, recipe, seed, steps, args.curve)
            for step, t, c in curve:
                print(f"|   {name} (curve) | {seed} | {step} | {t:.0f} | {c['modes']} "
                      f"| {100 * c['high_quality']:.1f} | {c['kl']:.3f} |")
            print(f"| {name} | {seed} | {steps} | {seconds:.0f} | {scores['modes']} "
                  f"| {100 * scores['high_quality']:.1f} | {scores['kl']:.3f} |", flush=True)
            rows.append((scores["modes"], 100 * scores["high_quality"], seconds))
            runs.append({"recipe": name, "mixture": kind, "seed": seed, "steps": steps, "seconds": seconds,
                         **{k: float(v) for k, v in scores.items()}})
        modes, hq, secs = zip(*rows)

        def sd(v):
            return statistics.stdev(v) if len(v) > 1 else 0.0

        summary[(name, kind)] = (statistics.mean(modes), sd(modes), statistics.mean(hq), sd(hq), statistics.mean(secs),
                         min(modes), min(hq), steps)
    print("\n| recipe | mixture | modes (mean ± sd) | high quality % (mean ± sd) | worst seed: modes / HQ % "
          "| seconds | seeds |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for (name, kind), (m, msd, q, qsd, t, mmin, qmin, _) in summary.items():
        print(f"| {name} | {kind} | {m:.1f} ± {msd:.1f} | {q:.1f} ± {qsd:.1f} | {mmin} / {qmin:.1f} "
              f"| {t:.0f} | {len(seeds)} |")
    if not args.fast:
        metrics = {}
        for (name, kind), (m, msd, q, qsd, t, mmin, qmin, steps) in summary.items():
            label = f"{name} on the {kind}, {steps:,} steps"
            metrics[f"{label}: modes (mean of {len(seeds)} seeds)"] = m
            metrics[f"{label}: modes, sd over seeds"] = msd
            metrics[f"{label}: modes, worst seed"] = mmin
            metrics[f"{label}: high quality (%)"] = q
            metrics[f"{label}: high quality, worst seed (%)"] = qmin
            metrics[f"{label}: seconds per run"] = t
        results.record(args.record, metrics)
    return runs


if __name__ == "__main__":
    run()
