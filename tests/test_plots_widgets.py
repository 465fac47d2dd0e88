import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from course_utils import plots, train, widgets


def test_mosaic_places_each_image():
    x = torch.stack([torch.full((1, 2, 3), float(i)) for i in range(5)])
    grid = plots.mosaic(x, nrow=3, pad=1, pad_value=-1)
    assert grid.shape == (2 * 3 + 1, 3 * 4 + 1)
    assert grid[1, 1] == 0 and grid[1, 5] == 1 and grid[4, 5] == 4 and grid[4, 9] == -1
    assert plots.mosaic(np.zeros((4, 3, 5, 5))).shape == (13, 13, 3)
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        plots.mosaic(np.zeros((2, 2, 5, 5)))


def test_image_grid_takes_tensors_with_grad_and_returns_fig_ax():
    x = torch.rand(6, 1, 8, 8, requires_grad=True)
    fig, ax = plots.image_grid(x, nrow=3, title="t")
    assert ax.get_title() == "t" and ax.images[0].get_array().shape == (2 * 9 + 1, 3 * 9 + 1)
    fig2, ax2 = plots.image_grid(torch.zeros(4, 28, 28, dtype=torch.uint8))
    assert ax2.images[0].get_clim() == (0.0, 255.0)
    plt.close("all")


def test_curves_from_a_history():
    h = train.History()
    for s in range(0, 30, 10):
        h.log(s, loss=1 / (s + 1), kl=0.1)
    fig, ax = plots.curves(h.values, h.steps, logy=True)
    assert [line.get_xdata().tolist() for line in ax.lines] == [[0, 10, 20]] * 2
    assert ax.get_yscale() == "log" and ax.get_legend() is not None
    plt.close("all")


def test_scatter2d_colours_by_label():
    pts, labels = np.random.default_rng(0).normal(size=(30, 2)), np.arange(30) % 3
    fig, ax = plots.scatter2d(pts, labels, names=["a", "b", "c"])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "c"]
    assert len(ax.collections) == 3
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        plots.scatter2d(np.zeros((4, 3)))
    plt.close("all")


def test_codes_on_prior_draws_the_prior_behind_the_codes():
    rng = np.random.default_rng(0)
    codes, labels, prior = rng.normal(size=(30, 2)), np.arange(30) % 3, rng.normal(size=(50, 2))
    fig, ax = plots.codes_on_prior(codes, labels, prior, names=["a", "b", "c"], limit=4.0)
    assert len(ax.collections) == 4 and ax.collections[0].get_offsets().shape == (50, 2)  # prior first
    assert ax.get_legend() is None and ax.get_xlim() == (-4.0, 4.0) and ax.get_ylim() == (-4.0, 4.0)
    _, ax = plots.codes_on_prior(codes, labels, prior, names=["a", "b", "c"], legend=True)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "c"]
    plt.close("all")


def test_image_browser_follows_the_slider():
    images = torch.zeros(3, 1, 4, 4, dtype=torch.uint8)
    images[2] = 255
    box = widgets.image_browser(images, torch.tensor([0, 1, 1]), ["zero", "one"])
    slider, picture, caption = box.children
    first = picture.value
    assert caption.value == "#0: zero"
    slider.value = 2
    assert caption.value == "#2: one" and picture.value != first
    assert bytes(picture.value).startswith(b"\x89PNG")
    assert (picture.width, picture.height) == ("16", "16")  # 4 px x scale 4, not stretched


def test_png_bytes_scales_up():
    from PIL import Image
    import io
    img = Image.open(io.BytesIO(widgets.png_bytes(torch.rand(1, 5, 7), scale=3)))
    assert img.size == (21, 15)


def test_neighbour_explorer_ranks_by_cosine_distance():
    images = torch.zeros(4, 1, 3, 3, dtype=torch.uint8)
    z = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.9, 0.1], [-1.0, 0.0]])
    box = widgets.neighbour_explorer(images, z, ["a/x", "a/y", "a/x", "a/z"], k=2)
    slider, row = box.children
    captions = [cell.children[1].value for cell in row.children]
    assert "query" in captions[0] and "x" in captions[0]
    assert "same: x" in captions[1] and "d = 0.006" in captions[1]  # image 2: same class, nearest
    assert "other: y" in captions[2] and "d = 1.000" in captions[2]  # image 1: orthogonal
    slider.value = 3
    assert "z" in row.children[0].children[1].value


def test_samples_over_training_rows_follow_the_steps():
    snapshots = {100: torch.zeros(4, 1, 5, 5), 2000: torch.ones(4, 1, 5, 5)}
    fig, ax = plots.samples_over_training(snapshots, title="t")
    grid = ax.images[0].get_array()
    assert grid.shape == (2 * 6 + 1, 4 * 6 + 1)
    assert grid[1, 1] == 0 and grid[7, 1] == 1  # first row: step 100, second: step 2000
    assert [t.get_text() for t in ax.get_yticklabels()] == ["step 100", "step 2,000"]
    with pytest.raises(ValueError, match="same number"):
        plots.samples_over_training({1: torch.zeros(4, 1, 5, 5), 2: torch.zeros(3, 1, 5, 5)})
    with pytest.raises(ValueError, match="no snapshots"):
        plots.samples_over_training({})
    plt.close("all")


def test_latent_walk_draws_the_line_between_two_noise_vectors():
    """The picture changes with the sliders, and the ends are G(z_a) and G(z_b)."""
    seen = []

    def generate(z):
        seen.append(z.clone())
        return z[:, :1, None, None].expand(-1, 1, 4, 4).clamp(0, 1)

    bank = torch.tensor([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]])
    walk = widgets.latent_walk(generate, bank, steps=5)
    first = walk.picture.value
    assert torch.allclose(seen[-1][0], bank[0]) and torch.allclose(seen[-1][-1], bank[1])
    walk.controls["b"].value = 2
    assert torch.allclose(seen[-1][-1], bank[2]) and walk.picture.value != first
    assert "image/png" in walk._repr_mimebundle_()
    plt.close("all")


def test_vector_field_and_eigenvalue_plots_return_fig_ax():
    ticks = np.linspace(-1, 1, 5)
    t, p = np.meshgrid(ticks, ticks)
    for stream in (True, False):
        fig, ax = plots.vector_field(ticks, ticks, -p, t, stream=stream, title="rotation")
        assert ax.get_title() == "rotation" and ax.get_xlim() == (-1.0, 1.0)
    fig, ax = plots.eigenvalues(np.array([1 + 0.1j, 1 - 0.1j]), discrete=True)
    (points,) = [line for line in ax.lines if line.get_marker() == "o"]
    assert np.allclose(points.get_xdata(), [1, 1]) and np.allclose(points.get_ydata(), [0.1, -0.1])
    assert len(ax.lines) == 3  # unit circle, real axis, points
    fig, ax = plots.eigenvalues([0.5j, -0.5j], discrete=False)
    assert any(np.allclose(line.get_xdata(), 0) for line in ax.lines[:1])  # the imaginary axis is the boundary
    plt.close("all")


def test_dirac_explorer_redraws_what_the_controls_say():
    explorer = widgets.dirac_gan()
    first = bytes(explorer.picture.value)
    assert first[:8] == b"\x89PNG\r\n\x1a\n" and explorer.seconds > 0
    assert "diverges" in explorer.ax_dist.get_title()  # GAN, simultaneous, no regulariser
    assert "1.0012" in explorer.ax_eig.get_title()  # max |lambda| = sqrt(1 + 0.1^2 / 4)
    explorer.controls["regulariser"].value = "R1"
    assert bytes(explorer.picture.value) != first
    assert "converges" in explorer.ax_dist.get_title() and "R1 (gamma = 0.3)" in explorer.ax_field.get_title()
    x, y = explorer.path_line.get_data()
    assert (x[0], y[0]) == (1.0, 1.0) and len(x) == 501
    explorer.controls["mode"].value = "alternating"
    explorer.controls["regulariser"].value = "none"
    assert "circles" in explorer.ax_dist.get_title() and "1.0000" in explorer.ax_eig.get_title()
    explorer.controls["regulariser"].value = "WGAN-GP"
    assert "no Jacobian" in explorer.ax_eig.get_title()
    explorer.controls["steps"].value = 20
    assert len(explorer.path_line.get_data()[0]) == 21
    assert "image/png" in explorer._repr_mimebundle_()  # a static picture where no widget front end runs
    assert plt.get_fignums() == []  # its figure never goes through pyplot: nothing is shown twice


def test_unknown_regulariser_is_named():
    with pytest.raises(ValueError, match="R1"):
        widgets.make_regulariser("R3", 1.0)
    assert isinstance(widgets.make_regulariser("clipping", 0.2), widgets.dynamics.Clip)


def test_dirac_explorer_keeps_every_eigenvalue_in_view():
    explorer = widgets.dirac_gan()
    # R1 with gamma 5 and h 0.5: one eigenvalue of the update near -1.47, outside the unit circle
    explorer.controls["regulariser"].value = "R1"
    explorer.controls["weight"].value = 5.0
    explorer.controls["h"].value = 0.5
    x, y = explorer.eig_dots.get_data()
    (left, right), (bottom, top) = explorer.ax_eig.get_xlim(), explorer.ax_eig.get_ylim()
    assert min(x) < -1.3 and all(left < v < right for v in x) and all(bottom < v < top for v in y)
    assert left <= -1.3 and right >= 1.3  # and the whole unit circle
