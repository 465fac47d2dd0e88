"""Which choices buy how many points of 20-way one-shot accuracy: notebook 01's episodes on a CPU budget.

    python benchmarks/oneshot_recipe.py   # the record notebook 01 prints: 3 seeds of the first three, 1 of the rest
    python benchmarks/oneshot_recipe.py --only 576d --screen --seeds 3 --no-record   # one more seed of one variant
    python benchmarks/oneshot_recipe.py --only episodes-28px-576d --screen --images 3000000 --tta \
        --record oneshot_3m   # notebook 01's final model over 3 seeds, with test-time augmentation
                              # (--images 2000000 --record oneshot_final: the same, two thirds as long)
    python benchmarks/oneshot_recipe.py --fast          # smoke run (400 images, one seed, nothing recorded)

Each variant is a registered one-shot recipe (``oneshot.RECIPES``) with the changes below, trained by
``oneshot.train_episodes`` (notebook 01's loop: prototype loss on episodes of hard, same-alphabet
negatives, Adam with a cosine decay) for ``--images`` images from the same initial weights per seed, and
scored on notebook 01's trials: ``oneshot.TRIALS`` (2,000) 20-way one-shot trials within alphabet and as many
across alphabets on the evaluation split (trial seed 0), cosine nearest neighbour; with ``--tta`` also with
test-time augmentation (``oneshot.tta``). Models are cached under ``COURSE_OUTPUT``
by their settings (``train.train_or_load``), so a second run only evaluates. The table gives each
variant's mean and spread over seeds and its training time; recorded as ``oneshot_recipe`` (or ``--record``'s
name; ``course_utils.results``) unless ``--no-record``. Run one CPU-heavy job at a time: the times are the
budget's currency.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from course_utils import config, data, oneshot, results

BASE = "episodes-28px"
VARIANTS = {  # name: (registered recipe, changes); "AxB": A characters x B drawings per alphabet in an episode
    "episodes-28px": (BASE, {}),  # 20x5 episodes, the last map pooled to 1 px: 64-d
    "576d": (BASE, {"pooled": 3}),  # the last 3x3 map kept: 64 x 3 x 3 = 576-d
    "episodes-28px-576d": ("episodes-28px-576d", {}),  # notebook 01's recipe: 576-d and 40x3 episodes
    "40x3": (BASE, {"ways": 40, "shots": 3}),
    "576d-50x2": (BASE, {"pooled": 3, "ways": 50, "shots": 2}),
    "576d-60x3": (BASE, {"pooled": 3, "ways": 60, "shots": 3}),
    "3136d": (BASE, {"pooled": 2}),  # the last two blocks on 7x7 maps: 64 x 7 x 7
    "576d-width96": (BASE, {"pooled": 3, "width": 96}),  # 96 channels: 864-d
    "42px-1600d": (BASE, {"size": 42, "pooled": 3}),  # 42 -> 21 -> 10 -> 5 px: 64 x 5 x 5
}
# measured over every seed; the other variants were screened with one
CONFIRMED = ["episodes-28px", "576d", "episodes-28px-576d"]


def changes(name: str) -> dict:
    """What variant ``name`` changes from the base recipe."""
    base, r = oneshot.recipe(BASE).settings(), oneshot.recipe(VARIANTS[name][0], **VARIANTS[name][1]).settings()
    return {k: v for k, v in r.items() if v != base[k]}


def evaluate(embed, settings: dict, split, device, trial_seed: int = 0, trials: int = oneshot.TRIALS
             ) -> tuple[oneshot.Score, ...]:
    """(within-alphabet, across-alphabet) 20-way one-shot scores of ``embed`` on ``split``: notebook 01's trials,
    saved under ``settings`` (what made ``embed``) and shared with the notebook's (``oneshot.evaluate_or_load``)."""
    return tuple(oneshot.evaluate_or_load("01_one_shot", settings, embed, split, [
        oneshot.make_trials(split, oneshot.N_WAY, trials, within, trial_seed) for within in (True, False)],
        device=device))


def train_variant(name: str, seed: int, images: int, cfg, splits: dict, trials: int = oneshot.TRIALS,
                  tta: bool = False) -> dict:
    """Train (or load) one variant for one seed and score it on ``trials`` trials a split: {"variant", "seed",
    "within", "across", "seconds", "dim"}, with "within, TTA" and "across, TTA" if ``tta``."""
    base, changes = VARIANTS[name]
    r = oneshot.recipe(base, **changes)
    if r.size not in splits:
        splits[r.size] = (data.omniglot("background", size=r.size), data.omniglot("evaluation", size=r.size))
    background, evaluation = splits[r.size]
    start = time.perf_counter()
    net, history = oneshot.trained(r, images, seed, background, cfg.device, progress=not cfg.fast,
                                   desc=f"{name}, seed {seed}")
    settings = oneshot.model_settings(r, images, seed)
    within, across = evaluate(net, settings, evaluation, cfg.device, trials=trials)
    row = {"variant": name, "seed": seed, "within": within.accuracy, "across": across.accuracy,
           "seconds": history.seconds, "dim": net(torch.zeros(1, 1, r.size, r.size, device=cfg.device)).shape[1]}
    extra = ""
    if tta:
        copies = cfg.scale(full=8, fast=2)
        scores = evaluate(oneshot.tta(net, copies=copies), {**settings, "tta copies": copies, "tta seed": 0},
                          evaluation, cfg.device, trials=trials)
        row["within, TTA"], row["across, TTA"] = (s.accuracy for s in scores)
        extra = f" {row['within, TTA']:.1f} | {row['across, TTA']:.1f} |"
    print(f"| {name} | {seed} | {within.accuracy:.1f} | {across.accuracy:.1f} |{extra} {history.seconds:.0f} | "
          f"({time.perf_counter() - start:.0f} s this run)", flush=True)
    return row


def run(argv=None) -> list[dict]:
    """Train and score the variants ``argv`` asks for; print and (unless --fast / --no-record) record the
    summary. Returns the runs as data (``train_variant``'s rows)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=CONFIRMED, choices=list(VARIANTS),
                        help="variants trained with every seed (default: the three the notebook's choice rests on)")
    parser.add_argument("--screen", nargs="*", default=[v for v in VARIANTS if v not in CONFIRMED],
                        choices=list(VARIANTS), help="variants trained with the first seed only (default: the others)")
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--images", type=int, default=300_000, help="images seen by each run")
    parser.add_argument("--fast", action="store_true", help="smoke run: 400 images, one seed, nothing recorded")
    parser.add_argument("--tta", action="store_true", help="score with test-time augmentation too")
    parser.add_argument("--record", default="oneshot_recipe", help="the record's name (default: %(default)s)")
    parser.add_argument("--no-record", action="store_true", help="print the tables only")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    cfg = config.setup(fast=args.fast, seed=args.seeds[0], device=args.device)
    seeds = args.seeds[:1] if args.fast else args.seeds
    images = cfg.scale(full=args.images, fast=400)
    trials = cfg.scale(full=oneshot.TRIALS, fast=100)
    splits_scored = ["within", "across"] + (["within, TTA", "across, TTA"] if args.tta else [])
    print(f"{images:,} images per run; {oneshot.N_WAY}-way one-shot, {trials:,} trials within alphabet and "
          f"{trials:,} across")
    print("| variant | seed | " + " | ".join(f"{s} (%)" for s in splits_scored) + " | training (s) |\n| --- |"
          + " ---: |" * (len(splits_scored) + 2))
    splits: dict = {}
    runs = [(name, seed) for name in args.only for seed in seeds]
    runs += [(name, seeds[0]) for name in args.screen if name not in args.only]
    rows = [train_variant(name, seed, images, cfg, splits, trials, args.tta) for name, seed in runs]
    print(f"\n| variant | changes from {BASE} | seeds | " + " | ".join(f"{s} (%)" for s in splits_scored)
          + " | training (s) |\n| --- | --- |" + " ---: |" * (len(splits_scored) + 2))
    metrics = {}
    for name in dict.fromkeys(name for name, _ in runs):
        mine = [r for r in rows if r["variant"] == name]
        seconds = statistics.mean(r["seconds"] for r in mine)
        print(f"| {name} | {changes(name) or 'none'} | {len(mine)} | "
              + " | ".join(results.spread([r[s] for r in mine]) for s in splits_scored) + f" | {seconds:.0f} |")
        for split in splits_scored:
            values = [r[split] for r in mine]
            metrics[f"{name}, {images:,} images: {split} (%)"] = statistics.mean(values)
            if len(values) > 1:
                metrics[f"{name}, {images:,} images: {split}, sd (%)"] = statistics.stdev(values)
        metrics[f"{name}, {images:,} images: training (s)"] = seconds
    if not (args.fast or args.no_record):
        results.record(args.record, metrics, cfg)
    return rows


if __name__ == "__main__":
    run()
