"""The GAN benchmark scripts run end to end in their smoke mode and print their tables: they must not rot."""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the script is being loaded
    spec.loader.exec_module(module)
    return module


def test_toy_benchmark_prints_one_row_per_run_and_a_summary(isolated_env, capsys):
    toys_bench = _load("gan_toys")
    assert toys_bench.main(["--fast", "--only", "r1-fast", "gan"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines()
            if line.startswith("| r1-fast | 0 | 200 |") or line.startswith("| gan | 0 | 200 |")]
    assert len(rows) == 2
    modes = int(rows[0].split("|")[5])
    assert 0 <= modes <= 25
    assert "| r1-fast | grid |" in out and not (isolated_env / "results").exists()  # smoke runs record nothing


def test_every_toy_recipe_names_a_mixture_and_a_registered_recipe():
    from course_utils import adversarial
    toys_bench = _load("gan_toys")
    for kind, recipe in toys_bench.RECIPES.values():
        assert kind in toys_bench.MIXTURES and recipe.name in adversarial.RECIPES and recipe.nets == "mlp"
    # the benchmark measures exactly what the notebooks run
    assert toys_bench.RECIPES["r1-fast"][1] == adversarial.recipe("toy-r1").with_(steps=20000)
    assert toys_bench.RECIPES["wgan-gp-fast"][1] == adversarial.recipe("toy-wgan-gp")


def test_mnist_benchmark_smoke(isolated_env, capsys):
    bench = _load("gan_mnist")
    assert bench.main(["--fast", "--only", "frozen-d", "wgan-gp", "ns-lens"]) == 0
    out = capsys.readouterr().out
    assert "real-vs-real floor" in out
    assert "| frozen-d | 0 |" in out and "| wgan-gp | 0 |" in out and "| ns-lens | 0 |" in out


def test_stacked_mnist_benchmark_smoke(isolated_env, capsys):
    bench = _load("gan_mnist")
    assert bench.main(["--fast", "--stacked", "--only", "wgan-gp"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("| wgan-gp | 0 |"))
    modes, kl = int(row.split("|")[6]), float(row.split("|")[7])
    assert 1 <= modes <= 1000 and 0.0 <= kl <= 6.91  # KL <= log 1000
    floor = next(line for line in out.splitlines() if line.startswith("| real stacked MNIST"))
    assert int(floor.split("|")[6]) > 300  # 500 real images cover hundreds of the 1,000 modes
    assert "| published: PacDCGAN2 (PacGAN Table 2) |" in out and not (isolated_env / "results").exists()


def test_throughput_benchmark_smoke(isolated_env, capsys):
    pytest.importorskip("torchvision")
    bench = _load("gan_throughput")
    assert bench.main(["--fast"]) == 0
    out = capsys.readouterr().out
    assert "| course: preloaded uint8 tensor" in out and "| tutorial: DataLoader + transforms, 0 workers" in out
    assert "course loop / fastest tutorial loop" in out


def test_dirac_widget_benchmark_smoke(isolated_env, capsys):
    bench = _load("dirac_widget")
    assert bench.main(["--fast"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| ") and "ms" not in line and "---" not in line]
    assert len(rows) == len(bench.MOVES) + len(bench.WORST)
    assert all(float(row.split("|")[2]) > 0 for row in rows)
    assert "every single-control move" in out and not (isolated_env / "results").exists()


def test_toy_benchmark_runs_the_wasserstein_recipes(isolated_env, capsys):
    toys_bench = _load("gan_toys")
    wasserstein = [name for name, (_, r) in toys_bench.RECIPES.items() if r.objective == "wgan"]
    assert {"wgan-gp", "wgan-clip"} <= set(wasserstein)
    assert toys_bench.main(["--fast", "--only", *wasserstein]) == 0
    out = capsys.readouterr().out
    assert all(f"| {name} | 0 | 200 |" in out for name in wasserstein)


def test_toy_benchmark_curve_logs_evaluations(isolated_env):
    toys_bench = _load("gan_toys")
    _, recipe = toys_bench.RECIPES["r1-fast"]
    scores, seconds, curve = toys_bench.train_toy(toys_bench.MIXTURES["grid"](), recipe.with_(hidden=16, batch=32), 0,
                                                  20, evals=4)
    assert [c[0] for c in curve] == [5, 10, 15, 20] and seconds > 0 and 0 <= scores["modes"] <= 25


def test_peer_networks_are_the_published_ones():
    """The re-implemented peers have their sources' shapes and sizes: pytorch/examples' DCGAN with 3
    channels has the parameter counts its tutorial prints (G 3,576,704, D 2,765,568)."""
    import torch

    peers = _load("gan_peers")
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


def test_peer_benchmark_smoke(isolated_env, capsys):
    peers = _load("gan_peers")
    assert peers.main(["--fast", "--only", "pytorch-gan + preloaded", "course:mnist-dcgan"]) == 0
    out = capsys.readouterr().out
    assert "| pytorch-gan + preloaded | 1 |" in out and "| course:mnist-dcgan | 1 |" in out
    assert "course:mnist-dcgan / best peer on either data path" in out and not (isolated_env / "results").exists()
    with pytest.raises(SystemExit):
        peers.main(["--fast", "--only", "course:no-such-recipe"])
    # a recipe that decays its learning rates runs its steps (the decay's length), within the budget
    assert peers.main(["--fast", "--only", "course:mnist-dcgan:lr_end=0.0,steps=3"]) == 0
    out = capsys.readouterr().out
    assert "  3 steps in" in out and "warning" not in out
    assert peers.main(["--fast", "--only", "course:mnist-dcgan:lr_end=0.0,steps=100000"]) == 0
    assert "the 1.5 s budget ended the run" in capsys.readouterr().out


def test_aae_figure_benchmark_smoke(isolated_env, capsys):
    bench = _load("aae_figure")
    assert bench.main(["--fast", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    per_run = out.split("\n\n")[0]  # the table of runs, before the summary
    rows = [line for line in per_run.splitlines() if line.startswith("| ") and line.split("|")[2].strip() == "0"]
    assert [r.split("|")[1].strip() for r in rows] == list(bench.MODELS)  # one row per panel, seed 0
    for r in rows:
        accuracy, chance = float(r.split("|")[3]), float(r.split("|")[4])
        assert 0.0 <= accuracy <= 1.0 and 0.0 <= chance <= 1.0
    assert not (isolated_env / "results").exists()  # a smoke run records nothing


def test_vae_gan_benchmark_smoke(isolated_env, capsys):
    bench = _load("vae_gan")
    assert bench.main(["--fast", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    titles = [title for title, _, _ in bench.VARIANTS.values()]
    per_run = out.split("\n\n")[0]  # the table of runs, before the summary
    rows = [line for line in per_run.splitlines() if line.startswith("| ") and line.split("|")[2].strip() == "0"]
    assert [r.split("|")[1].strip() for r in rows] == titles
    assert all(float(r.split("|")[3]) >= 1.0 for r in rows)  # no model beats the real-vs-real floor
    assert not (isolated_env / "results").exists()
