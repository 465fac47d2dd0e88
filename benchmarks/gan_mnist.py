"""The MNIST GAN recipes, measured: classifier-Fréchet distance (as a multiple of the real-vs-real
floor), digit coverage and speed, over training time.

    python benchmarks/gan_mnist.py                          # every recipe, seed 0, 15 minutes each
    python benchmarks/gan_mnist.py --only ns-ema --seconds 900 --seeds 0 1 2
    python benchmarks/gan_mnist.py --fast                   # smoke run
    python benchmarks/gan_mnist.py --stacked --only ns wgan-gp --seconds 600   # stacked MNIST, 1,000 modes
    python benchmarks/gan_mnist.py --only ns-lens ns --record tempered_mnist  # the tempered GAN (notebook 07)

Each recipe trains for ``--seconds`` of wall time (the budget the course states), scoring 5,000
samples against the 10,000 test images every ``--eval-every`` seconds with
``course_utils.metrics`` (the classifier is trained once and cached under COURSE_OUTPUT). The
floor is the distance between 5,000 training images and the test images: no generator can be
expected to beat it. Not FID: see ``course_utils.metrics``.

``--stacked``: stacked MNIST (Metz et al. 2017; VEEGAN; PacGAN), three independent digits as the
three channels of one image, so 10 x 10 x 10 = 1,000 modes. The same recipes train 3-channel
networks; every evaluation draws 26,000 samples (the protocol of VEEGAN and PacGAN), reads each
channel with the digit classifier and reports the modes hit and KL(mode histogram || uniform).
Published figures (read from the papers' tables; VEEGAN's setting, 26,000 samples) are printed
beside ours; their networks and training budgets differ from ours.
"""

from __future__ import annotations

import argparse
import time

import torch

from course_utils import config, data, gan, metrics, results, tempered

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
    # tempered GAN (notebook 07): "ns" plus a lens whose weight lambda falls to 0 over the first
    # k_share of the time budget (the schedule runs on training seconds here, not steps)
    "ns-lens": dict(latent=64, width=64, batch=128, lr=2e-4, betas=(0.5, 0.999), gamma=0.0, ema=0.0, lens_lr=1e-3,
                    k_share=0.5),
}


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


def make_scorer(cfg, n_eval: int):
    train_set, test_set = data.mnist("train"), data.mnist("test")
    classifier, _ = metrics.train_classifier(train_set, cfg)
    scorer = metrics.SampleScorer(classifier, test_set.images)
    floor = scorer.score(train_set.images[:n_eval])["frechet"]
    return train_set, scorer, floor


def train_recipe(s: dict, train_set, scorer, floor, seconds: float, eval_every: float, seed: int, cfg, n_eval: int,
                 stacked: bool = False):
    """Train for ``seconds``; returns rows (step, seconds, scores) at each evaluation. stacked: train
    on stacked MNIST (3 channels) and score modes / KL of ``n_eval`` samples instead of the distance."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    channels = 3 if stacked else 1
    G = gan.DCGenerator(s["latent"], s["width"], channels).to(cfg.device)
    D = gan.DCDiscriminator(s["width"], channels).to(cfg.device)
    opt_g = torch.optim.Adam(G.parameters(), lr=s["lr"], betas=s["betas"])
    opt_d = torch.optim.Adam(D.parameters(), lr=s.get("lr_d", s["lr"]), betas=s["betas"])
    ema = gan.EMA(G, s["ema"]) if s["ema"] else None
    x_all = train_set.images.to(cfg.device).float().div_(255)
    labels = train_set.labels.to(cfg.device)

    def real_batch():
        if stacked:  # three independent random digits per image
            return data.stacked(x_all, labels, s["batch"], generator=g)[0]
        return x_all[torch.randint(len(x_all), (s["batch"],), generator=g).to(cfg.device)]
    eval_z = torch.randn(n_eval, s["latent"], generator=torch.Generator().manual_seed(999)).to(cfg.device)
    rows, step, trained, next_eval = [], 0, 0.0, eval_every

    def evaluate():
        sampler = ema.model if ema else G.eval()
        with torch.no_grad():
            images = torch.cat([sampler(z) for z in eval_z.split(1000)])
        G.train()
        return metrics.stacked_modes(scorer.classifier, images) if stacked else scorer.score(images)

    wasserstein = s.get("loss", "ns") == "wgan-gp"
    lens = tempered.image_lens(channels).to(cfg.device) if "lens_lr" in s else None
    opt_l = torch.optim.Adam(lens.parameters(), lr=s["lens_lr"], betas=s["betas"]) if lens is not None else None
    while trained < seconds:
        start = time.perf_counter()
        lam = tempered.lambda_schedule(trained, s["k_share"] * seconds) if lens is not None else 0.0
        for _ in range(s.get("n_critic", 1)):  # discriminator / critic steps per generator step
            x = real_batch()
            if s["gamma"] > 0:
                x.requires_grad_(True)
            shown = lens(x).detach() if lam > 0 else x  # the tempered GAN's D sees L(x) while lambda > 0
            z = torch.randn(s["batch"], s["latent"], generator=g).to(cfg.device)
            fake = G(z)
            real_logits, fake_logits = D(shown), D(fake.detach())
            if wasserstein:  # critic scores, Gulrajani et al. 2017, Algorithm 1
                loss_d = gan.critic_loss(real_logits, fake_logits) + s["lam"] * gan.gradient_penalty(D, shown, fake, g)
            else:
                loss_d = gan.discriminator_loss(real_logits, fake_logits)
            if s["gamma"] > 0:
                loss_d = loss_d + s["gamma"] / 2 * gan.r1_penalty(real_logits, x)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            if step < s.get("freeze_d_after", float("inf")):
                opt_d.step()
        if lam > 0:  # the tempered GAN's lens plays against the D just updated
            tempered.lens_step(lens, D, opt_l, x, fake_logits, lam, gan.critic_loss if wasserstein else gan.discriminator_loss)
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
            line = f"modes {scores['modes']} / 1000, KL {scores['kl']:.3f}" if stacked else metrics.describe(scores, floor)
            print(f"  step {step:6d}  {trained:5.0f} s  {line}", flush=True)
            next_eval += eval_every
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=list(RECIPES), choices=list(RECIPES))
    parser.add_argument("--seeds", nargs="*", type=int, default=[0])
    parser.add_argument("--seconds", type=float, default=900)
    parser.add_argument("--eval-every", type=float, default=150)
    parser.add_argument("--n-eval", type=int, help="samples scored (default 5,000; stacked: 26,000)")
    parser.add_argument("--stacked", action="store_true", help="stacked MNIST: 3 channels, 1,000 modes")
    parser.add_argument("--fast", action="store_true")
    parser.add_argument("--record", help="name of the results record (default gan_mnist / stacked_mnist; "
                                         "a run replaces its record)")
    args = parser.parse_args(argv)
    cfg = config.setup(fast=args.fast, seed=0, device="auto")
    n_eval = args.n_eval or (STACKED_SAMPLES if args.stacked else 5000)
    seconds, n_eval = (4, 500) if args.fast else (args.seconds, n_eval)
    train_set, scorer, floor = make_scorer(cfg, min(n_eval, 5000))
    if args.stacked:  # the floor of this protocol: real stacked images, read by the same classifier
        real_stacked = data.stacked(train_set.images.to(cfg.device).float().div_(255), train_set.labels, n_eval,
                                    generator=torch.Generator().manual_seed(0))[0]
        real_modes = metrics.stacked_modes(scorer.classifier, real_stacked)
        print(f"real stacked MNIST ({n_eval} images): modes {real_modes['modes']} / 1000, KL {real_modes['kl']:.3f}")
    else:
        print(f"real-vs-real floor ({n_eval} training images vs the test set): {floor:.3f}")
    table = []
    for name in args.only:
        for seed in (args.seeds[:1] if args.fast else args.seeds):
            print(f"{name}, seed {seed}:")
            rows = train_recipe(RECIPES[name], train_set, scorer, floor, seconds, seconds / 2 if args.fast else args.eval_every,
                                seed, cfg, n_eval, stacked=args.stacked)
            step, t, scores = rows[-1]
            table.append((name, seed, step, t, scores))
    record_name = args.record or ("stacked_mnist" if args.stacked else "gan_mnist")
    if args.stacked:
        print(f"\n| recipe | seed | steps | seconds | steps/s | modes (of 1,000) | KL(histogram || uniform) |")
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
                record[f"{name} seed {seed}, {t / 60:.0f} min: modes (of 1,000)"] = s["modes"]
                record[f"{name} seed {seed}, {t / 60:.0f} min: KL(histogram || uniform)"] = s["kl"]
            results.record(record_name, record, cfg, paper={
                key: "PacDCGAN2 1000 (PacGAN Table 2); DCGAN 99 (VEEGAN Table 2)" if "modes" in key else
                "PacDCGAN2 0.06; DCGAN 3.40" for key in record if not key.startswith("real")})
        return 0
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
        results.record(record_name, record, cfg)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
