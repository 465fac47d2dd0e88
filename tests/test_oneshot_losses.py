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


def test_evaluate_many_scores_each_set_as_evaluate_does(evaluation):
    sets = [oneshot.make_trials(evaluation, 20, 200, within, seed=3) for within in (True, False)]

    def pixels(x):  # no arithmetic: the same vectors whatever the batches, so the scores are equal exactly
        return x.flatten(1)

    many = oneshot.evaluate_many(pixels, evaluation, sets, distance="l2")
    assert [(s.accuracy, s.n) for s in many] == [(oneshot.evaluate(pixels, evaluation, t, distance="l2").accuracy, 200)
                                                 for t in sets]


def test_scores_are_saved_per_model_and_trials_and_read_back(evaluation, isolated_env):
    sets = [oneshot.make_trials(evaluation, 20, 50, within, seed=3) for within in (True, False)]
    calls = []

    def pixels(x):
        calls.append(len(x))
        return x.flatten(1)

    first = oneshot.evaluate_or_load("scores", {"model": "pixels"}, pixels, evaluation, sets, distance="l2")
    assert calls and first == oneshot.evaluate_many(pixels, evaluation, sets, distance="l2")
    calls.clear()
    again = oneshot.evaluate_or_load("scores", {"model": "pixels"}, pixels, evaluation, sets, distance="l2")
    assert again == first and not calls  # read back: nothing embedded
    assert all(isinstance(s, oneshot.Score) for s in again)
    # other trials, another distance or another model: computed anew
    other = [oneshot.make_trials(evaluation, 20, 50, within, seed=4) for within in (True, False)]
    for trials, distance, settings in ((other, "l2", {"model": "pixels"}), (sets, "l1", {"model": "pixels"}),
                                       (sets, "l2", {"model": "pixels, again"})):
        oneshot.evaluate_or_load("scores", settings, pixels, evaluation, trials, distance=distance)
        assert calls
        calls.clear()
    assert len(list((isolated_env / "outputs" / "checkpoints").glob("scores-*.pt"))) == 4
    with pytest.raises(ValueError, match="similarity"):
        oneshot.evaluate_or_load("scores", {"model": "pixels"}, pixels, evaluation, sets,
                                 similarity=lambda zq, zs: -(zs - zq[:, None]).abs().sum(-1))


def test_tta_averages_normalised_embeddings_and_is_seeded():
    x = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(0))

    def model(x):
        return x.flatten(1)[:, :40] * 3.0

    assert torch.allclose(oneshot.tta(model, copies=0)(x), F.normalize(model(x), dim=1))
    a, b, c = (oneshot.tta(model, copies=3, seed=s)(x) for s in (1, 1, 2))
    assert torch.equal(a, b) and not torch.equal(a, c)
    # the mean of 4 unit vectors: norm <= 1, and below 1 as the distorted copies differ from x. Rounding:
    # normalising, averaging 4 and taking the norm of 40 float32 terms errs by at most about (40 + 4) eps
    slack = (40 + 4) * torch.finfo(torch.float32).eps
    assert (a.norm(dim=1) <= 1 + slack).all() and (a.norm(dim=1) < 0.999).any()


def test_the_protocols_trials_tell_three_points_apart_near_85():
    assert oneshot.trials_to_tell_apart(0.85, 0.03) <= oneshot.TRIALS < oneshot.trials_to_tell_apart(0.85, 0.01)


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


# ------------------------------------------------------------------ the network, the recipe, its training


@pytest.mark.parametrize("size, blocks, pooled, dim", [(28, 4, 4, 64), (28, 4, 3, 576), (42, 4, 4, 256),
                                                       (42, 5, 5, 64)])
def test_embedding_size_follows_the_pooling(size, blocks, pooled, dim):
    # each 2x2 pooling halves the side, rounding down: 28 -> 14 -> 7 -> 3 (-> 1); 42 -> 21 -> 10 -> 5 -> 2 (-> 1)
    net = oneshot.EmbeddingNet(64, blocks, pooled).eval()
    assert net(torch.rand(2, 1, size, size)).shape == (2, dim)


def test_embedding_net_rejects_more_pooling_than_blocks():
    with pytest.raises(ValueError, match="pooled must be between 0 and blocks"):
        oneshot.EmbeddingNet(8, blocks=2, pooled=3)


def test_recipes_are_data_with_one_owner():
    base = oneshot.recipe("episodes-28px")
    assert oneshot.recipe("episodes-28px", shots=3) == base.with_(shots=3) != base
    assert base.settings()["shots"] == 5 and "shots" in oneshot.checkpoint_settings(base, 10, 0)
    with pytest.raises(KeyError, match="unknown one-shot recipe 'nope'; registered: episodes-28px, "):
        oneshot.recipe("nope")


def _tiny_recipe():
    return oneshot.EpisodeRecipe(size=4, width=4, blocks=2, pooled=2, alphabets=2, ways=5, shots=2)


def test_trained_is_cached_by_its_settings(isolated_env, monkeypatch):
    toy = _toy_omniglot()
    toy.images = torch.randint(0, 256, toy.images.shape, generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    r = _tiny_recipe()
    net, history = oneshot.trained(r, 60, seed=1, data=toy, progress=False)
    assert not net.training and len(history["loss"]) >= 1
    calls = []

    class Trains(Exception):
        pass

    def spy(*args, **kwargs):
        calls.append(args)
        raise Trains

    monkeypatch.setattr(oneshot, "train_episodes", spy)
    again, _ = oneshot.trained(r, 60, seed=1, data=toy, progress=False)  # loaded: no training
    assert calls == [] and all(torch.equal(a, b) for a, b in zip(net.state_dict().values(),
                                                                again.state_dict().values()))
    with pytest.raises(Trains):  # another seed is another model: trained, not loaded
        oneshot.trained(r, 60, seed=2, data=toy, progress=False)
    assert len(calls) == 1
    with pytest.raises(ValueError, match=r"size=28"):
        oneshot.trained(r.with_(size=28), 60, seed=1, data=toy)


def test_train_episodes_learns_the_scale_and_is_seeded():
    toy = _toy_omniglot()
    toy.images = torch.randint(0, 256, toy.images.shape, generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    r = _tiny_recipe()
    nets = []
    for _ in range(2):
        net = oneshot.EmbeddingNet(r.width, r.blocks, r.pooled)
        torch.manual_seed(0)
        net.load_state_dict(oneshot.EmbeddingNet(r.width, r.blocks, r.pooled).state_dict())
        oneshot.train_episodes(net, toy, r, 100, torch.Generator().manual_seed(3), progress=False)
        nets.append(net)
    assert nets[0].scale.item() != 10.0  # the inverse temperature is trained with the network
    assert all(torch.equal(a, b) for a, b in zip(nets[0].state_dict().values(), nets[1].state_dict().values()))


def test_difference_of_two_scores_by_hand():
    a, b = oneshot.Score(85.0, 3.0, 400), oneshot.Score(80.0, 4.0, 400)
    assert oneshot.difference(a, b) == " +5.0 points ± 5.0 (1.0 standard errors)"  # hypot(3, 4) = 5
    assert oneshot.difference(b, a).startswith(" -5.0 points")


def test_screen_table_reads_the_benchmarks_record():
    record = {"a, 9 images: within (%)": 81.25, "a, 9 images: within, sd (%)": 1.04, "a, 9 images: across (%)": 92.0,
              "a, 9 images: across, sd (%)": 0.5, "a, 9 images: training (s)": 124.4,
              "b, 9 images: within (%)": 70.0, "b, 9 images: across (%)": 90.0, "b, 9 images: training (s)": 12.0}
    header, first, second = oneshot.screen_table(record).splitlines()
    assert first.split() == ["a,", "9", "images", "81.2", "±", "1.0", "92.0", "±", "0.5", "124"]
    assert second.split() == ["b,", "9", "images", "70.0", "(1", "seed)", "90.0", "(1", "seed)", "12"]
    with_tta = {**record, "a, 9 images: within, TTA (%)": 83.0, "a, 9 images: within, TTA, sd (%)": 0.3,
                "a, 9 images: across, TTA (%)": 94.0}
    header, first, second = oneshot.screen_table(with_tta).splitlines()
    assert "within, TTA (%)" in header and "across, TTA (%)" in header
    assert first.split()[3:] == ["81.2", "±", "1.0", "92.0", "±", "0.5", "83.0", "±", "0.3", "94.0", "(1", "seed)",
                                 "124"]
    assert second.split()[-3:] == ["n/a", "n/a", "12"]  # b was scored without test-time augmentation


def test_cosine_schedule_closed_form_and_held_at_zero():
    """lr_s = lr (1 + cos(pi s / T)) / 2, then 0 after T steps (never rising again)."""
    w = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([w], lr=0.5)
    schedule, steps, seen = oneshot.cosine_schedule(optimizer, 8), 8, []
    for _ in range(12):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    expected = [0.5 * 0.5 * (1 + math.cos(math.pi * min(s / steps, 1))) for s in range(12)]
    assert seen == pytest.approx(expected, abs=1e-15)
    assert seen[4] == pytest.approx(0.25) and seen[8:] == [0.0] * 4
