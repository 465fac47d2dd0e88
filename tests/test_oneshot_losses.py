"""Pairs, episodes, one-shot trials and the metric-learning losses (notebook 01's library side)."""

import math

import pytest
import torch
import torch.nn.functional as F

from course_utils import data, losses, oneshot


def _toy_omniglot(n_alphabets=3, chars_per_alphabet=25, n_drawers=20):
    n_chars = n_alphabets * chars_per_alphabet
    labels = torch.arange(n_chars).repeat_interleave(n_drawers)
    images = torch.zeros(len(labels), 1, 4, 4, dtype=torch.uint8)
    return data.ImageData("toy", images, labels, [f"c{k}" for k in range(n_chars)],
                          alphabet=labels // chars_per_alphabet, drawer=torch.arange(n_drawers).repeat(n_chars),
                          alphabets=[f"a{k}" for k in range(n_alphabets)])


@pytest.fixture(scope="module")
def evaluation(data_root):
    return data.omniglot("evaluation", size=28, root=data_root)


# ------------------------------------------------------------------ pairs


@pytest.mark.parametrize("ratio", [0.0, 1.0, 2.0, 10.0])
def test_pairs_respect_the_ratio_and_their_labels(ratio):
    toy = _toy_omniglot()
    i, j, c = oneshot.sample_pairs(toy, 300, ratio, torch.Generator().manual_seed(0))
    assert int(c.sum()) == 300 and len(c) == 300 + round(300 * ratio)
    same = toy.labels[i] == toy.labels[j]
    assert torch.equal(same, c.bool())
    assert (i[c == 1] != j[c == 1]).all()  # two different drawings


def test_same_alphabet_negatives_are_hard_ones():
    toy = _toy_omniglot()
    g = torch.Generator().manual_seed(1)
    i, j, c = oneshot.sample_pairs(toy, 100, 5, g, same_alphabet=True)
    neg = c == 0
    assert (toy.alphabet[i[neg]] == toy.alphabet[j[neg]]).all()
    i, j, c = oneshot.sample_pairs(toy, 100, 5, torch.Generator().manual_seed(1))
    assert (toy.alphabet[i[c == 0]] != toy.alphabet[j[c == 0]]).float().mean() > 0.5  # mostly other alphabets


def test_pairs_are_reproducible_and_reject_bad_ratio():
    toy = _toy_omniglot()
    a = oneshot.sample_pairs(toy, 50, 2, torch.Generator().manual_seed(3))
    b = oneshot.sample_pairs(toy, 50, 2, torch.Generator().manual_seed(3))
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    with pytest.raises(ValueError, match="ratio"):
        oneshot.sample_pairs(toy, 5, -1)
    with pytest.raises(ValueError, match="at least two images"):
        oneshot.sample_pairs(toy.subset(torch.arange(21)), 5, 1)  # class 1 has a single image


# ------------------------------------------------------------------ episodes


def test_episode_groups_drawings_of_one_character_per_class():
    toy = _toy_omniglot()
    idx, y, turns = oneshot.sample_episode(toy, 2, 20, 4, torch.Generator().manual_seed(0))
    assert len(idx) == 2 * 20 * 4 and y.max() == 39 and torch.bincount(y).tolist() == [4] * 40
    for k in range(40):
        members = idx[y == k]
        assert toy.labels[members].unique().numel() == 1 and toy.drawer[members].unique().numel() == 4
    assert toy.alphabet[idx[:80]].unique().numel() == 1 and toy.alphabet[idx[80:]].unique().numel() == 1
    assert toy.alphabet[idx[0]] != toy.alphabet[idx[80]]
    assert turns[:80].unique().numel() == 1
    _, _, none = oneshot.sample_episode(toy, 2, 5, 2, rotations=False)
    assert (none == 0).all()


def test_rotate_quarters_matches_rot90():
    x = torch.rand(4, 1, 5, 5)
    turns = torch.tensor([0, 1, 2, 3])
    out = oneshot.rotate_quarters(x, turns)
    for b in range(4):
        assert torch.equal(out[b], torch.rot90(x[b], int(turns[b]), dims=(-2, -1)))


# ------------------------------------------------------------------ one-shot trials


@pytest.mark.parametrize("within", [True, False])
def test_trials_follow_the_protocol(evaluation, within):
    trials = oneshot.make_trials(evaluation, 20, 400, within_alphabet=within, seed=0)
    ev = evaluation
    assert trials.support.shape == (400, 20) and len(trials) == 400
    chars = ev.labels[trials.support]
    assert all(row.unique().numel() == 20 for row in chars)  # 20 different characters
    assert torch.equal(ev.labels[trials.query], chars[torch.arange(400), trials.answer])
    assert (ev.drawer[trials.support] == ev.drawer[trials.support[:, :1]]).all()  # one drawer per support set
    assert (ev.drawer[trials.query] != ev.drawer[trials.support[:, 0]]).all()  # the query by another drawer
    same_alphabet = (ev.alphabet[trials.support] == ev.alphabet[trials.support[:, :1]]).all(dim=1)
    assert same_alphabet.all() if within else (~same_alphabet).float().mean() > 0.9
    if within:
        assert torch.bincount(ev.alphabet[trials.query], minlength=20).tolist() == [20] * 20  # balanced
    counts = torch.bincount(trials.answer, minlength=20)
    assert counts.min() > 5  # the right answer is not always in the same place


def test_trials_never_touch_training_alphabets(data_root, evaluation):
    background = data.omniglot("background", size=28, root=data_root)
    trials = oneshot.make_trials(evaluation, 20, 400, seed=1)
    used = set(evaluation.alphabets[a] for a in evaluation.alphabet[trials.support.flatten()].tolist())
    assert used <= set(evaluation.alphabets) and not used & set(background.alphabets)


def test_trials_are_deterministic(evaluation):
    a, b = oneshot.make_trials(evaluation, 5, 50, seed=4), oneshot.make_trials(evaluation, 5, 50, seed=4)
    assert torch.equal(a.support, b.support) and torch.equal(a.query, b.query)
    assert not torch.equal(a.support, oneshot.make_trials(evaluation, 5, 50, seed=5).support)


def test_evaluate_perfect_constant_and_pixel_embeddings(evaluation):
    trials = oneshot.make_trials(evaluation, 20, 400, seed=0)
    labels_as_embedding = {}

    def oracle(x):
        # look the batch up by content: an embedding that is the character's one-hot
        return torch.stack([labels_as_embedding[hash(xi.numpy().tobytes())] for xi in x])

    for i in torch.unique(torch.cat([trials.support.flatten(), trials.query])).tolist():
        x, y = evaluation.batch(torch.tensor([i]))
        labels_as_embedding[hash(x[0].numpy().tobytes())] = F.one_hot(y[0], len(evaluation.classes)).float()
    assert oneshot.evaluate(oracle, evaluation, trials).accuracy == 100.0
    constant = oneshot.evaluate(lambda x: torch.ones(len(x), 3), evaluation, trials, distance="l2")
    assert constant.accuracy == pytest.approx(100 * (trials.answer == 0).float().mean().item())
    # 1-NN on pixels: Koch et al. report 21.7 % for 20-way within-alphabet
    pixels = oneshot.evaluate(lambda x: x.flatten(1), evaluation, trials, distance="l2")
    assert 15 < pixels.accuracy < 30


def test_score_has_the_binomial_standard_error():
    s = oneshot.score(torch.tensor([True] * 90 + [False] * 10))
    assert s.accuracy == pytest.approx(90.0) and s.stderr == pytest.approx(100 * math.sqrt(0.9 * 0.1 / 100))
    assert str(s) == "90.0 % ± 3.0 (n = 100)"


def test_nearest_with_each_distance():
    zs = torch.tensor([[[0.0, 1.0], [1.0, 0.0], [3.0, 3.1]]])
    assert oneshot.nearest(torch.tensor([[0.1, 2.0]]), zs, "cosine").item() == 0
    assert oneshot.nearest(torch.tensor([[2.9, 3.0]]), zs, "l2").item() == 2
    assert oneshot.nearest(torch.tensor([[0.9, 0.2]]), zs, "l1").item() == 1
    with pytest.raises(ValueError, match="distance"):
        oneshot.nearest(torch.zeros(1, 2), zs, "hamming")


def test_roc_curve_auc():
    same = torch.tensor([1, 1, 0, 0, 1, 0])
    assert oneshot.roc_curve(same.float(), same)[2] == pytest.approx(1.0)
    assert oneshot.roc_curve(-same.float(), same)[2] == pytest.approx(0.0)
    fpr, tpr, auc = oneshot.roc_curve(torch.tensor([0.9, 0.8, 0.7, 0.6, 0.5, 0.4]), same)
    # positives 0.9, 0.8, 0.5 beat negatives 0.7, 0.6, 0.4 in 7 of the 9 pairs
    assert auc == pytest.approx(7 / 9) and fpr[-1] == tpr[-1] == 1


def test_verification_pairs_are_balanced():
    i, j, c = oneshot.verification_pairs(_toy_omniglot(), 200)
    assert c.sum() == 100 and len(c) == 200


# ------------------------------------------------------------------ augmentation


def test_random_affine_identity_and_reproducibility():
    x = torch.rand(6, 1, 12, 12)
    same = data.random_affine(x, rotate=0, shear=0, scale=(1, 1), translate=0)
    assert torch.allclose(same, x, atol=1e-5)
    a = data.random_affine(x, torch.Generator().manual_seed(0))
    b = data.random_affine(x, torch.Generator().manual_seed(0))
    assert torch.equal(a, b) and a.shape == x.shape and not torch.allclose(a, x)


# ------------------------------------------------------------------ losses, against closed forms


def test_koch_distance_and_loss_by_hand():
    z1, z2 = torch.tensor([[1.0, 2.0], [0.0, 0.0]]), torch.tensor([[0.0, 4.0], [0.0, 0.0]])
    alpha, bias = torch.tensor([0.5, -1.0]), torch.tensor(0.25)
    p = losses.koch_distance(z1, z2, alpha, bias)
    # |z1 - z2| = (1, 2) -> 0.5 - 2 + 0.25 = -1.25; (0, 0) -> 0.25
    assert torch.allclose(p, torch.sigmoid(torch.tensor([-1.25, 0.25])))
    w = torch.tensor([1.0, 2.0])
    loss = losses.koch_loss(torch.tensor([0.5, 0.5]), torch.tensor([1.0, 0.0]), [w], lam=0.1)
    assert loss.item() == pytest.approx(math.log(2) + 0.1 * 5)


def test_contrastive_loss_by_hand():
    d, c = torch.tensor([0.5, 0.3, 2.0]), torch.tensor([1.0, 0.0, 0.0])
    # 0.5^2 ; (1 - 0.3)^2 ; max(0, 1 - 2)^2 = 0
    assert losses.contrastive_loss(d, c, margin=1.0).item() == pytest.approx((0.25 + 0.49 + 0) / 3)


def test_prototype_loss_against_a_loop():
    g = torch.Generator().manual_seed(0)
    z, y = torch.randn(12, 5, generator=g), torch.arange(4).repeat_interleave(3)
    loss, acc = losses.prototype_loss(z, y, scale=7.0)
    zn = F.normalize(z, dim=1)
    total, right = 0.0, 0
    for i in range(12):
        logits = []
        for k in range(4):
            members = [j for j in range(12) if y[j] == k and j != i]
            logits.append(7.0 * F.cosine_similarity(zn[i], zn[members].mean(0), dim=0))
        logits = torch.stack(logits)
        total += F.cross_entropy(logits[None], y[i : i + 1]).item()
        right += int(logits.argmax() == y[i])
    assert loss.item() == pytest.approx(total / 12, rel=1e-5) and acc.item() == pytest.approx(right / 12)
