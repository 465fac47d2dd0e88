"""Small ipywidgets controls. Each returns a widget; without a widget front end (a script,
papermill) ``display`` shows its text form, and the notebooks draw a static figure beside it."""

from __future__ import annotations

import io
from typing import Sequence

import ipywidgets as w
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
