"""The MNIST GAN recipes, measured: classifier-Fréchet distance (as a multiple of the real-vs-real
floor), digit coverage and speed, over training time.

    python benchmarks/gan_mnist.py                          # every recipe, seed 0, 15 minutes each
    python benchmarks/gan_mnist.py --only ns-ema --seconds 900 --seeds 0 1 2
    python benchmarks/gan_mnist.py --fast                   # smoke run

Each recipe trains for ``--seconds`` of wall time (the budget the course states), scoring 5,000
samples against the 10,000 test images every ``--eval-every`` seconds with
``course_utils.metrics`` (the classifier is trained once and cached under COURSE_OUTPUT). The
floor is the distance between 5,000 training images and the test images: no generator can be
expected to beat it. Not FID: see ``course_utils.metrics``.
"""

from __future__ import annotations

import argparse
import time

import torch

from course_utils import config, data, gan, metrics, results

RECIPES = {
    # name: settings (loss: ns = non-saturating; gamma: R1 weight; ema: beta or 0)
    "ns": dict(latent=64, width=64, batch=128, lr=2e-4, betas=(0.5, 0.999), gamma=0.0, ema=0.0),
    "ns-ema": dict(latent=64, width=64, batch=128, lr=2e-4, betas=(0.5, 0.999), gamma=0.0, ema=0.999),
    "ns-r1-ema": dict(latent=64, width=64, batch=128, lr=2e-4, betas=(0.5, 0.999), gamma=1.0, ema=0.999),
    # deliberately bad settings (notebook 04, "a setting that collapses")
    "g5": dict(latent=64, width=64, batch=128, lr=2e-4, betas=(0.5, 0.999), gamma=0.0, ema=0.0, g_steps=5),
    "frozen-d": dict(latent=64, width=64, batch=128, lr=2e-4, betas=(0.5, 0.999), gamma=0.0, ema=0.0, freeze_d_after=500),
    "slow-d": dict(latent=64, width=64, batch=128, lr=2e-4, lr_d=2e-5, betas=(0.5, 0.999), gamma=0.0, ema=0.0),
    # Wasserstein GANs (notebook 06): Gulrajani et al.'s settings (lambda 10, 5 critic steps, Adam 1e-4 (0.5, 0.9))
    "wgan-gp": dict(latent=64, width=64, batch=64, lr=1e-4, betas=(0.5, 0.9), gamma=0.0, ema=0.0, loss="wgan-gp",
                    lam=10.0, n_critic=5),
    "wgan-gp-ema": dict(latent=64, width=64, batch=64, lr=1e-4, betas=(0.5, 0.9), gamma=0.0, ema=0.999, loss="wgan-gp",
                        lam=10.0, n_critic=5),
}


def make_scorer(cfg, n_eval: int):
    train_set, test_set = data.mnist("train"), data.mnist("test")
    classifier, _ = metrics.train_classifier(train_set, cfg)
    scorer = metrics.SampleScorer(classifier, test_set.images)
    floor = scorer.score(train_set.images[:n_eval])["frechet"]
    return train_set, scorer, floor


def train_recipe(s: dict, train_set, scorer, floor, seconds: float, eval_every: float, seed: int, cfg, n_eval: int):
    """Train for ``seconds``; returns rows (step, seconds, scores) at each evaluation."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    G = gan.DCGenerator(s["latent"], s["width"]).to(cfg.device)
    D = gan.DCDiscriminator(s["width"]).to(cfg.device)
    opt_g = torch.optim.Adam(G.parameters(), lr=s["lr"], betas=s["betas"])
    opt_d = torch.optim.Adam(D.parameters(), lr=s.get("lr_d", s["lr"]), betas=s["betas"])
    ema = gan.EMA(G, s["ema"]) if s["ema"] else None
    x_all = train_set.images.to(cfg.device).float().div_(255)
    eval_z = torch.randn(n_eval, s["latent"], generator=torch.Generator().manual_seed(999)).to(cfg.device)
    rows, step, trained, next_eval = [], 0, 0.0, eval_every

    def evaluate():
        sampler = ema.model if ema else G.eval()
        with torch.no_grad():
            images = torch.cat([sampler(z) for z in eval_z.split(1000)])
        G.train()
        return scorer.score(images)

    wasserstein = s.get("loss", "ns") == "wgan-gp"
    while trained < seconds:
        start = time.perf_counter()
        for _ in range(s.get("n_critic", 1)):  # discriminator / critic steps per generator step
            index = torch.randint(len(x_all), (s["batch"],), generator=g).to(cfg.device)
            x = x_all[index]
            if s["gamma"] > 0:
                x.requires_grad_(True)
            z = torch.randn(s["batch"], s["latent"], generator=g).to(cfg.device)
            fake = G(z)
            real_logits, fake_logits = D(x), D(fake.detach())
            if wasserstein:  # critic scores, Gulrajani et al. 2017, Algorithm 1
                loss_d = gan.critic_loss(real_logits, fake_logits) + s["lam"] * gan.gradient_penalty(D, x, fake, g)
            else:
                loss_d = gan.discriminator_loss(real_logits, fake_logits)
            if s["gamma"] > 0:
                loss_d = loss_d + s["gamma"] / 2 * gan.r1_penalty(real_logits, x)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            if step < s.get("freeze_d_after", float("inf")):
                opt_d.step()
        for k in range(s.get("g_steps", 1)):
            if k > 0 or wasserstein:  # a fresh batch for G after several critic steps
                fake = G(torch.randn(s["batch"], s["latent"], generator=g).to(cfg.device))
            loss_g = gan.generator_loss_critic(D(fake)) if wasserstein else gan.generator_loss_nonsaturating(D(fake))
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            if ema:
                ema.update()
        step += 1
        trained += time.perf_counter() - start
        if trained >= next_eval or trained >= seconds:
            scores = evaluate()
            rows.append((step, trained, scores))
            print(f"  step {step:6d}  {trained:5.0f} s  {metrics.describe(scores, floor)}", flush=True)
            next_eval += eval_every
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=list(RECIPES), choices=list(RECIPES))
    parser.add_argument("--seeds", nargs="*", type=int, default=[0])
    parser.add_argument("--seconds", type=float, default=900)
    parser.add_argument("--eval-every", type=float, default=150)
    parser.add_argument("--n-eval", type=int, default=5000)
    parser.add_argument("--fast", action="store_true")
    parser.add_argument("--record", default="gan_mnist", help="name of the results record (a run replaces its record)")
    args = parser.parse_args(argv)
    cfg = config.setup(fast=args.fast, seed=0, device="auto")
    seconds, n_eval = (4, 500) if args.fast else (args.seconds, args.n_eval)
    train_set, scorer, floor = make_scorer(cfg, n_eval)
    print(f"real-vs-real floor ({n_eval} training images vs the test set): {floor:.3f}")
    table = []
    for name in args.only:
        for seed in (args.seeds[:1] if args.fast else args.seeds):
            print(f"{name}, seed {seed}:")
            rows = train_recipe(RECIPES[name], train_set, scorer, floor, seconds, seconds / 2 if args.fast else args.eval_every,
                                seed, cfg, n_eval)
            step, t, scores = rows[-1]
            table.append((name, seed, step, t, scores))
    print(f"\n| recipe | seed | steps | seconds | steps/s | classifier-Fréchet | x floor | digits | entropy | confidence |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, seed, step, t, s in table:
        print(f"| {name} | {seed} | {step} | {t:.0f} | {step / t:.1f} | {s['frechet']:.2f} | {s['frechet'] / floor:.1f} | "
              f"{s['classes_present']} | {s['entropy']:.3f} | {s['confidence']:.3f} |")
    if not args.fast:
        record = {"real-vs-real floor": floor}
        for name, seed, step, t, s in table:
            record[f"{name} seed {seed}: classifier-Fréchet / floor"] = s["frechet"] / floor
            record[f"{name} seed {seed}: entropy (nats)"] = s["entropy"]
        results.record(args.record, record, cfg)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
