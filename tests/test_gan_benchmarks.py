"""The GAN benchmark scripts run end to end in their smoke mode and print their tables: they must not rot."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
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
