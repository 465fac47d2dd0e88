"""The VAE recipe benchmark runs end to end (a few steps, a few test images): it must not rot."""

import pytest
import torch


@pytest.fixture(scope="module")
def recipe(load_benchmark):
    return load_benchmark("vae_recipe")


def test_every_recipe_changes_known_settings(recipe):
    assert all(set(r) <= set(recipe.DEFAULT) for r in recipe.RECIPES.values())
    assert all(r.get("act", "tanh") in recipe.ACTIVATIONS for r in recipe.RECIPES.values())


def test_notebook_03s_recipe_is_the_librarys(recipe):
    """One owner: the benchmark's notebook-03 row is variational.VAE_03, field by field."""
    from course_utils import variational

    r, v = {**recipe.DEFAULT, **recipe.RECIPES["notebook-03"]}, variational.VAE_03
    assert (r["encoder_layers"], r["layers"]) == v["depth"] and (r["lr"], r["lr_end"]) == v["lr"]
    assert all(r[key] == v[key] for key in ("hidden", "batch", "epochs", "prior_components"))


@pytest.mark.parametrize("name", ["elu-b256", "iwae5-b256", "tanh-warmup10", "elu-b512-enc2-55", "mixture-10-40"])
def test_a_tiny_run_prints_the_table(recipe, name, capsys):
    k = 4
    (run,) = recipe.run(["--only", name, "--epochs", "0.01", "--eval-n", "20", "--eval-k", str(k)])
    out = capsys.readouterr().out
    assert run["recipe"] == name and f"| {name} | {run['seconds']:.0f} |" in out
    # the IW bound is at least as tight as the ELBO of the same samples (Jensen), up to float32 rounding:
    # each image's log-weights (about 200 nats) carry a relative error of a few eps through the k-term
    # log-sum-exp and mean, so the margin is (k + 4) eps of the bound's size
    margin = (k + 4) * torch.finfo(torch.float32).eps * abs(run["neg_elbo"])
    assert 0 < run["nll"] <= run["neg_elbo"] + margin


def test_the_benchmark_trains_the_librarys_vae(recipe, monkeypatch):
    """One VAE builder: the screened recipes are variational.VAE (notebook 03's networks) at their sizes."""
    from course_utils import variational

    real, calls = variational.VAE, []

    def spying(*args, **kwargs):
        calls.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(variational, "VAE", spying)
    x = torch.rand(64, 784)
    vae, _, _ = recipe.train_recipe(x, {**recipe.RECIPES["notebook-03"], "epochs": 0.01, "batch": 32})
    decoder = vae.decoder
    [(args, kwargs)] = calls
    assert args == (32, 512, (2, 3)) and kwargs["act"] is torch.nn.ELU
    assert kwargs["prior_components"] == variational.VAE_03["prior_components"]
    shapes = [tuple(q.shape) for q in real(32, 512, (2, 3)).decoder.parameters()]
    assert [tuple(q.shape) for q in decoder.parameters()] == shapes


def test_seeds_are_summarised_and_recorded(recipe, isolated_env):
    """--seeds trains each --only recipe per seed, --screen once; --record saves each recipe's mean and
    spread over its seeds (the numbers the notebook cites)."""
    import json
    import statistics

    rows = recipe.run(["--only", "mixture-10-40", "--screen", "notebook-03-n01-40", "--seeds", "3", "4", "--epochs",
                       "0.01", "--eval-n", "10", "--eval-k", "2", "--record", "vae_prior_test"])
    assert [(r["recipe"], r["seed"]) for r in rows] == [("mixture-10-40", 3), ("mixture-10-40", 4),
                                                        ("notebook-03-n01-40", 3)]
    assert rows[0]["nll"] != rows[1]["nll"]  # two seeds, two models
    metrics = json.loads((isolated_env / "results" / "vae_prior_test.json").read_text())["metrics"]
    nll = [r["nll"] for r in rows[:2]]
    assert metrics["mixture-10-40: test NLL (nats)"] == pytest.approx(statistics.mean(nll), rel=1e-12)
    assert metrics["mixture-10-40: test NLL, sd (nats)"] == pytest.approx(statistics.stdev(nll), rel=1e-12)
    assert metrics["mixture-10-40: seeds"] == 2 and metrics["notebook-03-n01-40: seeds"] == 1
    assert "notebook-03-n01-40: test NLL, sd (nats)" not in metrics
