"""The course's palettes stay distinct under simulated colour-vision deficiency; the check rejects one that
does not (matplotlib's tab10); the simulation and CIELAB against published values."""

import matplotlib
import numpy as np
import pytest

from course_utils import colours, plots

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TAB10 = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


@pytest.mark.parametrize("palette", [colours.OKABE_ITO, colours.TOL_MUTED, *(colours.categorical(n) for n in
                                                                             range(1, 11))])
def test_every_palette_of_the_library_stays_distinct_for_every_viewer(palette):
    if len(palette) < 2:
        return  # one colour: nothing to confuse
    distances = colours.distinguishable(palette)
    assert set(distances) == {"normal", "protanopia", "deuteranopia", "tritanopia"}
    assert min(distances.values()) >= colours.MIN_DISTANCE, distances


def test_the_check_rejects_matplotlibs_default_palette():
    # tab10's orange and green: the classic red-green confusion
    distance, a, b = colours.closest_pair(TAB10, "protanopia")
    assert distance < colours.MIN_DISTANCE and {a, b} == {"#ff7f0e", "#2ca02c"}
    assert colours.closest_pair(TAB10)[0] > colours.MIN_DISTANCE  # fine for normal vision


def test_cielab_of_white_and_red_and_greys_unchanged_by_every_simulation():
    # sRGB white is the D65 white point: L* = 100, a* = b* = 0; pure red: (53.24, 80.09, 67.20) (e.g. Lindbloom's
    # calculator). Both to the 4-5 digits of the published matrices.
    np.testing.assert_allclose(colours.lab(colours.simulate("#ffffff", None)), [100, 0, 0], atol=2e-3)
    np.testing.assert_allclose(colours.lab(colours.simulate("#ff0000", None)), [53.24, 80.09, 67.20], atol=0.02)
    for deficiency, matrix in colours.CVD.items():
        # each row of Machado et al.'s matrices sums to 1 (to their 6 decimals): greys are seen as they are
        np.testing.assert_allclose(np.sum(matrix, axis=1), 1.0, atol=2e-6)
        for grey in ("#000000", "#777777", "#ffffff"):
            np.testing.assert_allclose(colours.simulate(grey, deficiency), colours.simulate(grey, None), atol=1e-5)
    # a protanope sees red darker and close to green's hue: red and green come closer than for normal vision
    red_green = [np.linalg.norm(colours.lab(colours.simulate("#ff0000", d))
                                - colours.lab(colours.simulate("#00aa00", d))) for d in (None, "protanopia")]
    assert red_green[1] < red_green[0] / 2


def test_categorical_sizes_and_bad_input():
    assert colours.categorical(5) == colours.OKABE_ITO[:5]
    assert colours.categorical(10) == colours.TOL_MUTED
    assert len(colours.categorical(25)) == 25
    with pytest.raises(ValueError, match="at least one"):
        colours.categorical(0)
    with pytest.raises(ValueError, match="#rrggbb"):
        colours.to_rgb("red")
    with pytest.raises(ValueError, match="unknown deficiency"):
        colours.simulate("#000000", "achromatopsia")


def test_scatter2d_names_each_class_on_its_points_and_never_repeats_colour_and_marker():
    rng = np.random.default_rng(0)
    pts, labels = rng.normal(size=(60, 2)), np.arange(60) % 3
    fig, ax = plots.scatter2d(pts, labels, names=["a", "b", "c"])
    assert [matplotlib.colors.to_hex(c.get_facecolor()[0]) for c in ax.collections] == \
        [c.lower() for c in colours.OKABE_ITO[:3]]
    texts = {t.get_text(): t.xy for t in ax.texts}
    assert set(texts) == {"a", "b", "c"}
    np.testing.assert_allclose(texts["b"], np.median(pts[labels == 1], axis=0))
    pts, labels = rng.normal(size=(240, 2)), np.arange(240) % 24
    fig, ax = plots.scatter2d(pts, labels, annotate=False, legend_max=0)
    assert not ax.texts
    pairs = {(matplotlib.colors.to_hex(c.get_facecolor()[0]), tuple(map(tuple, c.get_paths()[0].vertices.round(3))))
             for c in ax.collections}
    assert len(pairs) == 24
    plt.close("all")


def test_curves_take_the_next_colour_and_dash_on_the_same_axes():
    fig, ax = plots.curves({"a": [1, 2], "b": [2, 3]})
    plots.curves({"c": [0, 1]}, ax=ax)
    assert [matplotlib.colors.to_hex(line.get_color()) for line in ax.lines] == \
        [c.lower() for c in colours.OKABE_ITO[:3]]
    assert [line.get_linestyle() for line in ax.lines] == ["-", "--", "-."]
    plt.close("all")


def test_setup_gives_a_notebooks_own_plots_the_okabe_ito_cycle(monkeypatch, tmp_path):
    import matplotlib as mpl

    from course_utils import config

    monkeypatch.setenv("COURSE_OUTPUT", str(tmp_path))
    with mpl.rc_context():
        mpl.rcParams["axes.prop_cycle"] = mpl.rcParamsDefault["axes.prop_cycle"]  # tab10: fails the check
        config.setup(fast=True, seed=0, device="cpu", verbose=False)
        cycle = tuple(mpl.rcParams["axes.prop_cycle"].by_key()["color"])
    assert cycle == colours.OKABE_ITO
    assert min(colours.distinguishable(cycle).values()) >= colours.MIN_DISTANCE
