"""Reference versions of the metric-learning heads taught in notebook 01.

The notebook has the learner write each one; its check cell compares against these, and falls
back to them when an exercise is not attempted yet.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def koch_distance(z1: torch.Tensor, z2: torch.Tensor, alpha: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Koch et al. (2015), eq. 1 on the slides: p = sigma(sum_k alpha_k |z_k(x) - z_k(x')| + b).

    z1, z2: ``(B, D)`` embeddings; alpha: ``(D,)`` learned weights; bias: ``()``.
    Returns ``(B,)`` probabilities that the two images show the same character.
    """
    return torch.sigmoid((z1 - z2).abs() @ alpha + bias)


def koch_loss(p: torch.Tensor, c: torch.Tensor, weights, lam: float) -> torch.Tensor:
    """Regularised binary cross-entropy (Koch et al. 2015, section 3.2), averaged over the batch:

    L = -mean[c log p + (1 - c) log(1 - p)] + lam * sum_w ||w||^2

    p: ``(B,)`` in (0, 1); c: ``(B,)`` 1 for similar pairs, 0 for dissimilar;
    weights: iterable of tensors to regularise.
    """
    bce = F.binary_cross_entropy(p, c)
    return bce + lam * sum((w**2).sum() for w in weights)


def contrastive_loss(d: torch.Tensor, c: torch.Tensor, margin: float) -> torch.Tensor:
    """Margin contrastive loss (Hadsell, Chopra & LeCun 2006), averaged over the batch:

    L+ = d^2 for similar pairs, L- = max(0, m - d)^2 for dissimilar ones.
    d: ``(B,)`` distances >= 0; c: ``(B,)`` 1 similar / 0 dissimilar.
    """
    return (c * d**2 + (1 - c) * F.relu(margin - d) ** 2).mean()


def prototype_loss(z: torch.Tensor, y: torch.Tensor, scale: torch.Tensor | float) -> tuple[torch.Tensor, torch.Tensor]:
    """Many negatives per example: softmax over every class in the batch (prototypical networks,
    Snell et al. 2017, with cosine similarity and leave-one-out prototypes).

    z: ``(B, D)`` embeddings; y: ``(B,)`` class indices 0..C-1, each class at least twice.
    Each example is scored against the mean embedding of every class (its own class's mean
    leaves the example out). Returns (loss, accuracy), both scalars.
    """
    z = F.normalize(z, dim=1)
    onehot = F.one_hot(y).to(z.dtype)  # (B, C)
    sums = onehot.T @ z  # (C, D)
    counts = onehot.sum(0)
    own = (sums[y] - z) / (counts[y] - 1).clamp(min=1)[:, None]  # leave-one-out prototype
    logits = z @ F.normalize(sums, dim=1).T
    logits = logits.scatter(1, y[:, None], (z * F.normalize(own, dim=1)).sum(1, keepdim=True))
    return F.cross_entropy(scale * logits, y), (logits.argmax(1) == y).float().mean()
