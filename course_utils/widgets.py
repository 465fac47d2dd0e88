"""Small ipywidgets controls. Each returns a widget. Without a widget front end (a script,
papermill, a static viewer) ``image_browser`` and ``neighbour_explorer`` show their text form and
the notebooks draw a static figure beside them; ``FigureControls`` and the latent-space widgets
built on it carry their current picture as a static image themselves."""

from __future__ import annotations

import io
from typing import Sequence

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np
import torch
from PIL import Image

from course_utils import plots


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
    names, shown under each picture with its distance (green: same name as the query).
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
                colour = "green" if classes_of[i] == classes_of[q] else "crimson"
                captions[slot].value = f"<span style='color:{colour}'>{name}<br>d = {distance[i]:.3f}</span>"

    slider.observe(show, names="value")
    show()
    cells = [w.VBox([p, c], layout=w.Layout(margin="0 6px")) for p, c in zip(pictures, captions)]
    return w.VBox([slider, w.HBox(cells)])


# ---------------------------------------------------------------------------------------------
# Sliders that redraw a matplotlib figure (notebooks 02 and 03)


def figure_png(fig, dpi: int = 80) -> bytes:
    """A matplotlib figure as PNG bytes (the figure is closed: it is not shown twice)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


class FigureControls(w.VBox):
    """Sliders (or any value widgets) above a picture that ``draw(**values)`` redraws.

    draw: called with each control's current value by name; returns a matplotlib figure.
    Where no widget front end runs (papermill, nbconvert, a static notebook viewer), the output
    carries the current picture as an ``image/png`` too, so a static figure is shown instead.
    """

    def __init__(self, draw, controls: dict, dpi: int = 80):
        self.draw, self.controls, self.dpi = draw, dict(controls), dpi
        self.picture = w.Image(format="png")
        super().__init__([*self.controls.values(), self.picture])
        for control in self.controls.values():
            control.observe(self.update, names="value")
        self.update()

    def values(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}

    def update(self, change=None) -> None:
        png = figure_png(self.draw(**self.values()), self.dpi)
        width, height = Image.open(io.BytesIO(png)).size
        # explicit size: otherwise JupyterLab stretches the picture to the notebook's width
        self.picture.width, self.picture.height = str(width), str(height)
        self.picture.value = png

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
