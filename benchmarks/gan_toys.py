"""Mode collapse on the 2-D mixtures, measured: recipes x seeds -> modes captured and high-quality share.

    python benchmarks/gan_toys.py                         # every recipe, 3 seeds, prints a table
    python benchmarks/gan_toys.py --only r1 --seeds 0 1 2 --seconds 180
    python benchmarks/gan_toys.py --fast                  # smoke run (a few hundred steps)
    python benchmarks/gan_toys.py --only wgan-gp-fast-ema wgan-clip --record wgan_toys   # notebook 06's recipes

VEEGAN's protocol (Srivastava et al. 2017, section 5.1; ``course_utils.toys.mode_report``):
2,500 samples; a sample is high quality within 3 sigma of its nearest mode; a mode is captured
when it is the nearest mode of at least one high-quality sample. Every run trains for a fixed
number of steps; its wall time is printed next to the scores. Results are recorded with
``course_utils.results`` as ``gan_toys`` (or ``--record NAME``; in ``$COURSE_RESULTS``) unless ``--fast``.
Recipes set ``loss``: "ns" (the non-saturating GAN, default), "wgan-gp" (a critic with the gradient
penalty of weight ``lam``) or "wgan-clip" (weights clipped to ``clip``), and ``n_critic`` steps of
D per step of G.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from course_utils import gan, results, toys

# name: (mixture, description, settings). Unrolled-GAN / VEEGAN sizes for the plain GAN:
# G and D with 2 hidden layers of 128 ReLU units, 256-d noise, Adam 1e-4 (beta1 0.5).
RECIPES = {
    "gan": ("grid", "NS-GAN, 2 x 128 ReLU MLPs, 256-d noise, Adam 1e-4 (0.5, 0.999), batch 512 (VEEGAN's sizes)",
            dict(hidden=128, layers=2, noise=256, lr=1e-4, betas=(0.5, 0.999), batch=512, gamma=0.0, steps=20000)),
    "r1": ("grid", "NS-GAN + R1 (gamma 0.1), 3 x 256 ReLU MLPs, 2-d noise, Adam 1e-4 (0.5, 0.9), batch 256",
           dict(hidden=256, layers=3, noise=2, lr=1e-4, betas=(0.5, 0.9), batch=256, gamma=0.1, steps=20000)),
    "r1-ema": ("grid", "as r1, samples from an EMA of G (beta 0.999)",
               dict(hidden=256, layers=3, noise=2, lr=1e-4, betas=(0.5, 0.9), batch=256, gamma=0.1, steps=20000, ema=0.999)),
    "r1-fast": ("grid", "NS-GAN + lazy R1 (gamma 0.1, every 4 steps), 3 x 256, 2-d noise, Adam 5e-4 -> 0 cosine (0.5, 0.9), batch 256",
                dict(hidden=256, layers=3, noise=2, lr=5e-4, lr_end=0.0, betas=(0.5, 0.9), batch=256, gamma=0.1, r1_every=4, steps=20000)),
    # the ablation: r1-fast's networks, noise and schedule without the penalty (what does R1 itself do?)
    "fast-no-r1": ("grid", "as r1-fast with gamma 0 (no penalty)",
                   dict(hidden=256, layers=3, noise=2, lr=5e-4, lr_end=0.0, betas=(0.5, 0.9), batch=256, gamma=0.0, steps=20000)),
    "r1-fast-ema": ("grid", "as r1-fast, samples from an EMA of G (beta 0.999)",
                    dict(hidden=256, layers=3, noise=2, lr=5e-4, lr_end=0.0, betas=(0.5, 0.9), batch=256, gamma=0.1, r1_every=4, steps=20000, ema=0.999)),
    # Wasserstein GANs (notebook 06). Gulrajani et al.'s toy setup: 3 x 512 ReLU, Adam 1e-4 (0.5, 0.9),
    # 5 critic steps, lambda 0.1; our faster recipe: 3 x 256, 2 critic steps, cosine-decayed 5e-4
    "wgan-gp": ("grid", "WGAN-GP (lambda 0.1, 5 critic steps), 3 x 512 ReLU, 2-d noise, Adam 1e-4 (0.5, 0.9), batch 256",
                dict(hidden=512, layers=3, noise=2, lr=1e-4, betas=(0.5, 0.9), batch=256, loss="wgan-gp", lam=0.1,
                     n_critic=5, steps=2500)),
    "wgan-gp-fast": ("grid", "WGAN-GP (lambda 1, 2 critic steps), 3 x 256, 2-d noise, Adam 5e-4 -> 0 cosine (0.5, 0.9), batch 256",
                     dict(hidden=256, layers=3, noise=2, lr=5e-4, lr_end=0.0, betas=(0.5, 0.9), batch=256, loss="wgan-gp",
                          lam=1.0, n_critic=2, steps=11000)),
    "wgan-gp-fast-ema": ("grid", "as wgan-gp-fast, samples from an EMA of G (beta 0.999)",
                         dict(hidden=256, layers=3, noise=2, lr=5e-4, lr_end=0.0, betas=(0.5, 0.9), batch=256, loss="wgan-gp",
                              lam=1.0, n_critic=2, steps=11000, ema=0.999)),
    "wgan-clip": ("grid", "WGAN with weight clipping (c 0.01, 5 critic steps), 3 x 256, 2-d noise, RMSprop 5e-5, batch 256",
                  dict(hidden=256, layers=3, noise=2, lr=5e-5, batch=256, loss="wgan-clip", clip=0.01, n_critic=5,
                       optimizer="rmsprop", steps=4000)),
    "gan-ring": ("ring", "as gan, on the ring of 8",
                 dict(hidden=128, layers=2, noise=256, lr=1e-4, betas=(0.5, 0.999), batch=512, gamma=0.0, steps=20000)),
    "r1-ring": ("ring", "as r1, on the ring of 8",
                dict(hidden=256, layers=3, noise=2, lr=1e-4, betas=(0.5, 0.9), batch=256, gamma=0.1, steps=20000)),
}
MIXTURES = {"grid": lambda: toys.grid(25, sigma=0.05), "ring": lambda: toys.ring(8, sigma=0.05)}


def train_toy(mixture: toys.Mixture, s: dict, seed: int, steps: int, eval_every: int = 0):
    """Train one GAN on ``mixture``; returns (scores at the end, seconds, [(step, scores), ...])."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    G = gan.mlp(s["noise"], 2, s["hidden"], s["layers"])
    D = gan.mlp(2, 1, s["hidden"], s["layers"])
    loss = s.get("loss", "ns")
    if loss not in ("ns", "wgan-gp", "wgan-clip"):
        raise ValueError(f"loss must be 'ns', 'wgan-gp' or 'wgan-clip', got {loss!r}")
    if s.get("optimizer", "adam") == "rmsprop":  # the WGAN paper's choice (Arjovsky et al. 2017, Algorithm 1)
        opt_g = torch.optim.RMSprop(G.parameters(), lr=s["lr"])
        opt_d = torch.optim.RMSprop(D.parameters(), lr=s["lr"])
    else:
        opt_g = torch.optim.Adam(G.parameters(), lr=s["lr"], betas=s["betas"])
        opt_d = torch.optim.Adam(D.parameters(), lr=s["lr"], betas=s["betas"])
    ema = gan.EMA(G, s["ema"]) if s.get("ema") else None
    # optional cosine decay of both learning rates to lr_end over the run
    schedules = [torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=steps, eta_min=s["lr_end"])
                 for o in (opt_g, opt_d)] if s.get("lr_end") is not None else []
    every = s.get("r1_every", 1)  # lazy R1 (Karras et al. 2020): every k steps, weight x k
    eval_noise = torch.randn(2500, s["noise"], generator=torch.Generator().manual_seed(10_000 + seed))
    curve = []

    def evaluate():
        with torch.no_grad():
            return toys.mode_report((ema.model if ema else G)(eval_noise), mixture)

    start = time.perf_counter()
    for step in range(steps):
        for _ in range(s.get("n_critic", 1)):  # discriminator / critic steps per generator step
            penalise = s.get("gamma", 0) > 0 and step % every == 0
            x = mixture.sample(s["batch"], g).requires_grad_(penalise)
            z = torch.randn(s["batch"], s["noise"], generator=g)
            real_logits = D(x).squeeze(1)
            fake = G(z).detach()
            fake_logits = D(fake).squeeze(1)
            if loss == "ns":
                loss_d = gan.discriminator_loss(real_logits, fake_logits)
            else:  # the critic of a WGAN: scores, not logits
                loss_d = gan.critic_loss(real_logits, fake_logits)
            if penalise:
                loss_d = loss_d + every * s["gamma"] / 2 * gan.r1_penalty(real_logits, x)
            if loss == "wgan-gp":
                loss_d = loss_d + s["lam"] * gan.gradient_penalty(D, x, fake, g)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            if loss == "wgan-clip":
                gan.clip_weights(D, s["clip"])
        fake_scores = D(G(z)).squeeze(1)
        loss_g = gan.generator_loss_nonsaturating(fake_scores) if loss == "ns" else gan.generator_loss_critic(fake_scores)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        if ema:
            ema.update()
        for schedule in schedules:
            schedule.step()
        if eval_every and (step + 1) % eval_every == 0:
            curve.append((step + 1, time.perf_counter() - start, evaluate()))
    seconds = time.perf_counter() - start
    return evaluate(), seconds, curve


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=list(RECIPES), choices=list(RECIPES))
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--steps", type=int, help="override every recipe's number of steps")
    parser.add_argument("--curve", type=int, default=0, help="also print the scores every N steps")
    parser.add_argument("--fast", action="store_true", help="smoke run: 200 steps, one seed, nothing recorded")
    parser.add_argument("--record", default="gan_toys", help="name of the results record (a run replaces its record)")
    args = parser.parse_args(argv)
    seeds = args.seeds[:1] if args.fast else args.seeds
    print("| recipe | seed | steps | seconds | modes | high quality (%) | KL(hist || uniform) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    summary = {}
    for name in args.only:
        kind, _, s = RECIPES[name]
        mixture = MIXTURES[kind]()
        steps = 200 if args.fast else (args.steps or s["steps"])
        rows = []
        for seed in seeds:
            scores, seconds, curve = train_toy(mixture, s, seed, steps, args.curve)
            for step, t, c in curve:
                print(f"|   {name} (curve) | {seed} | {step} | {t:.0f} | {c['modes']} | {100 * c['high_quality']:.1f} | {c['kl']:.3f} |")
            print(f"| {name} | {seed} | {steps} | {seconds:.0f} | {scores['modes']} | {100 * scores['high_quality']:.1f} | {scores['kl']:.3f} |", flush=True)
            rows.append((scores["modes"], 100 * scores["high_quality"], seconds))
        modes, hq, secs = zip(*rows)
        sd = (lambda v: statistics.stdev(v) if len(v) > 1 else 0.0)
        summary[name] = (statistics.mean(modes), sd(modes), statistics.mean(hq), sd(hq), statistics.mean(secs), min(modes), min(hq), steps)
    print("\n| recipe | mixture | modes (mean ± sd) | high quality % (mean ± sd) | worst seed: modes / HQ % | seconds | seeds |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for name, (m, msd, q, qsd, t, mmin, qmin, _) in summary.items():
        print(f"| {name} | {RECIPES[name][0]} | {m:.1f} ± {msd:.1f} | {q:.1f} ± {qsd:.1f} | {mmin} / {qmin:.1f} | {t:.0f} | {len(seeds)} |")
    if not args.fast:
        metrics = {}
        for name, (m, msd, q, qsd, t, mmin, qmin, steps) in summary.items():
            label = f"{name}, {steps:,} steps"
            metrics[f"{label}: modes (mean of {len(seeds)} seeds)"] = m
            metrics[f"{label}: high quality (%)"] = q
            metrics[f"{label}: high quality, worst seed (%)"] = qmin
            metrics[f"{label}: seconds per run"] = t
        results.record(args.record, metrics)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
