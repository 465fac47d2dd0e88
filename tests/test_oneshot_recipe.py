"""The one-shot recipe benchmark runs end to end on real Omniglot (FAST: 400 images a run) and reports
what its cached models score."""

import pytest

from course_utils import config, data, oneshot


@pytest.fixture(scope="module")
def bench(load_benchmark):
    return load_benchmark("oneshot_recipe")


def test_every_variant_names_a_registered_recipe_and_known_fields(bench):
    fields = set(oneshot.EpisodeRecipe().settings())
    for base, changes in bench.VARIANTS.values():
        assert base in oneshot.RECIPES and set(changes) <= fields


def test_a_fast_run_reports_what_its_cached_models_score(bench, isolated_env, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_FAST", "1")
    rows = bench.run(["--fast", "--only", "episodes-28px", "--screen", "576d"])
    assert [(r["variant"], r["seed"], r["dim"]) for r in rows] == [("episodes-28px", 0, 64), ("576d", 0, 576)]
    assert not (isolated_env / "results").exists()  # --fast records nothing
    out = capsys.readouterr().out
    background, evaluation = (data.omniglot(split, size=28, root=config.data_dir()) for split in ("background",
                                                                                               "evaluation"))
    for row in rows:
        base, changes = bench.VARIANTS[row["variant"]]
        net, _ = oneshot.trained(oneshot.recipe(base, **changes), 400, 0, background)  # loaded, not trained
        within, across = bench.evaluate(net, evaluation, "cpu")
        assert (row["within"], row["across"]) == (within.accuracy, across.accuracy)
        assert f"| {row['variant']} | 0 | {within.accuracy:.1f} | {across.accuracy:.1f} |" in out
