"""The one-shot recipe benchmark runs end to end on real Omniglot (FAST: 400 images a run) and reports
what its cached models score."""

import pytest

from course_utils import config, data, oneshot, results


@pytest.fixture(scope="module")
def bench(load_benchmark):
    return load_benchmark("oneshot_recipe")


def test_every_variant_names_a_registered_recipe_and_known_fields(bench):
    fields = set(oneshot.EpisodeRecipe().settings())
    for base, changes in bench.VARIANTS.values():
        assert base in oneshot.RECIPES and set(changes) <= fields


def test_a_fast_run_reports_what_its_cached_models_score(bench, isolated_env, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_FAST", "1")
    rows = bench.run(["--fast", "--only", "episodes-28px", "--screen", "576d", "--tta"])
    assert [(r["variant"], r["seed"], r["dim"]) for r in rows] == [("episodes-28px", 0, 64), ("576d", 0, 576)]
    assert not (isolated_env / "results").exists()  # --fast records nothing
    out = capsys.readouterr().out
    background, evaluation = (data.omniglot(split, size=28, root=config.data_dir()) for split in ("background",
                                                                                               "evaluation"))
    for row in rows:
        base, changes = bench.VARIANTS[row["variant"]]
        net, _ = oneshot.trained(oneshot.recipe(base, **changes), 400, 0, background)  # loaded, not trained
        trials = [oneshot.make_trials(evaluation, 20, 100, within, 0) for within in (True, False)]  # FAST's
        within, across = oneshot.evaluate_many(net, evaluation, trials)  # computed again, not the saved scores
        assert (row["within"], row["across"]) == (within.accuracy, across.accuracy)
        # test-time augmentation: FAST's 2 copies, the same seeded distortions as the run's
        tta_within, tta_across = oneshot.evaluate_many(oneshot.tta(net, copies=2), evaluation, trials)
        assert (row["within, TTA"], row["across, TTA"]) == (tta_within.accuracy, tta_across.accuracy)
        assert (f"| {row['variant']} | 0 | {within.accuracy:.1f} | {across.accuracy:.1f} | {tta_within.accuracy:.1f} | "
                f"{tta_across.accuracy:.1f} |") in out


def test_a_run_records_under_the_name_it_is_given(bench, isolated_env, monkeypatch):
    # one seed of one variant at 400 images (FAST sizes, but a full-mode run, so it records)
    monkeypatch.delenv("COURSE_FAST", raising=False)
    rows = bench.run(["--only", "episodes-28px", "--screen", "--seeds", "0", "--images", "400", "--record", "mine"])
    metrics = results.recorded("mine", folder=isolated_env / "results")
    assert metrics["episodes-28px, 400 images: within (%)"] == rows[0]["within"]
    assert metrics["episodes-28px, 400 images: across (%)"] == rows[0]["across"]
    assert "episodes-28px, 400 images: within, TTA (%)" not in metrics  # only with --tta
    assert not (isolated_env / "results" / "oneshot_recipe.json").exists()
