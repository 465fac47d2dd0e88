"""An offline quality metric for generated digits: a small classifier's view of the samples.

The usual FID (Heusel et al. 2017) compares Inception-v3 features of real and generated images;
its weights cannot be downloaded here, and Inception was never trained on digits anyway. This is
the same recipe with a small convolutional classifier trained on the real training set: the
*classifier-Fréchet distance* between the Gaussian fitted to its features of real test images and
the one fitted to its features of samples. It is **not** FID and its numbers are not comparable
with published FIDs: compare it only with itself, and with the real-vs-real floor (training images
against test images), which it can never beat. The course's ``Yardstick`` fixes everything a
score depends on: the classifier's weights (shipped, checksummed) and the number of samples
(10,000), so that every notebook, deck and benchmark reports in one unit.

It also reports what the classifier thinks the samples are: the histogram of predicted classes
(mode coverage: ten digits should each get about 10 %), its entropy (log 10 = 2.303 nats at best)
and the mean confidence (max softmax probability; blurry or monstrous samples get low values).
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course_utils import data, train


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


def optimal_critic_1d(t: torch.Tensor, F_r: torch.Tensor, F_g: torch.Tensor) -> torch.Tensor:
    """The 1-Lipschitz critic that maximises E_r f - E_g f = int f'(t) (F_g(t) - F_r(t)) dt
    (integration by parts), on a grid ``t`` (n,) with both CDFs evaluated there, (n,): slope
    sign(F_g - F_r) on each interval [t_i, t_(i+1)] (the CDFs taken at t_i), and f(t_0) = 0. Where
    the CDFs agree the slope is 0 (any slope in [-1, 1] is optimal there)."""
    slope = torch.sign(F_g[:-1] - F_r[:-1]).to(t.dtype)
    return torch.cat([torch.zeros(1, dtype=t.dtype, device=t.device), torch.cumsum(slope * torch.diff(t), 0)])


# ---------------------------------------------------------------------------------------------
# The Fréchet distance between two Gaussians


def tensor_digest(x: torch.Tensor) -> str:
    """SHA-256 of a tensor's dtype, shape and values (any device): the key of an evaluation of exactly
    these images."""
    x = x.detach().cpu().contiguous()
    digest = hashlib.sha256(f"{x.dtype} {tuple(x.shape)}".encode())
    digest.update(x.view(torch.uint8).numpy().tobytes() if x.numel() else b"")
    return digest.hexdigest()


def feature_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(F,)`` and covariance ``(F, F)`` (unbiased, float64) of features ``(N, F)``."""
    x = features.detach().cpu().double().numpy() if isinstance(features, torch.Tensor) else np.asarray(features,
                                                                                                       np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"features must be (N, F) with N >= 2, got shape {x.shape}")
    return x.mean(axis=0), np.cov(x, rowvar=False)


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Fréchet (2-Wasserstein) distance squared between N(mu1, sigma1) and N(mu2, sigma2):

        d^2 = ||mu1 - mu2||^2 + tr(sigma1) + tr(sigma2) - 2 tr((sigma1 sigma2)^(1/2))

    (Dowson & Landau 1982): the sum of ``frechet_terms``, floored at 0 (rounding).
    """
    return float(max(sum(frechet_terms(mu1, sigma1, mu2, sigma2)), 0.0))


def frechet_terms(mu1, sigma1, mu2, sigma2) -> tuple[float, float]:
    """The two terms of ``frechet_distance``: the means' ``||mu1 - mu2||^2`` and the covariances'
    ``tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2))`` (in 1-D, ``(s1 - s2)^2`` for standard
    deviations s1, s2). mu: ``(F,)``, sigma: ``(F, F)``, arrays or tensors.

    The trace of the matrix square root is the sum of the square roots of the eigenvalues of
    sigma1^(1/2) sigma2 sigma1^(1/2), a symmetric PSD matrix with the same spectrum as sigma1 sigma2:
    no complex parts, no iterative sqrtm. Eigenvalues below the rank tolerance (``_null``) count as 0:
    a covariance of features that never fire (48 of the yardstick's 128 on real digits) is singular,
    its null eigenvalues come out as rounding noise of either sign (about 1e-12 here), and a square root
    would magnify that noise to about 1e-6 each, differently on each CPU and LAPACK.
    """
    mu1, mu2, sigma1, sigma2 = (t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else t
                                for t in (mu1, mu2, sigma1, sigma2))
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (mu1.size, mu1.size):
        raise ValueError(f"shapes do not match: mu {mu1.shape} / {mu2.shape}, sigma {sigma1.shape} / {sigma2.shape}")
    w, v = np.linalg.eigh((sigma1 + sigma1.T) / 2)
    root1 = (v * np.sqrt(_null(w))) @ v.T
    middle = root1 @ sigma2 @ root1
    trace_root = np.sqrt(_null(np.linalg.eigvalsh((middle + middle.T) / 2))).sum()
    diff = mu1 - mu2
    return float(diff @ diff), float(np.trace(sigma1) + np.trace(sigma2) - 2 * trace_root)


def _null(eigenvalues: np.ndarray) -> np.ndarray:
    """Eigenvalues of a symmetric PSD matrix with those below its rank tolerance set to 0: a backward-
    stable solver returns each within about F * eps * lambda_max of the exact one (F = size; the rule
    of ``numpy.linalg.matrix_rank``), so below that a value cannot be told from 0."""
    tolerance = eigenvalues.size * np.finfo(np.float64).eps * max(float(eigenvalues.max(initial=0.0)), 0.0)
    return np.where(eigenvalues > tolerance, eigenvalues, 0.0)


def frechet_rounding(sigma1, sigma2) -> float:
    """How far two correct float64 computations of ``frechet_distance`` for these covariances ``(F, F)``
    may differ (e.g. numpy's and torch's eigensolvers, a threshold at the rank tolerance or a clamp at 0).

    Every eigenvalue of sigma1^(1/2) sigma2 sigma1^(1/2) is computed within tau = F eps ||sigma1|| ||sigma2||
    of the exact one (a backward-stable solver, Weyl's inequality; the rounding of sigma1^(1/2) adds
    perturbations of the same order), and a square root moves by at most sqrt(tau) when its argument
    moves by tau (|sqrt(a) - sqrt(b)| <= sqrt(|a - b|)). So each computation's 2 tr((sigma1 sigma2)^(1/2))
    is within 2 F sqrt(tau) of the exact value, and two computations within 4 F sqrt(tau). The bound is
    worst-case: for the yardstick's real digits it is 0.02, and measured differences are about 1e-5.
    """
    s1, s2 = (np.atleast_2d(np.asarray(s.detach().cpu().numpy() if isinstance(s, torch.Tensor) else s, np.float64))
              for s in (sigma1, sigma2))
    f = s1.shape[0]
    tau = f * np.finfo(np.float64).eps * np.linalg.norm(s1, 2) * np.linalg.norm(s2, 2)
    return float(4 * f * np.sqrt(tau))


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


def build_classifier(seed: int, n_classes: int = 10) -> DigitClassifier:
    """A ``DigitClassifier`` initialised from ``seed`` alone: the global random state is neither
    read nor advanced, so the weights never depend on what earlier cells drew or loaded."""
    return train.seeded(seed, lambda: DigitClassifier(n_classes))


def fit_classifier(model: DigitClassifier, train_set, steps: int, generator: torch.Generator, device,
                   batch_size: int = 128, lr: float = 1e-3) -> train.History:
    """Train ``model`` (already on ``device``) in place on ``train_set``: Adam with a cosine
    schedule, ``steps`` batches drawn with ``generator``, each shifted by up to +-2 pixels so that
    the features do not hinge on exact positions. Returns the History."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    model.train()

    def step_fn(step):
        x, y = train_set.sample(batch_size, generator, device)
        shift = torch.randint(-2, 3, (2,), generator=generator).tolist()
        x = torch.roll(x, shifts=shift, dims=(2, 3))
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        return {"loss": loss}

    return train.fit(step_fn, steps, log_every=50, desc=f"{train_set.name} classifier")


def train_classifier(train_set, cfg, steps: int | None = None, batch_size: int = 128, lr: float = 1e-3):
    """A classifier for ``train_set`` (an ``ImageData`` of 28 x 28 images), trained once and cached.

    ``fit_classifier`` for ``steps`` batches (default: 3,000 in full mode, 300 in FAST mode),
    from weights and batches seeded by ``cfg.seed`` only. For generated digits use the fixed
    ``Yardstick`` instead: this one is retrained per output folder. Returns
    ``(classifier in eval mode on cfg.device, History)``.
    """
    steps = steps if steps is not None else cfg.scale(full=3000, fast=300)
    model = build_classifier(cfg.seed, len(train_set.classes)).to(cfg.device)
    generator = torch.Generator().manual_seed(cfg.seed)

    def train_fn():
        return fit_classifier(model, train_set, steps, generator, cfg.device, batch_size, lr)

    # "init": the weights come from cfg.seed alone (older caches drew them from the global state)
    settings = {"data": train_set.name, "steps": steps, "batch": batch_size, "lr": lr, "seed": cfg.seed,
                "init": "seeded"}
    history = train.train_or_load(f"classifier_{train_set.name}", model, train_fn, settings, generators=[generator])
    return model.eval(), history


@torch.no_grad()
def classify(classifier: DigitClassifier, images: torch.Tensor, batch_size: int = 250) -> tuple[torch.Tensor,
                                                                                                torch.Tensor]:
    """``(features (N, 128), probabilities (N, 10))`` on the CPU for images ``(N, 1, 28, 28)``.

    images: float in [0, 1] or uint8 in [0, 255], on any device. ``batch_size`` images at a time: at 250 the
    first convolution's output (25 MB) stays under glibc's largest mmap threshold (32 MB), so its memory is
    reused instead of mapped and zeroed anew for every layer of every batch (at 1,000: 100 MB, and over 40 % of
    the time went to the kernel). Features and probabilities at 250 and 1,000 were the same bit for bit (1 and 2
    threads, AMD EPYC).
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
    computed once. features, probs: ``classify(classifier, reference)``, when already computed.
    """

    def __init__(self, classifier: DigitClassifier, reference: torch.Tensor, features: torch.Tensor | None = None,
                 probs: torch.Tensor | None = None):
        self.classifier = classifier
        if features is None or probs is None:
            features, probs = classify(classifier, reference)
        self.reference_features, self.reference_probs = features, probs
        self.reference = feature_statistics(self.reference_features)
        self.n_classes = classifier.head.out_features

    def score(self, images: torch.Tensor) -> dict:
        """``frechet`` (classifier-Fréchet distance to the reference), ``histogram`` (share of
        each predicted class, ``(C,)`` numpy, sums to 1), ``entropy`` of that histogram (nats;
        log C at most), ``classes_present`` (classes predicted for at least 1 % of the images)
        and ``confidence`` (mean max probability)."""
        features, probs = classify(self.classifier, images)
        return self._scores(feature_statistics(features), probs)

    def _scores(self, statistics: tuple[np.ndarray, np.ndarray], probs: torch.Tensor) -> dict:
        """``score`` from the images' feature statistics ``(mu, sigma)`` and probabilities ``(N, C)``."""
        return {
            "frechet": frechet_distance(*statistics, *self.reference),
            **_class_histogram(probs),
            "max_entropy": math.log(self.n_classes),
            "confidence": float(probs.max(1).values.double().mean()),
        }


def _class_histogram(probs: torch.Tensor) -> dict:
    """``histogram`` (share of each predicted class, numpy), its ``entropy`` (nats) and
    ``classes_present`` (classes predicted for at least 1 %) from probabilities ``(N, C)``."""
    histogram = torch.bincount(probs.argmax(1), minlength=probs.shape[1]).double() / len(probs)
    nonzero = histogram[histogram > 0]
    return {"histogram": histogram.numpy(),
            "entropy": float(-(nonzero * nonzero.log()).sum()) + 0.0,  # + 0.0: no "-0.000" for one class
            "classes_present": int((histogram >= 0.01).sum())}


# ---------------------------------------------------------------------------------------------
# The course's one yardstick for generated digits

YARDSTICK_WEIGHTS = Path(__file__).resolve().parent / "weights" / "digit_classifier.pt"
YARDSTICK_SHA256 = "3cba8fe17eb466decce45241fe2f2e1ab419ebbf024c26b52feaae0dc7b708bb"
# how tools/train_yardstick.py trained the weights above (fit_classifier, on the MNIST training set)
YARDSTICK_RECIPE = {"data": "MNIST-train", "steps": 3000, "batch": 128, "lr": 1e-3, "seed": 0}
YARDSTICK_N = 10_000  # samples per score: the test set's size


class YardstickError(RuntimeError):
    """The yardstick's weights are missing, or are not the course's."""


def load_yardstick(device="cpu", path=None) -> DigitClassifier:
    """The course's fixed digit classifier (like FID's fixed Inception network), in eval mode on
    ``device``: the weights shipped in ``course_utils/weights``, checked against their SHA-256
    before a safe load (``weights_only=True``). path: another copy of the file (tests)."""
    path = Path(path) if path is not None else YARDSTICK_WEIGHTS
    if not path.is_file():
        raise YardstickError(f"The yardstick's weights {path} are missing. Fix: reinstall the course "
                             "(pip install -e . from its folder ships them), or restore the file from git.")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != YARDSTICK_SHA256:
        raise YardstickError(f"{path} is not the course's yardstick (SHA-256 {digest[:16]}..., expected "
                             f"{YARDSTICK_SHA256[:16]}...): every score would be in another unit. Fix: restore it "
                             "with `git checkout course_utils/weights`, or reinstall the course.")
    state = train.load_checkpoint(path)
    model = DigitClassifier()
    train.load_model(model, state["model"], source=f"yardstick {path}")
    return model.to(device).eval().requires_grad_(False)


def kernel_distance(x: torch.Tensor, y: torch.Tensor, chunk: int = 2048) -> float:
    """Unbiased estimate of MMD^2 between the distributions of features x ``(n, F)`` and y ``(m, F)``
    with the kernel k(a, b) = (a.b / F + 1)^3 (the kernel inception distance's, Binkowski et al.
    2018): mean over i != j of k(x_i, x_j), plus the same for y, minus twice the mean of k(x_i, y_j).
    Its expectation does not depend on n and m (0 for one distribution), unlike the Fréchet
    distance of finite samples, so it can compare a few hundred samples; it may come out below 0."""
    return _kernel_mmd(x, y, _kernel_mean_offdiag(y, chunk), chunk)


def _kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a @ b.T / a.shape[1] + 1.0) ** 3


def _kernel_sum(a: torch.Tensor, b: torch.Tensor, chunk: int) -> float:
    return sum(float(_kernel(a[i : i + chunk], b).sum()) for i in range(0, a.shape[0], chunk))


def _kernel_mean_offdiag(x: torch.Tensor, chunk: int) -> float:
    x = x.double()
    n = x.shape[0]
    if n < 2:
        raise ValueError(f"the kernel distance needs at least 2 samples on each side, got {n}")
    diagonal = float(((x * x).sum(1) / x.shape[1] + 1.0).pow(3).sum())
    return (_kernel_sum(x, x, chunk) - diagonal) / (n * (n - 1))


def _kernel_mmd(x: torch.Tensor, y: torch.Tensor, yy: float, chunk: int) -> float:
    if x.dim() != 2 or y.dim() != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"features must be (n, F) and (m, F), got {tuple(x.shape)} and {tuple(y.shape)}")
    x, y = x.double(), y.double()
    xy = _kernel_sum(x, y, chunk) / (x.shape[0] * y.shape[0])
    return _kernel_mean_offdiag(x, chunk) + yy - 2 * xy


def two_sample_accuracy(a: torch.Tensor, b: torch.Tensor, seed: int = 0, steps: int = 500, hidden: int = 64,
                        lr: float = 3e-3) -> float:
    """A classifier two-sample test (Lopez-Paz & Oquab 2017) for low-dimensional vectors a ``(n, F)``
    and b ``(m, F)``: a ReLU MLP (two hidden layers of ``hidden`` units, full-batch Adam, ``steps``
    steps) learns to tell a from b on the first half of each, and its accuracy on the other halves
    (classes weighted equally) is returned, in [0, 1]. 0.5 means it found no difference, 1 that the
    two never overlap; with n = m held-out points per side, chance alone spreads it by about
    sqrt(0.25 / n) around 0.5. Inputs are standardised by the training halves' statistics, so the
    answer does not depend on the units. Runs on the CPU, seeded: repeatable on one machine."""
    if a.dim() != 2 or b.dim() != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"samples must be (n, F) and (m, F), got {tuple(a.shape)} and {tuple(b.shape)}")
    if min(len(a), len(b)) < 4:
        raise ValueError(f"the two-sample test needs at least 4 points per side, got {len(a)} and {len(b)}")
    a, b = a.detach().float().cpu(), b.detach().float().cpu()
    a_fit, a_test = a[: len(a) // 2], a[len(a) // 2 :]
    b_fit, b_test = b[: len(b) // 2], b[len(b) // 2 :]
    x = torch.cat([a_fit, b_fit])
    shift, scale = x.mean(0), x.std(0).clamp_min(1e-12)
    y = torch.cat([torch.ones(len(a_fit)), torch.zeros(len(b_fit))])
    # weights make each side count half, whatever n and m
    w = torch.cat([torch.full((len(a_fit),), 0.5 / len(a_fit)), torch.full((len(b_fit),), 0.5 / len(b_fit))])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = nn.Sequential(nn.Linear(a.shape[1], hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                            nn.Linear(hidden, 1))
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    x = (x - shift) / scale
    for _ in range(steps):
        loss = (w * F.binary_cross_entropy_with_logits(net(x).view(-1), y, reduction="none")).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    with torch.no_grad():
        hit_a = (net((a_test - shift) / scale).view(-1) > 0).float().mean()
        hit_b = (net((b_test - shift) / scale).view(-1) <= 0).float().mean()
    return float((hit_a + hit_b) / 2)


class Yardstick(SampleScorer):
    """The one measure of generated digits in the course: the fixed classifier (``load_yardstick``),
    exactly 10,000 samples against the 10,000 MNIST test images, and the floor: 10,000 training
    images against the same test images, the best a sampler of real digits can do at this n.

        yardstick = metrics.Yardstick(cfg.device)   # prints its test accuracy and floor
        scores = yardstick.score(samples)           # samples: (10000, 1, 28, 28) in [0, 1]
        print(yardstick.describe(scores))

    Why a fixed n: the Fréchet distance of a finite sample is biased upwards by roughly 1 / n, so
    scores at different n are in different units (``floor_curve`` shows it). For a curve during
    training, where 10,000 samples per point cost too much, use ``kernel_distance`` (unbiased,
    any n), never divided by the floor.
    """

    n = YARDSTICK_N

    def __init__(self, device="cpu", root=None, verbose: bool = True, *, classifier: DigitClassifier | None = None,
                 dataset: str = "mnist"):
        # classifier / dataset: the same protocol with another classifier and data set (notebook
        # 04 on Fashion-MNIST, with a classifier trained there): never the course's yardstick
        if dataset not in ("mnist", "fashion"):
            raise ValueError(f"dataset must be 'mnist' or 'fashion', got {dataset!r}")
        if classifier is None and dataset != "mnist":
            raise ValueError("the course's yardstick reads MNIST digits: pass a classifier trained on "
                             f"{dataset!r} (metrics.train_classifier) to score that data set")
        self._load = data.mnist if dataset == "mnist" else data.fashion_mnist
        test, self._train_images = self._load("test", root=root), None
        self._root = root
        self.fixed = classifier is None
        self._device_type = torch.device(device).type
        classifier = load_yardstick(device) if classifier is None else classifier
        if self.fixed:  # the same numbers for every notebook and benchmark: computed once per output folder
            settings = {"weights": YARDSTICK_SHA256, "test": "MNIST test set",
                        "floor": f"first {self.n} training images", "device": self._device_type}
            stats = train.compute_or_load("yardstick_reference", lambda: self._reference_stats(classifier, test.images),
                                          settings)
        else:
            stats = self._reference_stats(classifier, test.images)
        super().__init__(classifier, test.images, stats["features"], stats["probs"])
        self.accuracy = 100.0 * float((self.reference_probs.argmax(1) == test.labels).double().mean())
        self._scale, self._reference_kernel, self.floor = stats["scale"], stats["kernel"], stats["floor"]
        if verbose:
            what = ("the course's yardstick: fixed digit classifier" if self.fixed
                    else f"{test.name}: a classifier trained here")
            print(f"{what}, test accuracy {self.accuracy:.2f} %; n = {self.n:,} "
                  f"samples against the {len(test):,} test images; real-vs-real floor {self.floor:.2f}")

    def _reference_stats(self, classifier: DigitClassifier, test_images: torch.Tensor) -> dict:
        """What the protocol computes once: the test images' features and probabilities, the kernel's
        scale and the test features' mean kernel, and the floor (n training images against the test set)."""
        features, probs = classify(classifier, test_images)
        # the kernel reads features divided by one fixed scale (their RMS over the test images),
        # so that a.b / F is of order 1 and the cubic kernel does not blow up the estimate's variance
        scale = float(features.double().pow(2).mean().sqrt())
        floor = frechet_distance(*feature_statistics(classify(classifier, self.training_images(self.n))[0]),
                                 *feature_statistics(features))
        return {"features": features, "probs": probs, "scale": scale, "floor": floor,
                "kernel": _kernel_mean_offdiag(features / scale, 2048)}

    def training_images(self, n: int) -> torch.Tensor:
        """The first ``n`` MNIST training images ``(n, 1, 28, 28)`` uint8 (the floor's real sample)."""
        if self._train_images is None:
            self._train_images = self._load("train", root=self._root).images
        return self._train_images[:n]

    def score(self, images: torch.Tensor) -> dict:
        """``SampleScorer.score`` of exactly ``n`` = 10,000 images ``(n, 1, 28, 28)``, plus ``n``,
        ``floor`` and ``x_floor`` (the distance over the floor). The course's yardstick computes a
        set of images' score once per output folder (keyed by the images' bytes) and loads it after."""
        scores = dict(self._evaluate(images)["scores"])
        scores["histogram"] = np.asarray(scores["histogram"], dtype=np.float64)
        scores.update(n=self.n, floor=self.floor, x_floor=scores["frechet"] / self.floor)
        return scores

    def statistics(self, images: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Mean ``(F,)`` and covariance ``(F, F)`` (float64) of the classifier's features of exactly
        ``n`` images ``(n, 1, 28, 28)``: what ``score`` compares with ``reference`` (cached with it)."""
        entry = self._evaluate(images)
        return entry["mu"].numpy(), entry["sigma"].numpy()

    def _evaluate(self, images: torch.Tensor) -> dict:
        """``{"scores", "mu", "sigma"}`` of ``images``: computed, or loaded when the fixed yardstick has
        already scored the same bytes in this output folder (a second run of a notebook, a student build
        after the solution's)."""
        if images.shape[0] != self.n:
            raise ValueError(f"the yardstick scores exactly {self.n:,} samples (got {images.shape[0]:,}): draw "
                             f"{self.n:,}, in FAST mode too (sampling is cheap), or use kernel_distance() for a "
                             "curve during training")

        def compute() -> dict:
            features, probs = classify(self.classifier, images)
            mu, sigma = feature_statistics(features)
            return {"scores": self._scores((mu, sigma), probs), "mu": torch.from_numpy(mu),
                    "sigma": torch.from_numpy(sigma)}

        if not self.fixed:  # a classifier trained in the session: nothing to key a file by
            return train.plain_result(compute())
        settings = {"weights": YARDSTICK_SHA256, "device": self._device_type, "images": tensor_digest(images)}
        return train.compute_or_load("yardstick_score", compute, settings, verbose=False)

    def kernel_distance(self, images: torch.Tensor) -> float:
        """``kernel_distance`` between the classifier's features of ``images`` (any number >= 2)
        and of the 10,000 test images, both divided by one fixed scale: for curves during training.
        Real training images score about 0.003-0.03 at any n from 250 to 10,000."""
        return self._kernel_of(classify(self.classifier, images)[0])

    def _kernel_of(self, features: torch.Tensor) -> float:
        return _kernel_mmd(features / self._scale, self.reference_features / self._scale, self._reference_kernel, 2048)

    def curve_point(self, images: torch.Tensor) -> dict:
        """For curves during training, from any number of samples ``(n, 1, 28, 28)``: ``kernel``
        (``kernel_distance``), ``entropy`` of the predicted digits' histogram (nats) and
        ``classes_present`` (digits predicted for at least 1 %). Never a Fréchet distance: at
        n < 10,000 it would not be in the yardstick's unit."""
        features, probs = classify(self.classifier, images)
        classes = _class_histogram(probs)
        return {"kernel": self._kernel_of(features), "entropy": classes["entropy"],
                "classes_present": classes["classes_present"]}

    def floor_curve(self, sizes=(250, 500, 1000, 2000, 5000, 10000)) -> dict:
        """Real training images against the test images at each n of ``sizes``: the Fréchet
        distance (its bias falls roughly like 1 / n: 35 at n = 250, 3.9 at 10,000) and the kernel
        distance (unbiased: only its noise shrinks with n, not its level). The course's yardstick
        computes it once per output folder for the same sizes, then loads it."""
        if not self.fixed:
            return self._floor_curve(sizes)
        settings = {"weights": YARDSTICK_SHA256, "device": self._device_type, "sizes": [int(n) for n in sizes],
                    "real": "first n MNIST training images"}
        return train.compute_or_load("yardstick_floor_curve", lambda: self._floor_curve(sizes), settings,
                                     verbose=False)

    def _floor_curve(self, sizes) -> dict:
        curve = {"n": [], "frechet": [], "kernel": []}
        for n in sizes:
            real = self.training_images(n)
            features, _ = classify(self.classifier, real)
            curve["n"].append(n)
            curve["frechet"].append(frechet_distance(*feature_statistics(features), *self.reference))
            curve["kernel"].append(self._kernel_of(features))
        return curve

    def describe(self, scores: Mapping) -> str:
        """One line: the distance, the floor and their ratio at n = 10,000, digits, entropy, confidence."""
        return (f"classifier-Fréchet {scores['frechet']:.2f} (floor {scores['floor']:.2f}: {scores['x_floor']:.1f}x; "
                f"n = {scores['n']:,}), digits present {scores['classes_present']}/{len(scores['histogram'])}, "
                f"entropy {scores['entropy']:.3f} of {scores['max_entropy']:.3f} nats, "
                f"confidence {scores['confidence']:.3f}")


def mode_histogram(classes: torch.Tensor, n_classes: int = 10) -> dict:
    """Modes of stacked images from the class of each channel, ``(N, C)`` ints in [0, n_classes):
    mode = the tuple of classes, n_classes ** C modes in all (1,000 for stacked MNIST).
    Returns ``counts`` (``(n_classes ** C,)`` numpy), ``modes`` (how many were hit at least once)
    and ``kl``: KL(histogram || uniform) in nats (0 when every mode is equally frequent; the
    measure of Metz et al. 2017, Table 2, and PacGAN, Table 2)."""
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
