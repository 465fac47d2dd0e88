"""Makhzani et al.'s Figure 2, measured: adversarial auto-encoders and VAEs with 2-D codes, two priors,
several seeds -> how closely the codes of held-out digits follow their prior.

    python benchmarks/aae_figure.py                 # notebook 08's four models and the ablation, seeds 0-2
    python benchmarks/aae_figure.py --only "AAE, mixture" --seeds 0 --no-record
    python benchmarks/aae_figure.py --fast          # smoke run (60 steps, one seed, nothing recorded)

Each model is ``hybrids.train_codes`` with the course's settings (``hybrids.CODE_STEPS`` steps; the
AAE's game as ``hybrids.train_codes`` sets it), and one ablation: the mixture AAE with Makhzani et
al.'s separate phases at the settings the course began with. Models are cached under
``COURSE_OUTPUT`` exactly as notebook 08 caches them, so the notebook reloads seed 0 from here and a
second run of either takes seconds. Scores
(``hybrids.code_report``): the held-out accuracy of a two-sample classifier telling the codes of the
5,000 first test digits from 5,000 prior samples (``metrics.two_sample_accuracy``; 0.5 when they
cannot be told apart, printed beside the same test on two prior samples), and for the mixture the
share of codes nearest each component. Recorded as ``aae_figure`` (``course_utils.results``).
"""

from __future__ import annotations

import argparse
import statistics

import torch

from course_utils import config, data, hybrids, results

MODELS = {  # title: (kind, prior, settings changed), the figure's panels (a) to (d), then the ablation
    "AAE, N(0, I)": ("aae", "normal", {}),
    "AAE, mixture": ("aae", "mixture", {}),
    "VAE, N(0, I)": ("vae", "normal", {}),
    "VAE, mixture": ("vae", "mixture", {}),
    # Makhzani et al.'s separate phases (reconstruction step, then the encoder's adversarial step),
    # one D step, the game at Adam 1e-4, no decay: the course's settings before the game was balanced
    "AAE, mixture, separate phases": ("aae", "mixture", {"adv_weight": None, "game_lr": 1e-4, "d_steps": 1,
                                                         "decay": False}),
}


def run(argv=None) -> list[dict]:
    """Train the panels ``argv`` asks for, print the tables, record them (not with ``--fast`` or
    ``--no-record``). Returns the runs as data: {"model", "seed", "seconds", and ``hybrids.code_report``'s
    numbers}."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--fast", action="store_true", help="smoke run: 60 steps, one seed, nothing recorded")
    parser.add_argument("--no-record", action="store_true", help="print the table only")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    cfg = config.setup(fast=args.fast, seed=args.seeds[0], device=args.device)
    seeds = args.seeds[:1] if args.fast else args.seeds
    steps = cfg.scale(full=hybrids.CODE_STEPS, fast=60)
    x_train = data.mnist("train").batch(torch.arange(60_000), cfg.device)[0]
    x_test = data.mnist("test").batch(torch.arange(hybrids.CODE_TEST), cfg.device)[0]
    print(f"{steps:,} steps each; {hybrids.CODE_TEST:,} test digits against as many prior samples")
    print("| model | seed | two-sample accuracy | prior vs prior | smallest / largest component share | "
          "code sd / prior sd | seconds |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    rows = {}
    for title in args.only:
        kind, prior, changed = MODELS[title]
        rows[title] = []
        for seed in seeds:
            codes, _, history = hybrids.train_codes(kind, prior, x_train, x_test, steps, cfg.device, seed=seed,
                                                    **changed)
            report = hybrids.code_report(codes, prior)
            rows[title].append({"model": title, "seed": seed, **report, "seconds": history.seconds})
            shares = (f"{100 * report['smallest share']:.1f} / {100 * report['largest share']:.1f} %"
                      if prior == "mixture" else "-")
            print(f"| {title} | {seed} | {report['accuracy']:.3f} | {report['prior vs prior']:.3f} | {shares} "
                  f"| {report['sd ratio']:.2f} | {history.seconds:.0f} |", flush=True)

    def spread(values):
        return (statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0)

    print("\n| model | two-sample accuracy (mean ± sd) | worst seed | smallest / largest share, worst seeds "
          "| seconds | seeds |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    metrics = {"steps": steps, "seeds": len(seeds)}
    for title, runs in rows.items():
        acc = [r["accuracy"] for r in runs]
        m, sd = spread(acc)
        secs = statistics.mean(r["seconds"] for r in runs)
        share = "-"
        metrics[f"{title}: two-sample accuracy (mean of seeds)"] = m
        metrics[f"{title}: two-sample accuracy, sd over seeds"] = sd
        metrics[f"{title}: two-sample accuracy, worst seed"] = max(acc)
        metrics[f"{title}: seconds of training per run"] = secs
        if MODELS[title][1] == "mixture":
            low, high = min(r["smallest share"] for r in runs), max(r["largest share"] for r in runs)
            share = f"{100 * low:.1f} / {100 * high:.1f} %"
            metrics[f"{title}: smallest component share over seeds (%)"] = 100 * low
            metrics[f"{title}: largest component share over seeds (%)"] = 100 * high
        print(f"| {title} | {m:.3f} ± {sd:.3f} | {max(acc):.3f} | {share} | {secs:.0f} | {len(seeds)} |")
        for s, r in zip(seeds, runs):
            metrics[f"{title}, seed {s}: two-sample accuracy"] = r["accuracy"]
    metrics["prior vs prior: two-sample accuracy (largest)"] = max(r["prior vs prior"] for runs in rows.values()
                                                                   for r in runs)
    if not (args.fast or args.no_record):
        results.record("aae_figure", metrics, cfg)
    return [r for runs in rows.values() for r in runs]


if __name__ == "__main__":
    run()
