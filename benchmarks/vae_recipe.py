"""Which training choices buy how many nats: the VAE of notebook 03 under a CPU budget.

    python benchmarks/vae_recipe.py --only tanh-b256 tanh-b512 elu-b256 tanh-1024-b512 tanh-warmup10 \
        elu-b512 elu-b512-3layers --eval-n 1000 --eval-k 200   # the short runs of notebook 03's first table
    python benchmarks/vae_recipe.py --only tanh-b256-long iwae5-b256   # its second table
    python benchmarks/vae_recipe.py --only elu-b512-3layers-50 elu-b512-enc2-55 elu-b512-3layers-lr5e-3 \
        --eval-n 1000 --eval-k 200   # its third table (about 5 min each)
    python benchmarks/vae_recipe.py --speed         # seconds per epoch of each recipe, no training

Each recipe trains an MLP encoder / decoder (z = 32, decoder bias started at the
mean image) on dynamically binarised MNIST with Adam and a cosine learning-rate decay, then prints
a table: training time, epochs, test -ELBO and test NLL (importance-weighted bound, ``--eval-k``
samples) on the first ``--eval-n`` test images, binarised with a fixed seed. Run one CPU-heavy
job at a time: anything else running on the cores distorts the times.

Every recipe trains with the course's VAE loop, ``variational.train_vae`` (notebook 03's: batches drawn
with replacement and binarised afresh). What it measured when notebook 03's recipe was chosen (a 2-core
server CPU; the tables the notebook used to print, kept here with the script that produces them; this
script then drew its batches by epoch, a permutation of the training set each, and these runs were not
repeated since it moved onto the course's loop):

    Every row is a run of this script's recipes (two hidden layers, z = 32, decoder bias at the mean
    image, Adam with a cosine decay of the learning rate, dynamically binarised MNIST). Short runs
    first, about 4 minutes each, scored with k = 200 on the first 1,000 test images, to rank the
    choices at equal cost:

    | change from the first row | epochs | training time | test NLL (nats) |
    | --- | --- | --- | --- |
    | tanh, 512 units, batch 256, lr 2e-3 to 1e-4 | 40 | 193 s | 89.11 |
    | batch 512, lr 3e-3 to 1e-4 | 56 | 214 s | 88.46 (-0.65) |
    | **ELU instead of tanh** | 40 | 202 s | **87.86 (-1.25)** |
    | 1,024 units, batch 512 | 36 | 312 s | 89.31 (+0.20) |
    | KL warm-up over the first 10 epochs | 40 | 193 s | 89.46 (+0.35) |
    | ELU, batch 512, lr 3e-3 to 1e-4 (both winners) | 50 | 208 s | 87.72 (-1.39) |
    | the same with a third hidden layer | 38 | 183 s | **86.45 (-2.66)** |

    Then longer runs, scored with k = 1,000 on the first 2,000 test images:

    | recipe | epochs | training time | test -ELBO | test NLL (nats) |
    | --- | --- | --- | --- | --- |
    | tanh, batch 256, lr 2e-3 to 1e-4 (the first row, longer) | 140 | about 11 min | 90.81 | 86.42 |
    | the same trained on the IWAE bound, k = 5 | 75 | about 14 min | 93.49 | 86.43 |

    Last, the three-layer ELU recipe against two changes, about 5 minutes each (k = 200, first 1,000
    test images as in the first table):

    | change from the three-layer ELU recipe, batch 512, lr 3e-3 to 1e-4 | epochs | training time | test NLL (nats) |
    | --- | --- | --- | --- |
    | none | 50 | 315 s | 85.86 |
    | **two hidden layers in the encoder** (the decoder keeps three) | 55 | 269 s | **85.70 (-0.16)** |
    | peak learning rate 5e-3 | 50 | 267 s | 86.46 (+0.60) |

    (The first and last rows train networks of the same size in 315 and 267 s: times on this machine
    vary by about 15 % from run to run, so small speed differences need repeated runs.)

    The notebook's recipe is the three-layer ELU decoder with a two-layer encoder, trained for 155
    epochs; its numbers on the whole test set are in section 7. On the whole test set (k = 1,000),
    earlier full runs measured: three layers on both sides for 150 epochs, 887 s of training, 85.02
    nats; two layers on both sides for 200 epochs, 928 s, 85.59 nats. The two-layer encoder ends
    level with the first (85.08 nats with k = 1,000) in 18 % less time, which leaves a margin under
    the 15-minute budget on slower machines. Wider layers, KL warm-up and a larger learning rate did
    not pay within the budget.

    Mind the evaluation's $k$ when comparing numbers: on the same model, $L_{5000}$ is 0.14 nats
    tighter than $L_{1000}$ (section 7 prints the whole curve).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from course_utils import data, variational  # noqa: E402

DEFAULT = {"act": "tanh", "layers": 2, "encoder_layers": None, "hidden": 512, "batch": 256, "k": 1, "lr": 2e-3,
           "lr_end": 1e-4, "epochs": 40, "warmup": 0}
# each recipe: what it changes from DEFAULT (k > 1: the IWAE bound; warmup: epochs of KL annealing;
# encoder_layers: the encoder's hidden layers when they differ from the decoder's "layers")
RECIPES = {
    "tanh-b256": {},
    "tanh-b512": {"batch": 512, "lr": 3e-3, "epochs": 56},
    "elu-b256": {"act": "elu"},
    "tanh-1024-b512": {"hidden": 1024, "batch": 512, "epochs": 36},
    "tanh-warmup10": {"warmup": 10},
    "tanh-b256-long": {"epochs": 140},
    "iwae5-b256": {"k": 5, "epochs": 75},
    "elu-b512": {"act": "elu", "batch": 512, "lr": 3e-3, "epochs": 50},
    "elu-b512-3layers": {"act": "elu", "layers": 3, "batch": 512, "lr": 3e-3, "epochs": 38},
    "elu-b512-3layers-50": {"act": "elu", "layers": 3, "batch": 512, "lr": 3e-3, "epochs": 50},
    "elu-b512-enc2-55": {"act": "elu", "layers": 3, "encoder_layers": 2, "batch": 512, "lr": 3e-3, "epochs": 55},
    "elu-b512-3layers-lr5e-3": {"act": "elu", "layers": 3, "batch": 512, "lr": 5e-3, "epochs": 50},
    # notebook 03's recipe
    "notebook-03": {"act": "elu", "layers": 3, "encoder_layers": 2, "batch": 512, "lr": 3e-3, "epochs": 155},
}
ACTIVATIONS = {"tanh": nn.Tanh, "elu": nn.ELU}


def train_recipe(x_train, recipe: dict, latent: int = 32, seed: int = 0, speed_only: bool = False):
    """Train one recipe with the course's loop; returns (encode, decode, seconds, epochs trained), or seconds
    per epoch (timed over 200 steps) if speed_only."""
    r = {**DEFAULT, **recipe}
    torch.manual_seed(seed)
    # the library's VAE (notebook 03's networks), with this recipe's sizes and activation
    vae = variational.VAE(latent, r["hidden"], (r["encoder_layers"] or r["layers"], r["layers"]),
                          pixel_mean=x_train.mean(0), act=ACTIVATIONS[r["act"]])
    steps_per_epoch = len(x_train) // r["batch"]
    total = 200 if speed_only else max(1, int(r["epochs"] * steps_per_epoch))
    warmup, calls = r["warmup"] * steps_per_epoch, itertools.count()

    def loss_fn(model, x):  # notebook 03's bound; with a warm-up, the KL weighted from 0 up to 1 (beta)
        return variational.negative_bound(model, x, r["k"], beta=min(1.0, next(calls) / warmup) if warmup else 1.0)

    start = time.perf_counter()
    history = variational.train_vae(vae, x_train, total, lr=(r["lr"], r["lr_end"]), batch=r["batch"], seed=seed,
                                    loss_fn=loss_fn, desc=recipe_label(r), progress=False)
    seconds = time.perf_counter() - start
    if speed_only:
        return seconds / total * steps_per_epoch
    print(f"  {total / steps_per_epoch:.1f} epochs, last logged loss {history.last('loss'):.2f}, {seconds:.0f} s",
          flush=True)
    return vae.encode, vae.decoder, seconds, total / steps_per_epoch


def recipe_label(r: dict) -> str:
    return f"{r['act']}, {r['layers']} layers, batch {r['batch']}, k = {r['k']}"


def run(argv=None) -> list[dict]:
    """Train and evaluate the recipes ``argv`` asks for and print the table. Returns the runs as data:
    {"recipe", "seconds", "epochs", "neg_elbo", "nll"} (none with ``--speed``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(RECIPES), help="recipes to run (default: all)")
    parser.add_argument("--epochs", type=float, help="override every recipe's epochs")
    parser.add_argument("--eval-n", type=int, default=2000, help="test images for the NLL (default 2000)")
    parser.add_argument("--eval-k", type=int, default=1000, help="importance samples per test image")
    parser.add_argument("--speed", action="store_true", help="only measure seconds per epoch")
    args = parser.parse_args(argv)

    x_train = data.mnist("train").images.flatten(1).float() / 255
    x_test = variational.binarize(data.mnist("test").images.flatten(1).float()[: args.eval_n] / 255,
                                  torch.Generator().manual_seed(123))
    rows = []
    for name in args.only or RECIPES:
        recipe = {**RECIPES[name], **({"epochs": args.epochs} if args.epochs else {})}
        if args.speed:
            print(f"{name:18s} {train_recipe(x_train, recipe, speed_only=True):6.2f} s / epoch", flush=True)
            continue
        print(f"{name}: {({**DEFAULT, **recipe})}", flush=True)
        encode, decode, seconds, trained = train_recipe(x_train, recipe)
        with torch.no_grad():
            scores = variational.evaluate(x_test, encode, decode, k=args.eval_k,
                                          generator=torch.Generator().manual_seed(0))
        rows.append((name, seconds, trained, -scores["elbo"], scores["nll"]))
    if rows:
        print(f"\n| recipe | training time (s) | epochs | test -ELBO | test NLL, k = {args.eval_k} |\n"
              "|---|---|---|---|---|")
        for name, seconds, trained, neg_elbo, nll in rows:
            print(f"| {name} | {seconds:.0f} | {trained:.1f} | {neg_elbo:.2f} | {nll:.2f} |")
    return [dict(zip(("recipe", "seconds", "epochs", "neg_elbo", "nll"), row)) for row in rows]


if __name__ == "__main__":
    run()
