"""Small ipywidgets controls. Each returns a widget. Without a widget front end (a script,
papermill, a static viewer) ``image_browser`` and ``neighbour_explorer`` show their text form and
the notebooks draw a static figure beside them; ``FigureControls`` and the latent-space widgets
built on it carry their current picture as a static image themselves."""

from __future__ import annotations

import io
import time
from typing import Sequence

import ipywidgets as w
import matplotlib.pyplot as plt
from matplotlib import ticker
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
import numpy as np
import torch
from PIL import Image

from course_utils import colours, dynamics, plots


def png_bytes(image, scale: int = 4) -> bytes:
    """One ``(H, W)`` / ``(1, H, W)`` image in [0, 1] or uint8 as PNG bytes (ink dark, upscaled)."""
    x = plots.to_numpy(image).squeeze()
    if x.dtype != np.uint8:
        x = (np.clip(x, 0, 1) * 255).round().astype(np.uint8)
    img = Image.fromarray(255 - x)
    return _to_png(img.resize((img.width * scale, img.height * scale), Image.NEAREST))


def _to_png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def image_browser(images, labels, classes: Sequence[str], scale: int = 4) -> w.VBox:
    """A slider over ``images`` ``(N, 1, H, W)`` showing each one with its class name."""
    labels = plots.to_numpy(labels)
    height, width = images.shape[-2:]
    # explicit size: otherwise JupyterLab stretches the picture to the notebook's width
    picture = w.Image(format="png", value=png_bytes(images[0], scale), width=width * scale, height=height * scale)
    caption = w.Label()
    slider = w.IntSlider(value=0, min=0, max=len(labels) - 1, description="image", continuous_update=True)

    def show(change=None) -> None:
        i = slider.value
        picture.value = png_bytes(images[i], scale)
        caption.value = f"#{i}: {classes[int(labels[i])]}"

    slider.observe(show, names="value")
    show()
    return w.VBox([slider, picture, caption])


def neighbour_explorer(images, z, classes_of, k: int = 8, scale: int = 2) -> w.VBox:
    """Pick a query image with the slider; see its ``k`` nearest neighbours by cosine distance.

    images: ``(N, 1, H, W)``; z: ``(N, D)`` embeddings of those images; classes_of: ``(N,)``
    names, shown under each picture with its distance, marked "same" (green) or "other" (vermillion).
    """
    z = torch.nn.functional.normalize(torch.as_tensor(plots.to_numpy(z)).float(), dim=1)
    height, width = images.shape[-2:]
    pictures = [w.Image(format="png", width=width * scale, height=height * scale) for _ in range(k + 1)]
    captions = [w.HTML() for _ in range(k + 1)]
    slider = w.IntSlider(value=0, min=0, max=len(z) - 1, description="query")

    def show(change=None) -> None:
        q = slider.value
        distance = 1 - z @ z[q]  # cosine distance
        distance[q] = float("inf")
        order = [q] + torch.argsort(distance)[:k].tolist()
        for slot, i in enumerate(order):
            pictures[slot].value = png_bytes(images[i], scale)
            name = str(classes_of[i]).split("/")[-1]
            if slot == 0:
                captions[slot].value = f"<b>query</b><br>{name}"
            else:
                # a word as well as a colour (Okabe-Ito bluish green / vermillion: distinct for dichromats too)
                same = classes_of[i] == classes_of[q]
                colour, verdict = (colours.OKABE_ITO[2], "same") if same else (colours.OKABE_ITO[1], "other")
                captions[slot].value = (f"<span style='color:{colour}'>{verdict}: {name}<br>"
                                        f"d = {distance[i]:.3f}</span>")

    slider.observe(show, names="value")
    show()
    cells = [w.VBox([p, c], layout=w.Layout(margin="0 6px")) for p, c in zip(pictures, captions)]
    return w.VBox([slider, w.HBox(cells)])


# ---------------------------------------------------------------------------------------------
# Sliders that redraw a matplotlib figure (notebooks 02 and 03)


def figure_png(fig, dpi: int = 80, tight: bool = True) -> bytes:
    """A matplotlib figure as PNG bytes (the figure is closed: it is not shown twice).
    tight: crop to the drawn content (costs a second layout pass; off for fast redraws)."""
    buf = io.BytesIO()
    if tight:
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    else:  # the fast path: one Agg draw, light PNG compression (savefig does more work than this)
        if not isinstance(fig.canvas, FigureCanvasAgg):
            FigureCanvasAgg(fig)
        fig.set_dpi(dpi)
        fig.canvas.draw()
        Image.fromarray(np.asarray(fig.canvas.buffer_rgba())[..., :3]).save(buf, format="png", compress_level=1)
    plt.close(fig)
    return buf.getvalue()


class FigureControls(w.VBox):
    """Sliders (or any value widgets) above a picture that ``draw(**values)`` redraws.

    draw: called with each control's current value by name; returns a matplotlib figure (a new
    one, or the same one with its artists updated: faster). tight: crop the picture to its content.
    layout: how the controls are arranged (default: one per line, above the picture).
    Where no widget front end runs (papermill, nbconvert, a static notebook viewer), the output
    carries the current picture as an ``image/png`` too, so a static figure is shown instead.
    ``seconds`` holds how long the last redraw took (compute and render).
    """

    def __init__(self, draw, controls: dict, dpi: int = 80, tight: bool = True, layout=None):
        self.draw, self.controls, self.dpi, self.tight = draw, dict(controls), dpi, tight
        self.picture = w.Image(format="png")
        self.seconds = float("nan")
        super().__init__([*(layout or self.controls.values()), self.picture])
        for control in self.controls.values():
            control.observe(self.update, names="value")
        self.update()

    def values(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}

    def update(self, change=None) -> None:
        start = time.perf_counter()
        png = figure_png(self.draw(**self.values()), self.dpi, self.tight)
        width, height = Image.open(io.BytesIO(png)).size
        # explicit size: otherwise JupyterLab stretches the picture to the notebook's width
        self.picture.width, self.picture.height = str(width), str(height)
        self.picture.value = png
        self.seconds = time.perf_counter() - start

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["image/png"] = bytes(self.picture.value)
        return bundle


def _slider(value, low, high, step, description):
    return w.FloatSlider(value=value, min=low, max=high, step=step, description=description,
                         continuous_update=False, readout_format=".2f")


def latent_map(decode, codes, labels, names: Sequence[str], limit: float = 3.0) -> FigureControls:
    """A 2-D latent space: move z with two sliders, see the point on the test codes and its decoding.

    decode: ``(n, 2)`` codes -> ``(n, 1, H, W)`` images in [0, 1]; codes: ``(N, 2)`` (e.g. the
    encoder's means of test images); labels: ``(N,)`` ints indexing ``names``.
    """
    def draw(z1, z2):
        fig, (left, right) = plt.subplots(1, 2, figsize=(8, 4), gridspec_kw={"width_ratios": [1.4, 1]})
        plots.scatter2d(codes, labels, names, ax=left, s=3, title="test codes")
        left.plot([z1], [z2], marker="x", color="black", markersize=14, markeredgewidth=3)
        left.set_xlim(-limit, limit)
        left.set_ylim(-limit, limit)
        with torch.no_grad():
            image = decode(torch.tensor([[z1, z2]], dtype=torch.float32))
        plots.image_grid(image, ax=right, title=f"decode(z = ({z1:.2f}, {z2:.2f}))")
        return fig

    return FigureControls(draw, {"z1": _slider(0.0, -limit, limit, 0.05, "z1"),
                                 "z2": _slider(0.0, -limit, limit, 0.05, "z2")})


def latent_sliders(decode, dims: Sequence[int], base, limit: float = 3.0) -> FigureControls:
    """One slider per latent dimension in ``dims``; the others stay at ``base`` ``(D,)``.

    decode: ``(n, D)`` codes -> ``(n, 1, H, W)`` images in [0, 1].
    """
    base = torch.as_tensor(plots.to_numpy(base)).float().clone()

    def draw(**values):
        z = base.clone()
        for d in dims:
            z[d] = values[f"z{d}"]
        with torch.no_grad():
            image = decode(z[None])
        fig, ax = plots.image_grid(image, title="decode(z)")
        fig.set_size_inches(3, 3)
        return fig

    return FigureControls(draw, {f"z{d}": _slider(float(base[d]), -limit, limit, 0.05, f"z[{d}]") for d in dims})


def interpolation(encode, decode, images, steps: int = 9) -> FigureControls:
    """Pick two images with sliders; see the decodings of the straight line between their codes.

    encode: ``(n, 1, H, W)`` -> ``(n, D)`` codes (e.g. the posterior means); decode: codes ->
    images in [0, 1]; images: ``(N, 1, H, W)`` in [0, 1]. The row starts and ends with the inputs.
    """
    count = len(images)

    def draw(a, b):
        with torch.no_grad():
            pair = images[[a, b]]
            z = encode(pair)
            t = torch.linspace(0, 1, steps, device=z.device)[:, None]
            row = decode((1 - t) * z[0] + t * z[1]).cpu()
        strip = torch.cat([pair[:1].cpu(), row, pair[1:].cpu()])
        fig, ax = plots.image_grid(strip, nrow=steps + 2,
                                   title=f"image {a} | decode((1 - t) z_a + t z_b), t = 0 .. 1 | image {b}")
        fig.set_size_inches(1.0 * (steps + 2), 1.6)
        return fig

    return FigureControls(draw, _pair_sliders(count, "image"))


def latent_walk(generate, latents: torch.Tensor, steps: int = 9) -> FigureControls:
    """Pick two noise vectors with sliders; see what the generator makes along the line between them.

    generate: ``(n, D)`` noise -> ``(n, 1, H, W)`` images in [0, 1]; latents: a bank ``(N, D)`` of
    noise vectors to choose from (fixed, so a slider position always means the same sample).
    """
    count = len(latents)

    def draw(a, b):
        with torch.no_grad():
            t = torch.linspace(0, 1, steps, device=latents.device)[:, None]
            row = generate((1 - t) * latents[a] + t * latents[b]).cpu()
        fig, ax = plots.image_grid(row, nrow=steps, title=f"G((1 - t) z_{a} + t z_{b}), t = 0 .. 1")
        fig.set_size_inches(1.0 * steps, 1.6)
        return fig

    return FigureControls(draw, _pair_sliders(count, "noise"))


def _pair_sliders(count: int, noun: str) -> dict:
    """Sliders ``a`` and ``b`` picking two of ``count`` items (0 and 1 to start); redrawn on release."""
    return {name: w.IntSlider(value=min(start, count - 1), min=0, max=count - 1, description=f"{noun} {name}",
                              continuous_update=False)
            for name, start in (("a", 0), ("b", 1))}


# ---------------------------------------------------------------------------------------------
# The Dirac-GAN explorer (notebook 05)

REGULARISERS = {  # name shown -> (class, what the weight slider means)
    "none": (None, ""),
    "R1": (dynamics.R1, "gamma"),
    "R2": (dynamics.R2, "gamma"),
    "WGAN-GP": (dynamics.GradientPenalty, "gamma"),
    "instance noise": (dynamics.InstanceNoise, "sigma"),
    "consensus": (dynamics.Consensus, "gamma"),
    "clipping": (dynamics.Clip, "c"),
}


def make_regulariser(name: str, weight: float) -> dynamics.Regulariser:
    """The regulariser called ``name`` (a key of ``REGULARISERS``) with weight gamma / sigma / c."""
    if name not in REGULARISERS:
        raise ValueError(f"unknown regulariser {name!r}; choose one of {', '.join(REGULARISERS)}")
    cls, _ = REGULARISERS[name]
    return dynamics.Regulariser() if cls is None else cls(weight)


class DiracExplorer(FigureControls):
    """Objective, regulariser, its weight, step size h, simultaneous or alternating updates, D
    steps per G step, number of steps and start point; redraws, in one figure, the trajectory on
    the vector field, the distance to the equilibrium over the steps, and the eigenvalues of the
    update's Jacobian at (0, 0) against the unit circle. The figure is built once and its artists
    are updated (about 10 x faster than redrawing it).
    """

    def __init__(self, limit: float = 2.0, arrows: int = 15, dpi: int = 72):
        self.limit = limit
        self.ticks = np.linspace(-limit, limit, arrows)
        # a figure outside pyplot: shown only through the widget's picture, never twice
        self.fig = Figure(figsize=(12, 4), dpi=dpi)
        FigureCanvasAgg(self.fig)
        self.ax_field, self.ax_dist, self.ax_eig = self.fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.1, 1.3, 1]})
        grid_theta, grid_psi = np.meshgrid(self.ticks, self.ticks)
        self.grid = grid_theta, grid_psi
        # the panels start as the course's plots; their moving parts are then updated in place
        plots.vector_field(self.ticks, self.ticks, grid_theta, grid_psi, ax=self.ax_field, stream=False)
        self.arrows = self.ax_field.collections[-1]
        (self.path_line,) = self.ax_field.plot([], [], color="C0", lw=1.2)
        (self.start_dot,) = self.ax_field.plot([], [], "o", color="C0")
        (self.dist_line,) = self.ax_dist.semilogy([], [], color="C0")
        self.ax_dist.set(xlabel="step", ylabel="distance to (0, 0)")
        # plain-text labels and no minor ticks: mathtext tick labels cost ~15 ms a redraw
        self.ax_dist.yaxis.set_minor_locator(ticker.NullLocator())
        self.ax_dist.yaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
        self.ax_dist.grid(alpha=0.3)
        plots.eigenvalues([], ax=self.ax_eig)
        self.eig_dots = self.ax_eig.lines[-1]
        self.eig_dots.set_color("C3")
        self.fig.subplots_adjust(left=0.06, right=0.98, bottom=0.15, top=0.88, wspace=0.3)
        for ax in (self.ax_field, self.ax_dist, self.ax_eig):
            ax.title.set_y(1.0)  # a fixed title position saves a layout pass per redraw
        controls = {
            "objective": w.Dropdown(options=list(dynamics.OBJECTIVES), value="GAN", description="objective"),
            "regulariser": w.Dropdown(options=list(REGULARISERS), value="none", description="regulariser"),
            "weight": w.FloatLogSlider(value=0.3, base=10, min=-2, max=1, step=0.05, description="weight",
                                       continuous_update=False),
            "h": w.FloatLogSlider(value=0.1, base=10, min=-2, max=0.5, step=0.05, description="step h",
                                  continuous_update=False),
            "mode": w.ToggleButtons(options=["simultaneous", "alternating"], value="simultaneous",
                                    description="update"),
            "d_steps": w.IntSlider(value=1, min=1, max=10, description="D steps", continuous_update=False),
            "steps": w.IntSlider(value=500, min=10, max=3000, step=10, description="steps", continuous_update=False),
            "theta0": w.FloatSlider(value=1.0, min=-limit, max=limit, step=0.05, description="theta0",
                                    continuous_update=False),
            "psi0": w.FloatSlider(value=1.0, min=-limit, max=limit, step=0.05, description="psi0",
                                  continuous_update=False),
        }
        c = controls
        layout = [w.HBox([c["objective"], c["regulariser"], c["weight"]]), w.HBox([c["h"], c["d_steps"], c["steps"]]),
                  w.HBox([c["mode"]]), w.HBox([c["theta0"], c["psi0"]])]
        super().__init__(self.redraw, controls, dpi=dpi, tight=False, layout=layout)

    def redraw(self, objective, regulariser, weight, h, mode, d_steps, steps, theta0, psi0):
        f = dynamics.OBJECTIVES[objective]
        reg = make_regulariser(regulariser, weight)
        v_theta, v_psi = dynamics.field(f, *self.grid, reg)
        norm = np.hypot(v_theta, v_psi) + 1e-12  # unit arrows: the field's direction, not its size
        self.arrows.set_UVC(v_theta / norm, v_psi / norm)
        path = dynamics.trajectory(f, theta0, psi0, h, steps, reg, mode, d_steps)
        self.path_line.set_data(path[:, 0], path[:, 1])
        self.start_dot.set_data(path[:1, 0], path[:1, 1])
        d = dynamics.distance(path)
        finite = np.isfinite(d)
        self.dist_line.set_data(np.arange(len(d))[finite], np.maximum(d[finite], 1e-12))
        self.ax_dist.set_xlim(0, steps)
        self.ax_dist.set_ylim(max(1e-8, d[finite].min() / 2), max(10.0, d[finite].max() * 2))
        try:
            lam = dynamics.eigenvalues(dynamics.update_jacobian(f, h, reg, mode, d_steps))
            radius = np.abs(lam).max()
            self.eig_dots.set_data(lam.real, lam.imag)
            # the unit circle and every eigenvalue in view
            reach = max(1.3, np.abs(lam.real).max() + 0.1, np.abs(lam.imag).max() + 0.1)
            eig_title = f"eigenvalues at (0, 0): max |λ| = {radius:.4f}"
        except ValueError:  # WGAN-GP: no Jacobian at the equilibrium
            self.eig_dots.set_data([], [])
            reach, eig_title = 1.3, "no Jacobian at (0, 0) (WGAN-GP)"
        self.ax_eig.set(xlim=(-reach, reach), ylim=(-reach, reach))
        self.ax_eig.set_title(eig_title, fontsize=10)
        name = objective + ("" if regulariser == "none"
                            else f" + {regulariser} ({REGULARISERS[regulariser][1]} = {weight:.3g})")
        self.ax_field.set_title(f"{name}, {mode}", fontsize=10)
        self.ax_dist.set_title(f"{dynamics.verdict(path)}: distance after {steps} steps = {d[finite][-1]:.3g}"
                               + ("" if finite.all() else " (left the plane)"), fontsize=10)
        return self.fig


def dirac_gan(limit: float = 2.0) -> DiracExplorer:
    """The notebook-05 explorer of the Dirac-GAN's training dynamics (see ``DiracExplorer``)."""
    return DiracExplorer(limit)
