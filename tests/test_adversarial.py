"""The adversarial training engine: its recipes, a step checked against a hand-written one, each
option (penalties, lazy R1, critic steps, clipping, EMA, frozen D, lens, time budget), the
student's functions plugged in, and runs that reload and resume bit-identically."""

import math

import pytest
import torch

from course_utils import adversarial, gan, tempered, toys, train

GRID = toys.grid(25, sigma=0.05)


def points(n, g):
    return GRID.sample(n, g)


def images(n, g):
    return torch.rand(n, 1, 28, 28, generator=g)


def small(name, **changes):
    """A registered recipe at test size."""
    r = adversarial.recipe(name)
    size = dict(batch=16, hidden=16, layers=2, latent=min(r.latent, 8)) if r.nets == "mlp" else dict(batch=8, width=4,
                                                                                                     latent=8)
    return r.with_(**{**size, **changes})


def real_for(r):
    return points if r.nets == "mlp" else images


@pytest.mark.parametrize("name", list(adversarial.RECIPES))
def test_every_recipe_trains_a_few_steps(name):
    r = small(name)
    nets = adversarial.build(r, 0)
    history = adversarial.train_gan(nets, real_for(r), r, seed=0, steps=3, log_every=1, progress=False)
    assert len(history["loss_d"]) == 3 and all(math.isfinite(v) for v in history["loss_g"])
    assert adversarial.RECIPES[name].label() == name and name in r.label() and "batch=" in r.label()


def test_recipes_are_checked_and_named():
    with pytest.raises(ValueError, match="objective"):
        adversarial.Recipe("x", objective="hinge")
    with pytest.raises(ValueError, match="gamma > 0"):
        adversarial.Recipe("x", penalty="r1")
    with pytest.raises(KeyError, match="the course's recipes: toy-gan"):
        adversarial.recipe("nope")
    assert adversarial.recipe("mnist-dcgan").with_(width=16).label() == "mnist-dcgan (width=16)"
    assert adversarial.recipe("mnist-dcgan").with_(width=32).label() == "mnist-dcgan"  # no change, no suffix


def test_build_uses_its_seed_only_and_a_tempered_run_starts_from_its_twin():
    a = adversarial.build(adversarial.recipe("mnist-dcgan-w64"), 5)  # mnist-tempered's sizes
    torch.randn(3)
    state = torch.get_rng_state()
    b = adversarial.build(adversarial.recipe("mnist-tempered"), 5)
    assert torch.equal(state, torch.get_rng_state())
    for part in ("G", "D"):
        for p, q in zip(a[part].parameters(), b[part].parameters()):
            assert torch.equal(p, q)
    assert "G_ema" in a and "L" in b and "L" not in a


def test_one_engine_step_is_the_hand_written_step():
    """The engine's order of draws and updates, written out: D step on (x, G(z)), then G step on
    the same G(z) judged by the updated D."""
    r = small("toy-gan").with_(lr_end=0.0)
    nets = adversarial.build(r, 1)
    ref = adversarial.build(r, 1)
    adversarial.train_gan(nets, points, r, seed=2, steps=4, progress=False)

    g = torch.Generator().manual_seed(2)
    G, D = ref["G"], ref["D"]
    opt_g = torch.optim.Adam(G.parameters(), lr=r.lr, betas=r.betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=r.lr, betas=r.betas)
    schedules = [torch.optim.lr_scheduler.CosineAnnealingLR(o, 4, eta_min=0.0) for o in (opt_g, opt_d)]
    for _ in range(4):
        x = GRID.sample(r.batch, g)
        fake = G(torch.randn(r.batch, r.latent, generator=g))
        loss_d = gan.discriminator_loss(D(x).view(-1), D(fake.detach()).view(-1))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = gan.generator_loss_nonsaturating(D(fake).view(-1))
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        for s in schedules:
            s.step()
    for p, q in zip(nets.parameters(), ref.parameters()):
        assert torch.equal(p, q)


def test_lazy_r1_critic_steps_and_the_students_functions_are_used():
    calls = {"r1": [], "d": 0, "g": 0, "gp": []}

    def r1_term(D, x, gamma):
        calls["r1"].append(gamma)
        return gan.r1_term(D, x, gamma)

    def d_loss(real_out, fake_out):
        calls["d"] += 1
        return gan.discriminator_loss(real_out, fake_out)

    def g_loss(fake_out):
        calls["g"] += 1
        return gan.generator_loss_nonsaturating(fake_out)

    r = small("toy-r1").with_(n_critic=2, lazy=3)
    losses = adversarial.Losses(d_loss=d_loss, g_loss=g_loss, r1_term=r1_term)
    adversarial.train_gan(adversarial.build(r, 0), points, r, seed=0, steps=5, losses=losses, progress=False)
    assert calls["d"] == 10 and calls["g"] == 5  # n_critic D steps per G step
    assert calls["r1"] == [r.gamma] * 4  # D steps 0, 3, 6, 9 of 10

    def gradient_penalty(D, real, fake, eps):
        calls["gp"].append(eps)
        return gan.gradient_penalty(D, real, fake, eps=eps)

    r = small("toy-wgan-gp")
    adversarial.train_gan(adversarial.build(r, 0), points, r, seed=0, steps=2, progress=False,
                      losses=adversarial.Losses(gradient_penalty=gradient_penalty))
    assert len(calls["gp"]) == 4 and all(e.shape == (r.batch,) and 0 <= e.min() and e.max() <= 1 for e in calls["gp"])


def test_clipping_frozen_d_and_the_average_of_g():
    r = small("toy-wgan-clip")
    nets = adversarial.build(r, 0)
    adversarial.train_gan(nets, points, r, seed=0, steps=3, progress=False)
    assert max(p.abs().max() for p in nets["D"].parameters()) <= r.clip

    r = small("toy-gan").with_(freeze_d_after=2, ema=0.9)
    nets = adversarial.build(r, 0)
    seen = []
    adversarial.train_gan(nets, points, r, seed=0, steps=2, progress=False)
    seen = [p.clone() for p in nets["D"].parameters()]
    nets2 = adversarial.build(r, 0)
    adversarial.train_gan(nets2, points, r, seed=0, steps=5, progress=False)
    for p, q in zip(seen, nets2["D"].parameters()):
        assert torch.equal(p, q)  # D did not move after step 2
    assert adversarial.sampler(nets2) is nets2["G_ema"]
    assert not torch.equal(next(nets2["G_ema"].parameters()), next(nets2["G"].parameters()))


def test_the_lens_is_withdrawn_at_K_and_a_time_budget_ends_the_run():
    r = small("mnist-tempered").with_(k_share=0.5)
    nets = adversarial.build(r, 0)
    history = adversarial.train_gan(nets, images, r, seed=0, steps=8, log_every=1, progress=False)
    assert history["lambda"][0] == 1.0 and history["lambda"][4:].max() == 0.0 and history["lambda"][1] < 1
    assert history["lens_shift"][4:].max() == 0.0

    r = small("toy-gan")
    scores = []
    history = adversarial.train_gan(adversarial.build(r, 0), points, r, seed=0, seconds=0.5, evals=3, progress=False,
                                evaluate=lambda nets: scores.append(1) or {"score": len(scores)})
    assert history["seconds"][-1] >= 0.5 and len(history["score"]) == 3
    with pytest.raises(ValueError, match="give steps="):
        adversarial.train_gan(adversarial.build(small("toy-r1"), 0), points, small("toy-r1"), seed=0, seconds=1)
    assert history.steps["loss_d"][-1] == history.steps["score"][-1] - 1  # the last step is logged


def test_the_lens_shows_its_views_and_stops_learning_at_K():
    """Moved here from tempered's own loop: lambda on the schedule, the lens moves points and is
    taken out at K (D then sees x itself), and it does not learn after K."""
    r = small("toy-gan").with_(lens=True, k_share=0.5, lens_lr=1e-2, batch=32)
    watch = points(5, torch.Generator().manual_seed(9))
    nets = adversarial.build(r, 0)
    nets["views"] = tempered.Views(4, watch)
    h = adversarial.train_gan(nets, points, r, 0, steps=100, evals=4, watch=watch, progress=False,
                              evaluate=lambda nets: {"mean_x": nets["G"](torch.zeros(1, r.latent)).sum().item()})
    lam = dict(zip(h.steps["lambda"], h["lambda"]))
    assert lam[0] == 1.0 and lam[25] == pytest.approx(tempered.lambda_schedule(25, 50)) and lam[75] == 0.0
    shift = dict(zip(h.steps["lens_shift"], h["lens_shift"]))
    assert shift[0] == 0.0 and shift[25] > 0 and shift[75] == 0.0  # the identity at first, then moved, then out
    assert h.steps["mean_x"] == [25, 50, 75, 100] and len(h["at_seconds"]) == 4
    assert not torch.equal(nets["views"].lensed[0], watch) and torch.equal(nets["views"].lensed[2], watch)
    short, long = adversarial.build(r, 0), adversarial.build(r, 0)
    adversarial.train_gan(short, points, r.with_(k_share=1.0), 0, steps=50, progress=False)  # K = 50 in both
    adversarial.train_gan(long, points, r, 0, steps=100, progress=False)
    for a, b in zip(short["L"].parameters(), long["L"].parameters()):
        assert torch.equal(a, b)
    w = small("mnist-tempered").with_(objective="wgan", penalty="gp", n_critic=2)  # a lens before a critic
    h = adversarial.train_gan(adversarial.build(w, 0), images, w, 0, steps=4, log_every=1, progress=False)
    assert math.isfinite(h.last("loss_d")) and h["lens_shift"][1] > 0
    with pytest.raises(ValueError, match="disagree about the lens"):
        adversarial.train_gan(adversarial.build(small("toy-gan"), 0), points, r, 0, steps=1)


def test_train_or_load_reloads_and_resumes_bit_identical(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_OUTPUT", str(tmp_path / "clean"))
    r = small("mnist-dcgan").with_(lr_end=0.0, penalty="r1", gamma=1.0, lazy=2)
    evaluate = lambda nets: {"mean": float(adversarial.sampler(nets)(torch.zeros(2, r.latent)).mean())}  # noqa: E731
    run = dict(steps=12, evaluate=evaluate, evals=4, points=4, data="tiny", progress=False)
    clean, clean_history = adversarial.train_or_load_gan("t", r, images, 4, **run)
    again, _ = adversarial.train_or_load_gan("t", r, images, 4, **run)
    assert "Loaded gan_" in capsys.readouterr().out
    assert all(torch.equal(p, q) for p, q in zip(clean.state_dict().values(), again.state_dict().values()))

    monkeypatch.setenv("COURSE_OUTPUT", str(tmp_path / "stopped"))
    monkeypatch.setenv("COURSE_SNAPSHOT_SECONDS", "0")
    calls = {"n": 0}

    def stopping(n, g):  # the stop button, in the middle of step 7
        calls["n"] += 1
        if calls["n"] == 8:
            raise KeyboardInterrupt
        return images(n, g)

    with pytest.raises(KeyboardInterrupt):
        adversarial.train_or_load_gan("t", r, stopping, 4, **run)
    nets, history = adversarial.train_or_load_gan("t", r, images, 4, **run)
    assert "Resumed from the snapshot" in capsys.readouterr().out
    for (k, p), q in zip(clean.state_dict().items(), nets.state_dict().values()):
        assert torch.equal(p, q), k  # G, D, G's average and batch-norm buffers
    assert history.values["mean"] == clean_history.values["mean"]


def test_one_checkpoint_per_model_for_every_caller_with_its_own_curve(isolated_env, capsys):
    """Issue 37: two notebooks asking for the same recipe, seed, steps and data train it once, each
    with its own curve; the curve drawn from the kept copies equals the one train_gan measures
    while training (same weights, same modes); a renamed or re-described recipe keeps its model;
    other data or another seed trains anew."""
    r = small("mnist-dcgan").with_(lr=1e-3)
    z = torch.randn(8, r.latent, generator=torch.Generator().manual_seed(1))
    mean = lambda nets: {"mean": adversarial.generate(nets, z).mean().item()}  # noqa: E731
    d_out = lambda nets: {"d": nets["D"](adversarial.generate(nets, z)).mean().item()}  # noqa: E731
    first, h1 = adversarial.train_or_load_gan("05_x", r, images, 0, steps=10, data="tiny", evaluate=mean, evals=5,
                                              progress=False)
    assert "Trained in" in capsys.readouterr().out
    renamed = r.with_(name="another-name", description="the same values, described otherwise")
    second, h2 = adversarial.train_or_load_gan("07_y", renamed, images, 0, steps=10, data="tiny", evaluate=d_out,
                                               evals=10, progress=False)
    out = capsys.readouterr().out
    assert "Loaded gan_" in out and "Trained in" not in out
    assert all(torch.equal(p, q) for p, q in zip(first.state_dict().values(), second.state_dict().values()))
    assert h1.steps["mean"] == [2, 4, 6, 8, 10] and h2.steps["d"] == list(range(1, 11))
    assert h2.values["loss_d"] == h1.values["loss_d"] and len(h2["at_seconds"]) == 10

    live = adversarial.build(r, 0)  # the same run with train_gan's evaluations during training
    during = adversarial.train_gan(live, images, r, 0, steps=10, evaluate=lambda n: {**mean(n), **d_out(n)}, evals=10,
                                   progress=False)
    assert during.values["d"] == h2.values["d"] and during.values["mean"][1::2] == h1.values["mean"]
    assert all(torch.equal(p, q) for p, q in zip(live.state_dict().values(), first.state_dict().values()))

    adversarial.train_or_load_gan("05_x", r, images, 0, steps=10, data="other", progress=False)
    adversarial.train_or_load_gan("05_x", r, images, 1, steps=10, data="tiny", progress=False)
    assert capsys.readouterr().out.count("Trained in") == 2
    with pytest.raises(ValueError, match="must divide the 10 points"):
        adversarial.train_or_load_gan("05_x", r, images, 0, steps=10, data="tiny", evaluate=mean, evals=4)


def test_a_class_loads_a_shared_gan_from_course_pretrained_under_any_notebook(isolated_env, monkeypatch, capsys):
    """The instructor's run of one notebook, packed (tools/pack_pretrained.py), serves another notebook
    that trains the same recipe, seed, steps and data: loaded, not trained; its own curve computed."""
    import subprocess
    import sys
    from pathlib import Path

    r = small("mnist-dcgan").with_(lr=1e-3)
    mean = lambda nets: {"mean": adversarial.generate(nets, torch.zeros(4, r.latent)).mean().item()}  # noqa: E731
    instructor = isolated_env / "instructor"
    monkeypatch.setenv("COURSE_OUTPUT", str(instructor))
    taught, _ = adversarial.train_or_load_gan("05_x", r, images, 0, steps=6, data="tiny", evaluate=mean, evals=2,
                                              points=2, progress=False)
    pretrained = isolated_env / "class-models"
    subprocess.run([sys.executable, str(Path(__file__).resolve().parent.parent / "tools" / "pack_pretrained.py"),
                    str(instructor / "checkpoints"), str(pretrained)], check=True, capture_output=True)
    monkeypatch.setenv("COURSE_OUTPUT", str(isolated_env / "student"))
    monkeypatch.setenv("COURSE_PRETRAINED", str(pretrained))
    capsys.readouterr()
    nets, history = adversarial.train_or_load_gan("08_y", r, images, 0, steps=6, data="tiny", evaluate=mean, evals=1,
                                                  points=2, progress=False)
    out = capsys.readouterr().out
    assert "from COURSE_PRETRAINED" in out and "Trained in" not in out and history.steps["mean"] == [6]
    assert all(torch.equal(p, q) for p, q in zip(taught.state_dict().values(), nets.state_dict().values()))


def test_a_curve_is_cached_apart_from_the_weights_and_belongs_to_them(isolated_env, capsys):
    r = small("mnist-dcgan").with_(lr=1e-3)
    calls = []
    count = lambda nets: calls.append(1) or {"one": 1.0}  # noqa: E731
    for n_curve in (100, 100, 200):  # the second call reads the cached curve, the third's evaluation differs
        adversarial.train_or_load_gan("c", r, images, 0, steps=4, data="tiny", evaluate=count, evals=2, points=2,
                                      settings={"n_curve": n_curve}, progress=False)
    assert len(calls) == 4
    key = {"recipe": r.settings(), "seed": 0, "steps": 4, "data": "tiny", "points": 2}
    checkpoint = next((isolated_env / "outputs" / "checkpoints").glob("gan_dcgan-*.pt"))
    state = torch.load(checkpoint, weights_only=True)
    assert state["settings"] == train._plain(key)  # what determines the weights, and nothing about any curve


def test_a_lens_run_shows_its_views_from_the_kept_copies_as_during_training(isolated_env):
    r = small("mnist-tempered").with_(k_share=0.5)
    watch = images(3, torch.Generator().manual_seed(9))
    nets, _ = adversarial.train_or_load_gan("v", r, images, 0, steps=8, data="tiny", watch=watch, evals=4, points=4,
                                            progress=False)
    live = adversarial.build(r, 0)
    live["views"] = tempered.Views(4, watch)
    adversarial.train_gan(live, images, r, 0, steps=8, watch=watch, evals=4, progress=False)
    assert torch.equal(nets["views"].lensed, live["views"].lensed)
    assert not torch.equal(nets["views"].lensed[0], watch) and torch.equal(nets["views"].lensed[3], watch)
    with pytest.raises(ValueError, match="recipe that has a lens"):
        adversarial.train_or_load_gan("v", small("mnist-dcgan"), images, 0, steps=4, data="tiny", watch=watch,
                                      evals=2, points=2)


def test_a_label_reads_back_as_the_recipe_it_names():
    """Benchmarks name runs by Recipe.label on their command lines and in their records."""
    for r in adversarial.RECIPES.values():
        for variant in (r, r.with_(steps=7, lr_end=None), r.with_(betas=(0.0, 0.9), penalty="none", gamma=0.0)):
            assert adversarial.from_label(variant.label()) == variant
    for bad, message in (("toy-r1 (gamma=0.0", "closing parenthesis"), ("toy-r1 (gama=1)", "no field gama"),
                         ("toy-r1 (1)", "without its field"), ("toy-r2", "no recipe 'toy-r2'"),
                         ("toy-r1 (description='x')", "no field description")):
        with pytest.raises(ValueError, match=message):
            adversarial.from_label(bad)


def test_trajectory_steps_end_at_the_run_and_are_evenly_spread():
    assert adversarial.trajectory_steps(1500) == list(range(150, 1501, 150))
    assert adversarial.trajectory_steps(20000, 8) == list(range(2500, 20001, 2500))
    assert adversarial.trajectory_steps(3, 10) == [1, 2, 3]
    assert adversarial.trajectory_steps(16)[-1] == 16 and len(adversarial.trajectory_steps(16)) == 10


# --- the critic-only trainer (notebook 06's probes) ---

CRITIC = adversarial.Recipe("a 1-D critic with the gradient penalty", objective="wgan", penalty="gp", gp_lambda=10.0,
                            nets="mlp", lr=1e-3, betas=(0.5, 0.9), batch=64, steps=5)


def shifted(n, g):
    """N(0, 1) against N(2, 1) in 1-D: W1 = 2 exactly."""
    return torch.randn(n, 1, generator=g), 2 + torch.randn(n, 1, generator=g)


def test_train_critic_is_the_hand_written_critic_loop():
    D = torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    ref = torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    ref.load_state_dict(D.state_dict())
    adversarial.train_critic(D, shifted, CRITIC, seed=3)
    g = torch.Generator().manual_seed(3)
    opt = torch.optim.Adam(ref.parameters(), lr=1e-3, betas=(0.5, 0.9))
    for _ in range(CRITIC.steps):
        x, y = shifted(64, g)
        eps = torch.rand(64, generator=g)
        loss = gan.critic_loss(ref(x).view(-1), ref(y).view(-1)) + 10.0 * gan.gradient_penalty(ref, x, y, eps=eps)
        opt.zero_grad()
        loss.backward()
        opt.step()
    for p, q in zip(D.parameters(), ref.parameters()):
        assert torch.equal(p, q)


def test_train_critic_estimates_w1_and_logs_what_inspect_returns():
    torch.manual_seed(0)
    D = gan.mlp(1, 1, 64, 2)
    def inspect(step, D):
        return {"grad": D[0].weight.grad.norm().item()} if step % 100 == 0 else None

    history = adversarial.train_critic(D, shifted, CRITIC.with_(batch=256), seed=0, steps=400, inspect=inspect)
    assert list(history.steps["grad"]) == [1, 101, 201, 301] and history.steps["loss_d"][-1] == 399
    with torch.no_grad():
        x, y = shifted(20_000, torch.Generator().manual_seed(9))
        estimate = (D(x).mean() - D(y).mean()).item()
    assert abs(abs(estimate) - 2.0) < 0.3, estimate  # Kantorovich-Rubinstein: sup E_r f - E_g f = W1 = 2


def test_train_critic_clips_and_uses_the_students_penalty():
    D = gan.mlp(1, 1, 16, 2)
    adversarial.train_critic(D, shifted, CRITIC.with_(penalty="clip", clip=0.01, optimizer="rmsprop", lr=1e-2), seed=0)
    assert max(p.abs().max().item() for p in D.parameters()) <= 0.01
    calls = []

    def my_penalty(critic, real, fake, eps):
        calls.append(eps.shape)
        return gan.gradient_penalty(critic, real, fake, eps=eps)

    adversarial.train_critic(gan.mlp(1, 1, 16, 2), shifted, CRITIC, seed=0,
                             losses=adversarial.Losses(gradient_penalty=my_penalty))
    assert calls == [torch.Size([64])] * CRITIC.steps


def test_seeded_models_ignore_earlier_draws():
    from course_utils import train
    a = train.seeded(4, lambda: gan.mlp(2, 1, 8, 2))
    torch.randn(7)
    state = torch.get_rng_state()
    b = train.seeded(4, lambda: gan.mlp(2, 1, 8, 2))
    assert torch.equal(state, torch.get_rng_state())
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_a_one_parameter_generator_learns_by_sgd_with_the_saturating_loss_and_a_lens():
    """Notebook 07's toy: theta trained by SGD against D (Adam), a point lens on the schedule."""
    r = adversarial.Recipe("segments", objective="saturating", optimizer_g="sgd", lr=0.01, lr_d=1e-3, batch=64,
                           lens=True, lens_lr=1e-3, k_share=0.5, nets="mlp", latent=1, steps=6)
    D, L = gan.mlp(2, 1, 16, 2), tempered.point_lens(2, 16, 2)
    nets = torch.nn.ModuleDict({"G": toys.SegmentGenerator(1.0), "D": D, "L": L})
    seen = []
    def evaluate(n):
        seen.append(n["G"].theta.grad.item())
        return {"theta": n["G"].theta.item()}

    history = adversarial.train_gan(nets, toys.segment_points, r, 0, evals=6, log_every=1, progress=False,
                                    evaluate=evaluate)
    theta = history["theta"]
    # plain gradient descent: each step moves theta by exactly -lr x its gradient
    assert theta[0] == pytest.approx(1.0 - 0.01 * seen[0], abs=1e-6)
    assert [v == pytest.approx(theta[i] - 0.01 * seen[i + 1], abs=1e-6) for i, v in enumerate(theta[1:])] == [True] * 5
    assert list(history["lambda"])[:3] == pytest.approx([1.0, tempered.lambda_schedule(1, 3),
                                                         tempered.lambda_schedule(2, 3)])
    with pytest.raises(ValueError, match="optimizer_g"):
        r.with_(optimizer_g="lbfgs")
    points = toys.segment_points(1000, torch.Generator().manual_seed(0))
    y = toys.SegmentGenerator(0.3)(torch.randn(1000, 1, generator=torch.Generator().manual_seed(0)))
    assert torch.all(points[:, 0] == 0) and torch.all(y[:, 0] == 0.3) and 0.45 < y[:, 1].mean() < 0.55


def test_derived_recipes_are_their_base_with_only_the_stated_changes():
    derived = {name: r for name, r in adversarial.RECIPES.items() if r.base}
    assert {"mnist-gan-half", "mnist-wgan-gp-half", "mnist-wgan-clip-half", "mnist-tempered-half"} <= set(derived)
    for name, r in derived.items():
        base = adversarial.RECIPES[r.base]
        assert not base.base, f"{name}: its base {r.base} is itself derived; state the root"
        changed = {k for k, v in r.settings().items() if v != base.settings()[k]}
        assert changed and changed <= {"lr", "ema", "steps", "width", "batch"}, (name, changed)
        assert r.label() == name and r.with_(lr=0.5).label() == f"{name} (lr=0.5)"
    # notebooks 05-08 trained these before they were registered: the same weights, so the same checkpoints
    old = adversarial.recipe("mnist-dcgan").with_(width=32, batch=64, lr=2e-4, ema=0.0, steps=1500)
    assert old.settings() == adversarial.recipe("mnist-gan-half").settings()


def test_for_mode_applies_the_overrides_and_fast_steps_and_follows_the_registry(monkeypatch):
    full = adversarial.for_mode("mnist-gan-half", {"lr": 1e-4})
    assert full.steps == 1500 and full.lr == 1e-4 and full.label() == "mnist-gan-half (lr=0.0001)"
    assert adversarial.for_mode("mnist-gan-half", fast=True).steps == adversarial.FAST_STEPS == 40
    assert adversarial.for_mode("mnist-wgan-gp-half", fast=True).steps == adversarial.FAST_STEPS_CRITIC == 16
    # one owner: a value changed in the registry reaches every caller that names the recipe
    changed = adversarial.RECIPES["mnist-gan-half"].with_(lr=3e-4)
    monkeypatch.setitem(adversarial.RECIPES, "mnist-gan-half", changed)
    assert adversarial.for_mode("mnist-gan-half").lr == 3e-4
    with pytest.raises(TypeError):
        adversarial.for_mode("mnist-gan-half", {"no_such_field": 1})


class _StubYardstick:
    """curve_point's keys, computed from the images (the real yardstick's classifier is not needed here)."""

    def curve_point(self, images):
        return {"kernel": float(images.mean()), "entropy": float(images.std()), "classes_present": 10}


def test_course_dcgan_is_trained_once_for_the_notebook_and_the_deck(isolated_env, capsys):
    x = torch.rand(64, 1, 28, 28)
    tiny = adversarial.for_mode("mnist-dcgan-r1", fast=True).with_(steps=4, width=8, batch=8)
    nets, history = adversarial.course_dcgan(x, _StubYardstick(), fast=True, recipe=tiny)
    assert "Trained in" in capsys.readouterr().out and len(history["kernel"]) == 4  # evals=8 capped by 4 steps
    again, history2 = adversarial.course_dcgan(x, _StubYardstick(), fast=True, recipe=tiny)
    out = capsys.readouterr().out
    assert "Loaded gan_dcgan-" in out and "Loaded 04_dcgan_curve-" in out
    assert list(history2["kernel"]) == list(history["kernel"])
    assert all(torch.equal(p, q) for p, q in zip(nets.state_dict().values(), again.state_dict().values()))
    fashion, _ = adversarial.course_dcgan(x, _StubYardstick(), fast=True, recipe=tiny, data="fashion")
    assert "Trained in" in capsys.readouterr().out  # other data, another model


def test_renaming_or_redescribing_a_recipe_keeps_its_checkpoint(tmp_path):
    from course_utils import train
    r = adversarial.recipe("mnist-gan-half")
    nets = adversarial.build(r, 0)
    paths = {train.checkpoint_path("x", nets, {"recipe": v.settings(), "seed": 0}, tmp_path)
             for v in (r, r.with_(description="a typo fixed"), r.with_(name="renamed", base=""))}
    assert len(paths) == 1
    assert train.checkpoint_path("x", nets, {"recipe": r.with_(lr=1e-3).settings(), "seed": 0}, tmp_path) not in paths


def test_generate_samples_the_average_of_g_and_refuses_a_bare_generator():
    r = small("mnist-dcgan", ema=0.5)  # a short horizon, so the average moves away from G in a few steps
    nets = adversarial.build(r, 0)
    adversarial.train_gan(nets, images, r, seed=0, steps=4, progress=False)
    nets.eval()
    z = adversarial.noise(10, r.latent, seed=1)
    with torch.no_grad():
        raw, averaged = nets["G"](z), nets["G_ema"](z)
    assert not torch.allclose(raw, averaged)
    assert torch.equal(adversarial.generate(nets, z, chunk=None), averaged)
    # chunks of 3: the averaged G run on each chunk (float32 kernels may round differently by batch size,
    # so the reference runs the same chunks: exact, on any CPU)
    with torch.no_grad():
        chunked = torch.cat([nets["G_ema"](part) for part in z.split(3)])
    assert torch.equal(adversarial.generate(nets, z, chunk=3), chunked)
    with pytest.raises(TypeError, match="not a generator"):
        adversarial.generate(nets["G"], z)
    plain = adversarial.build(r.with_(ema=0.0), 0)
    with torch.no_grad():
        assert torch.equal(adversarial.generate(plain.eval(), z), plain["G"](z))


def test_fixed_noise_and_real_batches_are_reproducible():
    a, b = adversarial.noise(5, 3, seed=2), adversarial.noise(5, 3, seed=2)
    assert a.shape == (5, 3) and torch.equal(a, b)
    assert torch.equal(a, torch.randn(5, 3, generator=torch.Generator().manual_seed(2)))
    assert not torch.equal(a, adversarial.noise(5, 3, seed=3))
    x = torch.arange(10.0)[:, None]
    real = adversarial.real_batches(x)
    first, again = real(6, torch.Generator().manual_seed(0)), real(6, torch.Generator().manual_seed(0))
    assert first.shape == (6, 1) and torch.equal(first, again) and set(first.view(-1).tolist()) <= set(range(10))


def test_a_renamed_function_names_its_new_name():
    with pytest.raises(AttributeError, match="now adversarial.train_or_load_gan"):
        adversarial.train_or_load
    assert not hasattr(adversarial, "no_such_name") and hasattr(adversarial, "train_or_load_gan")
