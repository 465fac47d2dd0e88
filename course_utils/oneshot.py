"""Metric learning scaffolding on Omniglot: pair sampling and the N-way one-shot protocol.

Pairs (notebook 01, lecture "Siamese networks, 2"): ``(x_i, x_j, c)`` with ``c = 1`` for two
drawings of the same character and ``c = 0`` otherwise (the lecture writes c in {-1, 1}), with an
explicit number of dissimilar pairs per similar one.

One-shot trials (Lake et al. 2015; Koch et al. 2015, section 4.2): pick N characters and two
drawers. The support set is the N characters drawn by the first drawer; the query is one of
the characters drawn by the second. A model is right when the query's nearest support image is
the same character. ``within_alphabet=True`` draws the N characters from one alphabet (Lake's and
Koch's protocol, harder: similar-looking characters); ``False`` draws them from any alphabets.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass, replace
from typing import Callable, Sequence

import torch
import torch.nn as nn

from course_utils import losses, train
from course_utils.data import ImageData, random_affine


# ---------------------------------------------------------------------------------------------
# Pairs


def sample_pairs(
    data: ImageData, n_similar: int, ratio: float, generator: torch.Generator | None = None,
    same_alphabet: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Index pairs ``(i, j, c)``: ``n_similar`` similar pairs and ``round(ratio * n_similar)`` dissimilar.

    i, j: ``(P,)`` indices into ``data``; c: ``(P,)`` float, 1 for the same character, 0 otherwise.
    Similar pairs are two different drawings of one character. With ``same_alphabet``, dissimilar
    pairs are drawn within one alphabet: domain knowledge that picks harder negatives.
    """
    if ratio < 0:
        raise ValueError(f"ratio must be >= 0, got {ratio}")
    n_dissimilar = round(ratio * n_similar)
    labels = data.labels
    order = torch.argsort(labels, stable=True)
    counts = torch.bincount(labels)
    starts = torch.cumsum(counts, 0) - counts

    if n_similar > 0 and (counts[counts > 0] < 2).any():
        raise ValueError("similar pairs need at least two images of every class: drop single-image classes first")
    # similar: a random image, then another drawing of its character
    i = torch.randint(len(data), (n_similar,), generator=generator)
    k = counts[labels[i]]
    offset = torch.randint(1 << 30, (n_similar,), generator=generator) % (k - 1)
    rank = _rank_within_class(order, labels, starts, i)
    j = order[starts[labels[i]] + (rank + 1 + offset) % k]

    # dissimilar: two images of different characters (optionally of the same alphabet)
    a = torch.randint(len(data), (n_dissimilar,), generator=generator)
    if same_alphabet:
        if data.alphabet is None:
            raise ValueError("same_alphabet needs data with alphabet indices (Omniglot)")
        b = _other_in_group(data.alphabet, labels, a, generator)
    else:
        b = _other_in_group(torch.zeros_like(labels), labels, a, generator)
    ii, jj = torch.cat([i, a]), torch.cat([j, b])
    c = torch.cat([torch.ones(n_similar), torch.zeros(n_dissimilar)])
    return ii, jj, c


def _rank_within_class(order, labels, starts, index):
    """Position of each ``index`` within its class's block of ``order``."""
    position = torch.empty_like(order)
    position[order] = torch.arange(len(order))
    return position[index] - starts[labels[index]]


def _other_in_group(group, labels, anchors, generator, tries: int = 64):
    """For each anchor, a random index in the same group with a different label (rejection sampling)."""
    order = torch.argsort(group, stable=True)
    counts = torch.bincount(group)
    starts = torch.cumsum(counts, 0) - counts
    g = group[anchors]
    out = torch.empty_like(anchors)
    todo = torch.arange(len(anchors))
    for _ in range(tries):
        if len(todo) == 0:
            return out
        gt = g[todo]
        pick = order[starts[gt] + torch.randint(1 << 30, (len(todo),), generator=generator) % counts[gt]]
        ok = labels[pick] != labels[anchors[todo]]
        out[todo[ok]] = pick[ok]
        todo = todo[~ok]
    raise RuntimeError("could not find dissimilar partners: does every group hold at least two classes?")


# ---------------------------------------------------------------------------------------------
# One-shot trials


def _character_tables(data: ImageData) -> tuple[torch.Tensor, torch.Tensor]:
    """``lookup`` ``(characters, drawers)``: the image index of each character by each drawer
    (-1 if missing); ``char_alphabet`` ``(characters,)``: the alphabet of each character."""
    lookup = torch.full((len(data.classes), int(data.drawer.max()) + 1), -1, dtype=torch.long)
    lookup[data.labels, data.drawer] = torch.arange(len(data))
    char_alphabet = torch.zeros(len(data.classes), dtype=torch.long)
    char_alphabet[data.labels] = data.alphabet
    return lookup, char_alphabet


# The course's one-shot protocol (notebook 01 and benchmarks/oneshot_recipe.py): this many 20-way trials within
# alphabet and as many across, trial seed 0. The standard error is then sqrt(p (1 - p) / 2,000), 0.8 points at
# 85 %: two models 3 points apart are told apart (notebook 01, Exercise 5); 400 trials could not.
N_WAY, TRIALS = 20, 2_000


@dataclass
class Trials:
    """``T`` one-shot trials: ``support`` ``(T, N)`` image indices, ``query`` ``(T,)``, ``answer`` ``(T,)``
    (the position in ``support`` of the query's character)."""

    support: torch.Tensor
    query: torch.Tensor
    answer: torch.Tensor
    n_way: int
    within_alphabet: bool

    def __len__(self) -> int:
        return len(self.query)


def make_trials(data: ImageData, n_way: int = 20, n_trials: int = 400, within_alphabet: bool = True,
                seed: int = 0) -> Trials:
    """N-way one-shot trials on ``data`` (use the *evaluation* split: characters never trained on).

    Each trial: N characters (from one alphabet if ``within_alphabet``), two distinct drawers;
    support = the N characters by drawer 1, query = one of them by drawer 2. Deterministic in ``seed``.
    """
    if data.alphabet is None or data.drawer is None:
        raise ValueError("one-shot trials need Omniglot data (alphabet and drawer indices)")
    g = torch.Generator().manual_seed(seed)
    lookup, char_alphabet = _character_tables(data)
    n_drawers = lookup.shape[1]
    pools = [torch.nonzero(char_alphabet == a).squeeze(1) for a in range(len(data.alphabets))]
    pools = [p for p in pools if len(p) >= n_way] if within_alphabet else [torch.arange(len(data.classes))]
    if not pools:
        raise ValueError(f"no alphabet has {n_way} characters")
    support, query, answer = [], [], []
    for t in range(n_trials):
        pool = pools[t % len(pools)] if within_alphabet else pools[0]  # alphabets in turn: balanced
        chars = pool[torch.randperm(len(pool), generator=g)[:n_way]]
        d1, d2 = torch.randperm(n_drawers, generator=g)[:2]
        target = int(torch.randint(n_way, (1,), generator=g))
        support.append(lookup[chars, d1])
        query.append(lookup[chars[target], d2])
        answer.append(target)
    support, query = torch.stack(support), torch.stack(query)
    if (support < 0).any() or (query < 0).any():
        raise ValueError("some character lacks a drawing by the chosen drawer")
    return Trials(support, query, torch.tensor(answer), n_way, within_alphabet)


@dataclass
class Score:
    """Accuracy over trials with its binomial standard error (both in %)."""

    accuracy: float
    stderr: float
    n: int

    def __str__(self) -> str:
        return f"{self.accuracy:.1f} % ± {self.stderr:.1f} (n = {self.n})"


def score(correct: torch.Tensor) -> Score:
    """``correct``: ``(T,)`` bool. Standard error sqrt(p (1 - p) / T)."""
    n = correct.numel()
    p = correct.float().mean().item()
    return Score(100 * p, 100 * math.sqrt(max(p * (1 - p), 0.0) / n), n)


def difference(a: Score, b: Score) -> str:
    """'a - b' in points with the standard error of the difference, sqrt(se_a^2 + se_b^2) (notebook 01,
    Exercise 5: independent trials; two models scored on the same trials make it an upper bound)."""
    d, se = a.accuracy - b.accuracy, math.hypot(a.stderr, b.stderr)
    return f"{d:+5.1f} points ± {se:.1f} ({abs(d) / se:.1f} standard errors)"


def screen_table(record: dict) -> str:
    """The rows of ``benchmarks/oneshot_recipe.py``'s record (its ``metrics``): each variant's within- and
    across-alphabet accuracy, mean ± sd over seeds ("1 seed" where it was screened with one), the same with
    test-time augmentation where the record has it (``--tta``), and its training seconds."""
    runs = [key[: -len(": within (%)")] for key in record if key.endswith(": within (%)")]
    splits = ["within", "across"] + [s for s in ("within, TTA", "across, TTA") if any(
        f"{run}: {s} (%)" in record for run in runs)]
    lines = [f"{'variant':36s}" + "".join(f"{s + ' (%)':>17s}" for s in splits) + f"{'training (s)':>14s}"]
    for run in runs:
        cells = [f"{record[f'{run}: {split} (%)']:6.1f} " + (f"± {record[f'{run}: {split}, sd (%)']:4.1f}"
                 if f"{run}: {split}, sd (%)" in record else "(1 seed)") if f"{run}: {split} (%)" in record
                 else "n/a" for split in splits]
        lines.append(f"{run:36s}" + "".join(f"{c:>17s}" for c in cells) + f"{record[f'{run}: training (s)']:14.0f}")
    return "\n".join(lines)


def trials_to_tell_apart(p: float, delta: float) -> int:
    """The fewest trials per model for which two accuracies near ``p`` that differ by ``delta`` (both as
    fractions), each measured on its own independent trials, are two standard errors of their difference
    apart: the difference's standard error is sqrt(2 p (1 - p) / n), so n >= 8 p (1 - p) / delta^2
    (notebook 01, Exercise 5)."""
    # - 1e-9: a bound that is an integer in exact arithmetic must not round up to the next one
    return max(1, math.ceil(8 * p * (1 - p) / delta ** 2 - 1e-9))


def same_alphabet_share(characters_per_alphabet) -> float:
    """Probability that two distinct characters drawn uniformly at random (without replacement) come from
    the same alphabet: sum_a n_a (n_a - 1) / (N (N - 1)), N = sum_a n_a (notebook 01, Exercise 1).
    ``characters_per_alphabet``: ``(A,)`` counts, a tensor or a list."""
    n = torch.as_tensor(characters_per_alphabet, dtype=torch.float64)
    total = n.sum()
    return float((n * (n - 1)).sum() / (total * (total - 1)))


@torch.no_grad()
def embed_all(embed: Callable[[torch.Tensor], torch.Tensor], data: ImageData, index: torch.Tensor,
              device="cpu", batch_size: int = 512) -> torch.Tensor:
    """``embed`` applied to the images at ``index`` in batches: ``(len(index), D)`` on the CPU."""
    return torch.cat([embed(data.batch(index[s : s + batch_size], device)[0]).float().cpu()
                      for s in range(0, len(index), batch_size)])


@torch.no_grad()
def evaluate(embed: Callable[[torch.Tensor], torch.Tensor], data: ImageData, trials: Trials,
             distance: str = "cosine", device="cpu", similarity: Callable | None = None) -> Score:
    """Score an embedding on ``trials``: nearest support image by ``distance`` (cosine, l2 or l1),
    or by a learned ``similarity(zq (T, D), zs (T, N, D)) -> (T, N)`` (higher = more alike).

    embed: ``(B, 1, H, W)`` float in [0, 1] -> ``(B, D)``. Every image used is embedded once.
    """
    return evaluate_many(embed, data, [trials], distance, device, similarity)[0]


@torch.no_grad()
def evaluate_many(embed: Callable[[torch.Tensor], torch.Tensor], data: ImageData, trials: Sequence[Trials],
                  distance: str = "cosine", device="cpu", similarity: Callable | None = None) -> list[Score]:
    """``evaluate`` on each set of ``trials`` (within and across alphabets, say), embedding every image
    they use once for all of them: with 2,000 trials a set, each set touches most of the evaluation split."""
    used = torch.unique(torch.cat([i for t in trials for i in (t.support.flatten(), t.query)]))
    z = embed_all(embed, data, used, device)
    row = torch.full((len(data),), -1, dtype=torch.long)
    row[used] = torch.arange(len(used))
    scores = []
    for t in trials:
        zs, zq = z[row[t.support]], z[row[t.query]]  # (T, N, D), (T, D)
        guess = nearest(zq, zs, distance) if similarity is None else similarity(zq, zs).argmax(dim=1)
        scores.append(score(guess.cpu() == t.answer))
    return scores


def trials_fingerprint(data: ImageData, trials: Sequence[Trials]) -> str:
    """A short hash of which images ``trials`` show and in what order: two sets of trials with the same
    fingerprint score any embedding alike (the images themselves are named by ``data``'s size and shape)."""
    h = hashlib.sha256(repr((len(data), tuple(data.images.shape[1:]))).encode())
    for t in trials:
        for part in (t.support, t.query, t.answer):
            h.update(part.to(torch.int64).contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def evaluate_or_load(name: str, settings: dict, embed: Callable[[torch.Tensor], torch.Tensor], data: ImageData,
                     trials: Sequence[Trials], distance: str = "cosine", device="cpu",
                     similarity: Callable | None = None) -> list[Score]:
    """``evaluate_many``'s scores, saved under ``COURSE_OUTPUT`` on the first call and read back by later
    ones (``train.compute_or_load``): a second run of notebook 01 does not embed the evaluation split again.

    ``settings`` must say everything that makes ``embed`` and ``similarity`` what they are (a trained
    model's checkpoint settings, test-time augmentation, a learned head); the trials are keyed by their
    fingerprint (``trials_fingerprint``) and the distance by its name.
    """
    if similarity is not None and "similarity" not in settings:
        raise ValueError("a learned similarity must be named in settings['similarity'] (what trained it)")
    key = {**settings, "distance": distance if similarity is None else "learned",
           "trials": trials_fingerprint(data, trials)}
    result = train.compute_or_load(name, lambda: {"scores": [asdict(s) for s in evaluate_many(
        embed, data, trials, distance, device, similarity)]}, key, verbose=False)
    return [Score(**s) for s in result["scores"]]


def tta(model: Callable[[torch.Tensor], torch.Tensor], copies: int = 8, seed: int = 0
        ) -> Callable[[torch.Tensor], torch.Tensor]:
    """Test-time augmentation (notebook 01, section 8): an embedding ``(B, 1, H, W) -> (B, D)`` that averages
    the normalised embeddings of each image and of ``copies`` mildly distorted versions of it (affine
    distortions milder than training's; drawn from a generator seeded by ``seed``, so a score is repeatable)."""
    g = torch.Generator().manual_seed(seed)

    def embed(x: torch.Tensor) -> torch.Tensor:
        z = torch.nn.functional.normalize(model(x), dim=1)
        for _ in range(copies):
            x_aug = random_affine(x, g, rotate=5, shear=0.1, scale=(0.9, 1.1), translate=0.05)
            z = z + torch.nn.functional.normalize(model(x_aug), dim=1)
        return z / (copies + 1)

    return embed


def nearest(zq: torch.Tensor, zs: torch.Tensor, distance: str = "cosine") -> torch.Tensor:
    """Index of each query's nearest support: zq ``(T, D)``, zs ``(T, N, D)`` -> ``(T,)``."""
    if distance == "cosine":
        sim = torch.einsum("td,tnd->tn", torch.nn.functional.normalize(zq, dim=-1),
                           torch.nn.functional.normalize(zs, dim=-1))
        return sim.argmax(dim=1)
    p = {"l2": 2, "l1": 1}.get(distance)
    if p is None:
        raise ValueError(f"distance must be 'cosine', 'l2' or 'l1', got {distance!r}")
    return (zs - zq[:, None]).abs().pow(p).sum(-1).argmin(dim=1)


def verification_pairs(data: ImageData, n: int, seed: int = 0, same_alphabet: bool = True):
    """``n`` balanced same / different pairs for verification accuracy and ROC curves."""
    g = torch.Generator().manual_seed(seed)
    return sample_pairs(data, n // 2, 1.0, g, same_alphabet=same_alphabet)


def roc_curve(scores: torch.Tensor, same: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, float]:
    """False / true positive rates at every threshold of ``scores`` (higher = more similar), and the AUC."""
    order = torch.argsort(scores, descending=True)
    y = same[order].float()
    tpr = torch.cat([torch.zeros(1), torch.cumsum(y, 0) / y.sum()])
    fpr = torch.cat([torch.zeros(1), torch.cumsum(1 - y, 0) / (1 - y).sum()])
    auc = torch.trapezoid(tpr, fpr).item()
    return fpr, tpr, auc


# ---------------------------------------------------------------------------------------------
# Episodes: many negatives per batch, hard ones from the same alphabet


def sample_episode(data: ImageData, n_alphabets: int, n_way: int, k_shot: int,
                   generator: torch.Generator | None = None,
                   rotations: bool = True) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A batch of ``k_shot`` drawings of ``n_way`` characters from each of ``n_alphabets`` alphabets.

    Characters of one alphabet look alike, so each image meets hard negatives in the same batch.
    With ``rotations``, each alphabet is turned by a random multiple of 90 degrees, which makes
    new characters (Santoro et al. 2016; Vinyals et al. 2016).
    Returns index ``(B,)``, class ``(B,)`` numbered 0..C-1 within the batch, and quarter turns ``(B,)``.
    """
    lookup, char_alphabet = _character_tables(data)
    n_drawers = lookup.shape[1]
    alphabets = torch.randperm(len(data.alphabets), generator=generator)[:n_alphabets]
    index, label, turns = [], [], []
    n_classes = 0
    for a in alphabets:
        pool = torch.nonzero(char_alphabet == a).squeeze(1)
        chars = pool[torch.randperm(len(pool), generator=generator)[:n_way]]
        drawers = torch.argsort(torch.rand(len(chars), n_drawers, generator=generator), dim=1)[:, :k_shot]
        index.append(lookup[chars[:, None], drawers].flatten())
        label.append(torch.arange(n_classes, n_classes + len(chars)).repeat_interleave(k_shot))
        n_classes += len(chars)
        k = int(torch.randint(4, (1,), generator=generator)) if rotations else 0
        turns.append(torch.full((len(chars) * k_shot,), k))
    return torch.cat(index), torch.cat(label), torch.cat(turns)


def rotate_quarters(x: torch.Tensor, turns: torch.Tensor) -> torch.Tensor:
    """Rotate each image of ``x`` ``(B, C, H, W)`` by ``turns`` ``(B,)`` quarter turns."""
    out = x.clone()
    for k in (1, 2, 3):
        m = turns == k
        if m.any():
            out[m] = torch.rot90(x[m], k, dims=(-2, -1))
    return out


# ---------------------------------------------------------------------------------------------
# The embedding network and the episode recipe (notebook 01, sections 3 and 7-8)


class EmbeddingNet(nn.Module):
    """f_theta: ``(B, 1, S, S)`` images in [0, 1] -> ``(B, D)`` embeddings.

    ``blocks`` blocks of 3x3 convolution, batch norm, ReLU; the first ``pooled`` of them end with 2x2 max
    pooling (the four-block network of Vinyals et al. 2016 and Snell et al. 2017: ``pooled = blocks``).
    D = width * (S / 2**pooled)**2 (rounded down at each pooling): 64 at 28 px with four pooled blocks of
    width 64, 576 with three (the last block keeps its 3x3 map, so the embedding keeps where strokes are).
    """

    def __init__(self, width: int = 64, blocks: int = 4, pooled: int | None = None):
        super().__init__()
        pooled = blocks if pooled is None else pooled
        if not 0 <= pooled <= blocks:
            raise ValueError(f"pooled must be between 0 and blocks ({blocks}), got {pooled}")
        layers, channels = [], 1
        for b in range(blocks):
            layers += [nn.Conv2d(channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width),
                       nn.ReLU(inplace=True)]
            if b < pooled:
                layers.append(nn.MaxPool2d(2))
            channels = width
        self.features = nn.Sequential(*layers)
        # the prototype loss's inverse temperature, learned with the network (from 10); forward does not
        # use it. Kept here so that a checkpoint and a resumed run carry it with the weights.
        self.scale = nn.Parameter(torch.tensor(10.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # channels_last speeds up convolutions on CPUs by 6-43 % for this kind of network
        return self.features(x.contiguous(memory_format=torch.channels_last)).flatten(1)


@dataclass(frozen=True)
class EpisodeRecipe:
    """What determines an episode-trained embedding (notebook 01, sections 7-8).

    Network: ``width``, ``blocks``, ``pooled`` (``EmbeddingNet``), on ``size`` px images. Episodes:
    ``ways`` characters x ``shots`` drawings from each of ``alphabets`` alphabets, ``rotations`` (each
    alphabet turned by a random quarter turn: new classes), ``augment`` (random affine distortions).
    Optimiser: Adam, learning rate ``lr`` with a cosine decay to 0 over the run.
    """

    size: int = 28
    width: int = 64
    blocks: int = 4
    pooled: int = 4
    alphabets: int = 2
    ways: int = 20
    shots: int = 5
    lr: float = 2e-3
    rotations: bool = True
    augment: bool = True

    def with_(self, **changes) -> "EpisodeRecipe":
        """A copy with ``changes`` (a lesson's override of a registered recipe)."""
        return replace(self, **changes)

    def settings(self) -> dict:
        """The recipe's values, for cache keys."""
        return asdict(self)

    def net(self) -> EmbeddingNet:
        return EmbeddingNet(self.width, self.blocks, self.pooled)


RECIPES: dict[str, EpisodeRecipe] = {
    # the four-block network of the few-shot papers, pooled to 1 px (a 64-d embedding), 20 x 5 episodes
    "episodes-28px": EpisodeRecipe(),
    # notebook 01's final model: the last 3x3 map kept (576-d) and episodes of 40 characters x 3 drawings
    # per alphabet (benchmarks/oneshot_recipe.py, 3 seeds: +5 points within alphabet at 300,000 images,
    # in less time)
    "episodes-28px-576d": EpisodeRecipe(pooled=3, ways=40, shots=3),
}


def recipe(name: str, **overrides) -> EpisodeRecipe:
    """The registered recipe ``name``, with ``overrides``."""
    if name not in RECIPES:
        raise KeyError(f"unknown one-shot recipe {name!r}; registered: {', '.join(RECIPES)}")
    return RECIPES[name].with_(**overrides)


def cosine_schedule(optimizer: torch.optim.Optimizer, steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """The learning rate of notebook 01's runs (pairs and episodes): ``optimizer``'s rate times
    (1 + cos(pi s / steps)) / 2 at step s, from the full rate down to 0 at ``steps`` and held there (a
    resumed or overrun loop never sees it rise again, as it would with ``CosineAnnealingLR``)."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * min(s / steps, 1))))


def train_episodes(net: nn.Module, data: ImageData, r: EpisodeRecipe, images: int, generator: torch.Generator,
                   device="cpu", progress: bool | None = None, desc: str = "episodes"):
    """Train ``net`` with the prototype loss on episodes of ``data`` (``r``'s sizes) until it has seen
    ``images`` images; the softmax's inverse temperature is ``net.scale``, learned. Returns the history
    (``loss``, batch ``accuracy``). Resumable inside ``train.train_or_load``: pass ``generator`` there too.
    """
    steps = max(1, images // (r.alphabets * r.ways * r.shots))
    optimizer = torch.optim.Adam(net.parameters(), lr=r.lr)
    schedule = cosine_schedule(optimizer, steps)

    def step_fn(step):
        index, y, turns = sample_episode(data, r.alphabets, r.ways, r.shots, generator, r.rotations)
        x = rotate_quarters(data.batch(index)[0], turns)
        x = (random_affine(x, generator) if r.augment else x).to(device)
        loss, accuracy = losses.prototype_loss(net(x), y.to(device), net.scale)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        return {"loss": loss, "accuracy": accuracy}

    net.train()
    return train.fit(step_fn, steps, log_every=25, progress=progress, desc=desc, optimizers=[optimizer],
                     schedulers=[schedule], generators=[generator])


def trained(r: EpisodeRecipe, images: int, seed: int, data: ImageData, device="cpu", progress: bool | None = None,
            desc: str = "episodes") -> tuple[EmbeddingNet, object]:
    """An ``EmbeddingNet`` trained on ``data`` by ``train_episodes`` with recipe ``r`` for ``images`` images,
    from the weights and episode draws that ``seed`` fixes, or loaded when that was trained before (under
    ``COURSE_OUTPUT``, or ``COURSE_PRETRAINED``): notebook 01 and ``benchmarks/oneshot_recipe.py`` share it.
    Returns the network in evaluation mode and the history."""
    from course_utils import train

    if data.images.shape[-1] != r.size:
        raise ValueError(f"the recipe trains on {r.size} px images, the data are {data.images.shape[-1]} px: "
                         f"load them with data.omniglot(..., size={r.size})")
    net = train.seeded(seed, r.net).to(device, memory_format=torch.channels_last)
    generator = torch.Generator().manual_seed(seed)
    history = train.train_or_load(CHECKPOINT, net, lambda: train_episodes(
        net, data, r, images, generator, device, progress=progress, desc=desc), checkpoint_settings(r, images, seed),
        generators=[generator])
    return net.eval(), history


CHECKPOINT = "oneshot_episodes"  # the name of ``trained``'s checkpoints under COURSE_OUTPUT/checkpoints


def checkpoint_settings(r: EpisodeRecipe, images: int, seed: int) -> dict:
    """What determines ``trained``'s weights: its checkpoint's key (``train.checkpoint_path(CHECKPOINT, ...)``)."""
    return {**r.settings(), "images": images, "seed": seed}


def model_settings(r: EpisodeRecipe, images: int, seed: int) -> dict:
    """``checkpoint_settings`` with the checkpoint's name: what names a ``trained`` model among all the models
    whose scores ``evaluate_or_load`` keeps (notebook 01's pair models are saved under another name)."""
    return {**checkpoint_settings(r, images, seed), "checkpoint": CHECKPOINT}
