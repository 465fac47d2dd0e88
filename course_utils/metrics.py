"""An offline quality metric for generated digits: a small classifier's view of the samples.

The usual FID (Heusel et al. 2017) compares Inception-v3 features of real and generated images;
its weights cannot be downloaded here, and Inception was never trained on digits anyway. This is
the same recipe with a small convolutional classifier trained on the real training set (cached
like any checkpoint): the *classifier-Fréchet distance* between the Gaussian fitted to its
features of real test images and the one fitted to its features of samples. It is **not** FID
and its numbers are not comparable with published FIDs: compare it only with itself, and with
the real-vs-real floor (training images against test images), which it can never beat.

It also reports what the classifier thinks the samples are: the histogram of predicted classes
(mode coverage: ten digits should each get about 10 %), its entropy (log 10 = 2.303 nats at best)
and the mean confidence (max softmax probability; blurry or monstrous samples get low values).
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course_utils import train


# ---------------------------------------------------------------------------------------------
# The exact Wasserstein-1 distance in one dimension


def wasserstein_1d(x, y) -> float:
    """W1 between the empirical distributions of samples x ``(n,)`` and y ``(m,)`` on the line:
    the area between their two CDFs, int |F_x(t) - F_y(t)| dt, exact (for n = m it is the mean
    of |x_(i) - y_(i)| over the sorted samples). Compare with ``scipy.stats.wasserstein_distance``."""
    x = np.sort(np.asarray(x.detach().cpu() if hasattr(x, "detach") else x, dtype=float).ravel())
    y = np.sort(np.asarray(y.detach().cpu() if hasattr(y, "detach") else y, dtype=float).ravel())
    if x.size == 0 or y.size == 0:
        raise ValueError("wasserstein_1d needs at least one sample on each side")
    if x.size == y.size:
        return float(np.abs(x - y).mean())
    points = np.concatenate([x, y])
    points.sort()
    # both CDFs are constant between consecutive sample points
    cdf_x = np.searchsorted(x, points[:-1], side="right") / x.size
    cdf_y = np.searchsorted(y, points[:-1], side="right") / y.size
    return float(np.sum(np.abs(cdf_x - cdf_y) * np.diff(points)))


# ---------------------------------------------------------------------------------------------
# The Fréchet distance between two Gaussians


def feature_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(F,)`` and covariance ``(F, F)`` (unbiased, float64) of features ``(N, F)``."""
    x = features.detach().cpu().double().numpy() if isinstance(features, torch.Tensor) else np.asarray(features, np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"features must be (N, F) with N >= 2, got shape {x.shape}")
    return x.mean(axis=0), np.cov(x, rowvar=False)


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Fréchet (2-Wasserstein) distance squared between N(mu1, sigma1) and N(mu2, sigma2):

        d^2 = ||mu1 - mu2||^2 + tr(sigma1) + tr(sigma2) - 2 tr((sigma1 sigma2)^(1/2))

    (Dowson & Landau 1982). The trace of the matrix square root is computed as the sum of the
    square roots of the eigenvalues of sigma1^(1/2) sigma2 sigma1^(1/2), a symmetric PSD matrix
    with the same spectrum as sigma1 sigma2: no complex parts, no iterative sqrtm.
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (mu1.size, mu1.size):
        raise ValueError(f"shapes do not match: mu {mu1.shape} / {mu2.shape}, sigma {sigma1.shape} / {sigma2.shape}")
    w, v = np.linalg.eigh((sigma1 + sigma1.T) / 2)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    middle = root1 @ sigma2 @ root1
    trace_root = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
    diff = mu1 - mu2
    return float(max(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_root, 0.0))


# ---------------------------------------------------------------------------------------------
# The classifier


class DigitClassifier(nn.Module):
    """A small CNN for 28 x 28 images: two conv blocks, a 128-unit feature layer, 10 logits.

    ``features(x)``: ``(B, 1, 28, 28)`` in [0, 1] -> ``(B, 128)``; ``forward`` -> logits ``(B, 10)``.
    """

    FEATURES = 128

    def __init__(self, n_classes: int = 10):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 14 x 14
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 7 x 7
            nn.Flatten(), nn.Linear(64 * 7 * 7, self.FEATURES), nn.ReLU(),
        )
        self.head = nn.Linear(self.FEATURES, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def train_classifier(train_set, cfg, steps: int | None = None, batch_size: int = 128, lr: float = 1e-3):
    """The classifier for ``train_set`` (an ``ImageData`` of 28 x 28 images), trained once and cached.

    Adam, ``steps`` batches (default: 3,000 in full mode, 300 in FAST mode), small random shifts
    of +-2 pixels so that its features do not hinge on exact positions. Returns
    ``(classifier in eval mode on cfg.device, History)``.
    """
    steps = steps if steps is not None else cfg.scale(full=3000, fast=300)
    model = DigitClassifier(len(train_set.classes)).to(cfg.device)
    generator = torch.Generator().manual_seed(cfg.seed)

    def train_fn():
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
        model.train()

        def step_fn(step):
            x, y = train_set.sample(batch_size, generator, cfg.device)
            shift = torch.randint(-2, 3, (2,), generator=generator).tolist()
            x = torch.roll(x, shifts=shift, dims=(2, 3))
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            return {"loss": loss}

        return train.fit(step_fn, steps, log_every=50, desc=f"{train_set.name} classifier")

    settings = {"data": train_set.name, "steps": steps, "batch": batch_size, "lr": lr, "seed": cfg.seed}
    history = train.train_or_load(f"classifier_{train_set.name}", model, train_fn, settings, generators=[generator])
    return model.eval(), history


@torch.no_grad()
def classify(classifier: DigitClassifier, images: torch.Tensor, batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """``(features (N, 128), probabilities (N, 10))`` on the CPU for images ``(N, 1, 28, 28)``.

    images: float in [0, 1] or uint8 in [0, 255], on any device.
    """
    device = next(classifier.parameters()).device
    feats, probs = [], []
    for start in range(0, images.shape[0], batch_size):
        x = images[start : start + batch_size].to(device)
        x = x.float().div_(255.0) if x.dtype == torch.uint8 else x.float()
        f = classifier.features(x)
        feats.append(f.cpu())
        probs.append(F.softmax(classifier.head(f), dim=1).cpu())
    return torch.cat(feats), torch.cat(probs)


@torch.no_grad()
def accuracy(classifier: DigitClassifier, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of ``images`` classified as ``labels``, in %."""
    _, probs = classify(classifier, images)
    return 100.0 * float((probs.argmax(1) == labels.cpu()).double().mean())


class SampleScorer:
    """Scores sets of images against real reference images, through one classifier.

        scorer = metrics.SampleScorer(classifier, test_images)
        scorer.score(samples)    # {"frechet": ..., "entropy": ..., "histogram": ..., ...}

    reference: ``(N, 1, 28, 28)`` real images (e.g. the test set): their feature statistics are
    computed once.
    """

    def __init__(self, classifier: DigitClassifier, reference: torch.Tensor):
        self.classifier = classifier
        features, _ = classify(classifier, reference)
        self.reference = feature_statistics(features)
        self.n_classes = classifier.head.out_features

    def score(self, images: torch.Tensor) -> dict:
        """``frechet`` (classifier-Fréchet distance to the reference), ``histogram`` (share of
        each predicted class, ``(C,)`` numpy, sums to 1), ``entropy`` of that histogram (nats;
        log C at most), ``classes_present`` (classes predicted for at least 1 % of the images)
        and ``confidence`` (mean max probability)."""
        features, probs = classify(self.classifier, images)
        histogram = torch.bincount(probs.argmax(1), minlength=self.n_classes).double() / len(images)
        nonzero = histogram[histogram > 0]
        return {
            "frechet": frechet_distance(*feature_statistics(features), *self.reference),
            "histogram": histogram.numpy(),
            "entropy": float(-(nonzero * nonzero.log()).sum()) + 0.0,  # + 0.0: no "-0.000" for one class
            "max_entropy": math.log(self.n_classes),
            "classes_present": int((histogram >= 0.01).sum()),
            "confidence": float(probs.max(1).values.double().mean()),
        }


def mode_histogram(classes: torch.Tensor, n_classes: int = 10) -> dict:
    """Modes of stacked images from the class of each channel, ``(N, C)`` ints in [0, n_classes):
    mode = the tuple of classes, n_classes ** C modes in all (1,000 for stacked MNIST).
    Returns ``counts`` (``(n_classes ** C,)`` numpy), ``modes`` (how many were hit at least once)
    and ``kl``: KL(histogram || uniform) in nats (0 when every mode is equally frequent; the
    measure of Metz et al. 2017, Table 2, and PacGAN, Table 3)."""
    classes = torch.as_tensor(classes).long().cpu()
    if classes.dim() != 2:
        raise ValueError(f"classes must have shape (N, channels), got {tuple(classes.shape)}")
    weights = n_classes ** torch.arange(classes.shape[1] - 1, -1, -1)
    counts = torch.bincount((classes * weights).sum(1), minlength=n_classes ** classes.shape[1]).double()
    share = counts / counts.sum()
    nonzero = share > 0
    kl = float((share[nonzero] * (share[nonzero] * len(share)).log()).sum())
    return {"counts": counts.numpy(), "modes": int(nonzero.sum()), "kl": kl}


def stacked_modes(classifier: DigitClassifier, images: torch.Tensor) -> dict:
    """``mode_histogram`` of stacked images ``(N, C, 28, 28)``, each channel read by the digit classifier."""
    n, c = images.shape[:2]
    _, probs = classify(classifier, images.reshape(n * c, 1, *images.shape[2:]))
    return mode_histogram(probs.argmax(1).reshape(n, c), classifier.head.out_features)


def describe(scores: Mapping, floor: float | None = None) -> str:
    """One line for a ``SampleScorer.score`` result, with the distance as a multiple of ``floor``."""
    ratio = f" ({scores['frechet'] / floor:.1f}x the real-vs-real floor)" if floor else ""
    return (f"classifier-Fréchet {scores['frechet']:.2f}{ratio}, digits present {scores['classes_present']}/"
            f"{len(scores['histogram'])}, entropy {scores['entropy']:.3f} of {scores['max_entropy']:.3f} nats, "
            f"confidence {scores['confidence']:.3f}")
