"""Train the course's yardstick for generated digits: the fixed digit classifier whose weights ship in
``course_utils/weights/digit_classifier.pt`` (``metrics.load_yardstick``).

    python tools/train_yardstick.py                   # retrain into a temporary file, compare with the shipped one
    python tools/train_yardstick.py --out FILE        # write the weights to FILE
    python tools/train_yardstick.py --install         # replace the shipped weights (then update YARDSTICK_SHA256)

The recipe is ``metrics.YARDSTICK_RECIPE`` (seed, steps, batch, learning rate), trained by
``metrics.fit_classifier`` on the MNIST training set from ``COURSE_DATA``, on the CPU. Retraining
gives a classifier of the same test accuracy; its bytes may differ across machines and thread
counts (float summation order), which is why the course ships the weights instead of retraining
them: every score in the course is taken with the same features.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from course_utils import data, metrics, train  # noqa: E402


def train_yardstick(out: Path) -> dict:
    """Train the classifier of ``metrics.YARDSTICK_RECIPE`` and save it to ``out`` (atomically).
    Returns ``{"sha256", "test_accuracy", "seconds"}``."""
    recipe = metrics.YARDSTICK_RECIPE
    train_set, test_set = data.mnist("train"), data.mnist("test")
    model = metrics.build_classifier(recipe["seed"])
    generator = torch.Generator().manual_seed(recipe["seed"])
    history = metrics.fit_classifier(model, train_set, recipe["steps"], generator, "cpu", recipe["batch"], recipe["lr"])
    model.eval()
    accuracy = metrics.accuracy(model, test_set.images, test_set.labels)
    state = {"model": {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()},
             "recipe": dict(recipe), "test_accuracy": accuracy}
    train.save_checkpoint(out, state)
    digest = hashlib.sha256(Path(out).read_bytes()).hexdigest()
    return {"sha256": digest, "test_accuracy": accuracy, "seconds": history.seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="where to write the weights (default: a temporary file)")
    parser.add_argument("--install", action="store_true", help="replace the shipped weights")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = metrics.YARDSTICK_WEIGHTS if args.install else args.out or Path(tmp) / "digit_classifier.pt"
        result = train_yardstick(out)
        print(f"trained in {result['seconds']:.0f} s: test accuracy {result['test_accuracy']:.2f} %, "
              f"SHA-256 {result['sha256']}, {out.stat().st_size / 1e6:.2f} MB -> {out}")
        if args.install:
            print("now set metrics.YARDSTICK_SHA256 to that SHA-256")
            return
        try:
            shipped = metrics.load_yardstick()
        except metrics.YardstickError as err:
            print(f"no shipped yardstick to compare with: {err}")
            return
        test_set = data.mnist("test")
        print(f"shipped yardstick: test accuracy {metrics.accuracy(shipped, test_set.images, test_set.labels):.2f} %, "
              f"SHA-256 {metrics.YARDSTICK_SHA256}; the same bytes: {result['sha256'] == metrics.YARDSTICK_SHA256}")


if __name__ == "__main__":
    main()
