"""The GAN benchmark scripts run end to end in their smoke mode and print their tables: they must not rot.
Each returns its runs as data (``run``); the tests read the data, and the printed rows where the table is
the point."""

import pytest

pytestmark = pytest.mark.slow  # each test trains and scores real models


def test_toy_benchmark_rows_are_the_engines_runs_and_are_printed(load_benchmark, isolated_env, capsys):
    from course_utils import adversarial
    toys_bench = load_benchmark("gan_toys")
    runs = toys_bench.run(["--fast", "--only", "toy-r1 (steps=20000)", "toy-gan"])
    out = capsys.readouterr().out
    names = ["toy-r1 (steps=50)", "toy-gan (steps=50)"]  # a row names the recipe that ran, changes included
    assert [(r["recipe"], r["mixture"], r["seed"], r["steps"]) for r in runs] == [(n, "grid", 0, 50) for n in names]
    # a row is exactly what the engine gives for that recipe, seed and number of steps
    scores, _, _ = toys_bench.train_toy(toys_bench.MIXTURES["grid"](), adversarial.recipe("toy-r1"), 0, 50)
    assert {k: repr(runs[0][k]) for k in scores} == {k: repr(float(v)) for k, v in scores.items()}  # nan == nan
    for r in runs:
        row = f"| {r['recipe']} | 0 | 50 | {r['seconds']:.0f} | {r['modes']:.0f} | {100 * r['high_quality']:.1f} |"
        assert row in out
    assert "| toy-r1 (steps=50) | grid |" in out and not (isolated_env / "results").exists()  # nothing recorded


def test_benchmark_runs_are_registered_recipes_named_as_their_rows(load_benchmark, capsys):
    """No names of their own: every default run is a registered recipe (changed or not), its row names it
    as Recipe.label does, and that label reads back to the same recipe (what --only takes)."""
    from course_utils import adversarial
    toys_bench, mnist_bench = load_benchmark("gan_toys"), load_benchmark("gan_mnist")
    for kind, recipe in toys_bench.RUNS:
        assert kind in toys_bench.MIXTURES and recipe.name in adversarial.RECIPES and recipe.nets == "mlp"
    for recipe in [r for _, r in toys_bench.RUNS] + mnist_bench.RUNS:
        assert adversarial.from_label(recipe.label()) == recipe
    labels = {r.label() for _, r in toys_bench.RUNS}
    # the benchmark measures exactly what the notebooks run: their registered recipes are rows
    assert {"toy-wgan-gp", "toy-wgan-clip", "toy-r1 (steps=20000)"} <= labels
    with pytest.raises(SystemExit):
        toys_bench.run(["--fast", "--only", "toy-r1 (gama=0.0)"])
    assert "no field gama" in capsys.readouterr().err


def test_mnist_benchmark_smoke(load_benchmark, scoring_env, capsys):
    bench = load_benchmark("gan_mnist")
    asked = ["mnist-dcgan (ema=0.0, freeze_d_after=500)", "mnist-wgan-gp", "mnist-tempered"]
    runs = bench.run(["--fast", "--only", *asked])
    out = capsys.readouterr().out
    assert "real-vs-real floor" in out
    assert [(r["recipe"], r["seed"]) for r in runs] == [(name, 0) for name in asked]
    for r in runs:  # seconds of training cannot beat the real-vs-real floor
        assert r["steps"] >= 1 and r["x_floor"] > 1.0 and f"real-vs-real floor {r['floor']:.2f}" in out
        assert f"| {r['recipe']} | 0 | {r['steps']} |" in out


def test_stacked_mnist_benchmark_smoke(load_benchmark, scoring_env, capsys):
    bench = load_benchmark("gan_mnist")
    gan, real = bench.run(["--fast", "--stacked", "--only", "mnist-wgan-gp"])
    out = capsys.readouterr().out
    assert (gan["recipe"], gan["seed"], real["recipe"]) == ("mnist-wgan-gp", 0, "real")
    assert 1 <= gan["modes"] <= 1000 and 0.0 <= gan["kl"] <= 6.91  # KL <= log 1000
    # 2,000 real triples cover most of the 1,000 modes (1 - e^-2 = 86 % expected) and sit closer to
    # uniform than four seconds of a GAN
    assert real["modes"] > 700 and real["kl"] < gan["kl"]
    assert f"| mnist-wgan-gp | 0 | {gan['steps']} |" in out
    assert "| published: PacDCGAN2 (PacGAN Table 2) |" in out and not (scoring_env / "results").exists()


def test_throughput_benchmark_smoke(load_benchmark, isolated_env, capsys):
    pytest.importorskip("torchvision")
    bench = load_benchmark("gan_throughput")
    loops = bench.run(["--fast"])
    out = capsys.readouterr().out
    assert [r["loop"] for r in loops] == ["course: preloaded uint8 tensor, random indices",
                                          "tutorial: DataLoader + transforms, 0 workers"]
    assert all(r["steps"] >= 1 and r["images_per_s"] > 0 for r in loops)
    assert "| course: preloaded uint8 tensor" in out and "| tutorial: DataLoader + transforms, 0 workers" in out
    assert "course loop / fastest tutorial loop" in out


def test_dirac_widget_benchmark_smoke(load_benchmark, isolated_env, capsys):
    bench = load_benchmark("dirac_widget")
    moves = bench.run(["--fast"])
    out = capsys.readouterr().out
    assert [m["move"] for m in moves] == [label for label, _ in bench.MOVES + bench.WORST]
    assert sum(m["extreme"] for m in moves) == len(bench.WORST)
    assert all(0 < m["median_ms"] <= m["max_ms"] for m in moves)
    assert "every single-control move" in out and not (isolated_env / "results").exists()


def test_toy_benchmark_runs_the_wasserstein_recipes(load_benchmark, isolated_env, capsys):
    toys_bench = load_benchmark("gan_toys")
    wasserstein = [r.label() for _, r in toys_bench.RUNS if r.objective == "wgan"]
    assert {"toy-wgan-gp", "toy-wgan-clip"} <= set(wasserstein)
    runs = toys_bench.run(["--fast", "--only", *wasserstein])
    out = capsys.readouterr().out
    from course_utils import adversarial
    names = [adversarial.from_label(w).with_(steps=50).label() for w in wasserstein]
    assert [(r["recipe"], r["steps"]) for r in runs] == [(name, 50) for name in names]
    assert all(f"| {name} | 0 | 50 |" in out for name in names)


def test_toy_benchmark_curve_logs_evaluations(load_benchmark, isolated_env):
    from course_utils import adversarial
    toys_bench = load_benchmark("gan_toys")
    recipe = adversarial.recipe("toy-r1").with_(steps=20000)
    scores, seconds, curve = toys_bench.train_toy(toys_bench.MIXTURES["grid"](), recipe.with_(hidden=16, batch=32), 0,
                                                  20, evals=4)
    assert [c[0] for c in curve] == [5, 10, 15, 20] and seconds > 0
    # the last evaluation is of the final networks, on the same noise (nan, an empty histogram's KL, included)
    assert {k: repr(float(v)) for k, v in curve[-1][2].items()} == {k: repr(float(v)) for k, v in scores.items()}


def test_peer_networks_are_the_published_ones(load_benchmark):
    """The re-implemented peers have their sources' shapes and sizes: pytorch/examples' DCGAN with 3
    channels has the parameter counts its tutorial prints (G 3,576,704, D 2,765,568)."""
    import torch

    peers = load_benchmark("gan_peers")
    count = lambda net: sum(p.numel() for p in net.parameters())  # noqa: E731
    assert count(peers.ExamplesGenerator(channels=3)) == 3_576_704
    assert count(peers.ExamplesDiscriminator(channels=3)) == 2_765_568
    G, D = peers.PEERS["examples"].build(0, "cpu")
    assert G(torch.randn(2, 100)).shape == (2, 1, 64, 64) and D(torch.zeros(2, 1, 64, 64)).shape == (2,)
    G, D = peers.PEERS["pytorch-gan"].build(0, "cpu")
    x = G(torch.randn(4, 100))
    assert x.shape == (4, 1, 32, 32) and x.abs().max() <= 1 and D(x).shape == (4, 1)
    # PyTorch-GAN's eps = 0.8 quirk and its DCGAN initialisation (convolutions ~ N(0, 0.02)) are kept
    assert [m.eps for m in G.modules() if isinstance(m, torch.nn.BatchNorm2d)] == [1e-5, 0.8, 0.8]
    conv = next(m for m in D.modules() if isinstance(m, torch.nn.Conv2d))
    assert 0.01 < float(conv.weight.detach().std()) < 0.03
    # the peers' samples reach the yardstick as 28 x 28 images in [0, 1]
    samples = peers.peer_samples(G, 130, 100, training_mode=True, device="cpu")
    assert samples.shape == (130, 1, 28, 28) and 0 <= float(samples.min()) and float(samples.max()) <= 1


def test_peer_benchmark_smoke(load_benchmark, scoring_env, capsys):
    peers = load_benchmark("gan_peers")
    runs = peers.run(["--fast", "--only", "pytorch-gan + preloaded", "course:mnist-dcgan"])
    out = capsys.readouterr().out
    assert [(r["name"], r["seed"]) for r in runs] == [("pytorch-gan + preloaded", 0), ("course:mnist-dcgan", 0)]
    assert all(r["steps"] >= 1 and r["distance"] > 0 for r in runs)
    assert "| pytorch-gan + preloaded | 1 |" in out and "| course:mnist-dcgan | 1 |" in out
    assert "course:mnist-dcgan / best peer on either data path" in out and not (scoring_env / "results").exists()
    with pytest.raises(SystemExit):
        peers.run(["--fast", "--only", "course:no-such-recipe"])
    # a recipe that decays its learning rates runs its steps (the decay's length), within the budget
    (short,) = peers.run(["--fast", "--only", "course:mnist-dcgan (lr_end=0.0, steps=3)"])
    out = capsys.readouterr().out
    assert short["steps"] == 3 and "  3 steps in" in out and "warning" not in out
    (long,) = peers.run(["--fast", "--only", "course:mnist-dcgan (lr_end=0.0, steps=100000)"])
    assert long["steps"] < 100000 and "the 1.5 s budget ended the run" in capsys.readouterr().out


def test_aae_figure_benchmark_smoke(load_benchmark, isolated_env, capsys):
    bench = load_benchmark("aae_figure")
    runs = bench.run(["--fast", "--device", "cpu"])
    out = capsys.readouterr().out
    assert [(r["model"], r["seed"]) for r in runs] == [(title, 0) for title in bench.MODELS]  # one per panel
    for r in runs:
        assert 0.0 <= r["accuracy"] <= 1.0 and 0.0 <= r["prior vs prior"] <= 1.0
        assert f"| {r['model']} | 0 | {r['accuracy']:.3f} | {r['prior vs prior']:.3f} |" in out
    assert not (isolated_env / "results").exists()  # a smoke run records nothing


def test_vae_gan_benchmark_smoke(load_benchmark, scoring_env, capsys):
    bench = load_benchmark("vae_gan")
    runs = bench.run(["--fast", "--device", "cpu"])
    out = capsys.readouterr().out
    assert [(r["variant"], r["seed"]) for r in runs] == [(name, 0) for name in bench.VARIANTS]
    for r in runs:  # twenty steps cannot beat the real-vs-real floor
        assert r["samples"] > 1.0 and r["reconstructions"] > 1.0
        assert f"| {bench.VARIANTS[r['variant']][0]} | 0 | {r['samples']:.1f} | {r['reconstructions']:.1f} |" in out
    assert not (scoring_env / "results").exists()
