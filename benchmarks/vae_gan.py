"""The lecture's VAE-GAN against the VAE at an equal budget: the same networks, batches, steps and
schedule, with and without the discriminator's term, over seeds, scored on the course's yardstick.

    python benchmarks/vae_gan.py                       # 3 variants x seeds 0-2, recorded as vae_gan
    python benchmarks/vae_gan.py --only vae lecture --seeds 0
    python benchmarks/vae_gan.py --fast                # smoke run (20 steps, one seed, nothing recorded)

Variants (``hybrids.train_vae_gan`` with ``hybrids.VAE_GAN``'s steps, batch and discriminator width,
cached under ``COURSE_OUTPUT`` as notebook 08 caches them): ``vae``, the adversarial weight 0 (no
discriminator); ``lecture``, reconstructions on D's real side, as the lecture draws it;
``larsen``, reconstructions on the fake side, as Larsen et al. (2016) label them. Scores: the
yardstick's distance over its floor (``metrics.Yardstick``, 10,000 images) for decoder means of
samples from scratch (the same noise for every model) and for reconstructions of the first 10,000
test digits (decoder means at the encoder's mean), with the seconds of training.
"""

from __future__ import annotations

import argparse
import statistics

import torch

from course_utils import config, data, hybrids, metrics, results

VARIANTS = {  # name: (title, adversarial weight, side of the reconstructions)
    "vae": ("VAE (no discriminator)", 0.0, "real"),
    "lecture": ("VAE-GAN, reconstructions real (the lecture)", 1.0, "real"),
    "larsen": ("VAE-GAN, reconstructions fake (Larsen et al.)", 1.0, "fake"),
}


def run(argv=None) -> list[dict]:
    """Train and score the variants ``argv`` asks for, print the tables, record them (not with
    ``--fast``). Returns the runs as data: {"variant", "seed", "samples", "reconstructions" (distance /
    floor), "seconds"}."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--fast", action="store_true", help="smoke run: 20 steps, one seed, nothing recorded")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    cfg = config.setup(fast=args.fast, seed=args.seeds[0], device=args.device)
    seeds = args.seeds[:1] if args.fast else args.seeds
    recipe = hybrids.VAE_GAN
    steps = cfg.scale(full=recipe["steps"], fast=20)
    x_train = data.mnist("train").batch(torch.arange(60_000), cfg.device)[0]
    yardstick = metrics.Yardstick(cfg.device)
    x_test = data.mnist("test").batch(torch.arange(yardstick.n), cfg.device)[0]
    print(f"{steps:,} steps of {recipe['batch']} images, discriminator width {recipe['width']}")
    print("| variant | seed | samples: distance / floor | reconstructions: distance / floor | seconds |")
    print("| --- | ---: | ---: | ---: | ---: |")
    rows = {}
    for name in args.only:
        title, weight, side = VARIANTS[name]
        rows[name] = []
        for seed in seeds:
            vae, history = hybrids.train_vae_gan(x_train, steps, cfg.device, adversarial_weight=weight, seed=seed,
                                                 width=recipe["width"], batch=recipe["batch"], reconstructions=side)
            samples, recons = hybrids.vae_images(vae, x_test, yardstick.n)
            s, r = yardstick.score(samples)["x_floor"], yardstick.score(recons)["x_floor"]
            rows[name].append((s, r, history.seconds))
            print(f"| {title} | {seed} | {s:.1f} | {r:.1f} | {history.seconds:.0f} |", flush=True)

    def spread(values):
        return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)

    print("\n| variant | samples / floor (mean ± sd) | reconstructions / floor (mean ± sd) | seconds | seeds |")
    print("| --- | ---: | ---: | ---: | ---: |")
    out = {"steps": steps, "batch": recipe["batch"], "seeds": len(seeds)}
    for name, runs in rows.items():
        title = VARIANTS[name][0]
        (sm, ssd), (rm, rsd) = spread([r[0] for r in runs]), spread([r[1] for r in runs])
        secs = statistics.mean(r[2] for r in runs)
        print(f"| {title} | {sm:.1f} ± {ssd:.1f} | {rm:.1f} ± {rsd:.1f} | {secs:.0f} | {len(seeds)} |")
        out.update({f"{title}: samples, distance / floor (mean of seeds)": sm,
                    f"{title}: samples, distance / floor, sd over seeds": ssd,
                    f"{title}: reconstructions, distance / floor (mean of seeds)": rm,
                    f"{title}: reconstructions, distance / floor, sd over seeds": rsd,
                    f"{title}: seconds of training per run": secs,
                    **{f"{title}, seed {s}: samples, distance / floor": r[0] for s, r in zip(seeds, runs)}})
    if not args.fast:
        results.record("vae_gan", out, cfg)
    return [{"variant": name, "seed": s, "samples": r[0], "reconstructions": r[1], "seconds": r[2]}
            for name, runs in rows.items() for s, r in zip(seeds, runs)]


if __name__ == "__main__":
    run()
