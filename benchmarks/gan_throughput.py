"""Training throughput of notebook 04's GAN loop against the same loop fed the usual way.

    python benchmarks/gan_throughput.py                 # 30 s per loop, prints a table
    python benchmarks/gan_throughput.py --seconds 60 --workers 0 2
    python benchmarks/gan_throughput.py --fast          # smoke run

Same model, batch and update: the engine's ``mnist-dcgan`` recipe (notebook 04's GAN) without
the average of G, trained by ``adversarial.train_gan``, one loop after the other in one process.
Only the batches differ:

- **course**: the training set preloaded once as a uint8 tensor (``course_utils.data``), batches
  made by indexing with random integers (notebook 04's loop);
- **tutorial**: a ``DataLoader`` over torchvision's ``MNIST`` dataset with the transforms of the
  PyTorch DCGAN tutorial (Resize, CenterCrop, ToTensor, Normalize), shuffled, ``num_workers``
  as given (the tutorial uses 2), each image decoded and transformed per item.

Images per second counts real images seen by D. torchvision reads the same ``COURSE_DATA`` folder
(``MNIST/raw``); offline it only unpacks the ``.gz`` files already there.
"""

from __future__ import annotations

import argparse
import time

import torch

from course_utils import adversarial, config, data

RECIPE = adversarial.recipe("mnist-dcgan").with_(ema=0.0)  # notebook 04's GAN, without the average of G
LATENT, WIDTH, BATCH = RECIPE.latent, RECIPE.width, RECIPE.batch


def course_batches(device):
    train_set = data.mnist("train")
    x_all = train_set.images.to(device)
    g = torch.Generator().manual_seed(0)
    while True:
        index = torch.randint(len(x_all), (BATCH,), generator=g).to(device)
        yield x_all[index].float().div_(255.0)


def tutorial_batches(device, workers: int):
    import torchvision.datasets as tvd
    import torchvision.transforms as T

    transform = T.Compose([T.Resize(28), T.CenterCrop(28), T.ToTensor(), T.Normalize((0.5,), (0.5,))])
    dataset = tvd.MNIST(str(config.data_dir()), train=True, transform=transform, download=True)
    loader = torch.utils.data.DataLoader(dataset, batch_size=BATCH, shuffle=True, num_workers=workers, drop_last=True)
    while True:
        for x, _ in loader:
            yield (x.to(device) * 0.5 + 0.5)  # back to [0, 1]: G ends in a sigmoid


def measure(batches, device, seconds: float) -> tuple[float, int]:
    """Images per second of the engine's training step (``adversarial.train_gan``) fed by
    ``batches`` for ``seconds`` (after 3 warm-up steps)."""
    nets = adversarial.build(RECIPE, 0, device)
    real = lambda n, g: next(batches)  # noqa: E731 (the batches come from outside, whatever n and g say)
    adversarial.train_gan(nets, real, RECIPE, 0, steps=3, progress=False)
    history = adversarial.train_gan(nets, real, RECIPE, 0, seconds=seconds, progress=False, log_every=10**9)
    n, trained = int(history.steps["loss_g"][-1]) + 1, float(history["seconds"][-1])
    return n * BATCH / trained, n


def measure_batches(batches, seconds: float) -> float:
    """Images per second of ``batches`` alone (no training step): the data path's own speed."""
    next(batches)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        next(batches)
        n += 1
    return n * BATCH / (time.perf_counter() - start)


def run(argv=None) -> list[dict]:
    """Time the course's batch loop against the tutorials' and print the tables. Returns the loops as
    data: {"loop", "images_per_s", "steps"}, the course's first."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", nargs="*", type=int, default=[2, 0], help="DataLoader workers to try")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--fast", action="store_true", help="smoke run: 2 s per loop, 0 workers")
    args = parser.parse_args(argv)
    cfg = config.setup(fast=args.fast, seed=0, device=args.device)
    seconds, workers = (2, [0]) if args.fast else (args.seconds, args.workers)
    rows = [("course: preloaded uint8 tensor, random indices", *measure(course_batches(cfg.device), cfg.device,
                                                                        seconds))]
    for w in workers:
        rows.append((f"tutorial: DataLoader + transforms, {w} workers", *measure(tutorial_batches(cfg.device, w),
                                                                                 cfg.device, seconds)))
    best_tutorial = max(r[1] for r in rows[1:])
    print("\n| loop | images/s | steps | speed-up of the course loop |")
    print("| --- | ---: | ---: | ---: |")
    for name, rate, n in rows:
        print(f"| {name} | {rate:,.0f} | {n} | {rows[0][1] / rate:.2f}x |")
    print(f"\ncourse loop / fastest tutorial loop: {rows[0][1] / best_tutorial:.2f}x on {cfg.describe()}")
    # Where the time goes: the batches alone, without the training step.
    data_rows = [("course batches", measure_batches(course_batches(cfg.device), seconds / 3))]
    for w in workers:
        data_rows.append((f"tutorial batches, {w} workers", measure_batches(tutorial_batches(cfg.device, w),
                                                                            seconds / 3)))
    print("\n| batches only (no training step) | images/s |")
    print("| --- | ---: |")
    for name, rate in data_rows:
        print(f"| {name} | {rate:,.0f} |")
    print(f"training step alone: about {1000 * BATCH / rows[0][1]:.0f} ms per batch of {BATCH} "
          "(the course loop's time, nearly all of it the step)")
    return [{"loop": name, "images_per_s": rate, "steps": n} for name, rate, n in rows]


if __name__ == "__main__":
    run()
