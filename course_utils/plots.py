"""Pure plotting helpers: arrays (or tensors) in, ``(fig, ax)`` out. They never train or load."""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import patheffects

from course_utils import colours


def to_numpy(x) -> np.ndarray:
    """A tensor (any device, with or without grad) or array-like as a numpy array."""
    if hasattr(x, "detach"):
        x = x.detach().cpu()
    return np.asarray(x)


def _axes(ax, figsize):
    if ax is None:
        return plt.subplots(figsize=figsize)
    return ax.figure, ax


def mosaic(images, nrow: int | None = None, pad: int = 1, pad_value: float = 1.0) -> np.ndarray:
    """Tile ``(N, H, W)``, ``(N, 1, H, W)`` or ``(N, 3, H, W)`` images into one ``(H', W'[, 3])`` array."""
    x = to_numpy(images).astype(np.float32)
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"expected images of shape (N, H, W) or (N, C, H, W) with C in (1, 3), got {x.shape}")
    n, c, h, w = x.shape
    nrow = nrow or int(np.ceil(np.sqrt(n)))
    ncol = int(np.ceil(n / nrow))
    grid = np.full((c, ncol * (h + pad) + pad, nrow * (w + pad) + pad), pad_value, dtype=np.float32)
    for i in range(n):
        r, k = divmod(i, nrow)
        grid[:, pad + r * (h + pad) : pad + r * (h + pad) + h, pad + k * (w + pad) : pad + k * (w + pad) + w] = x[i]
    return grid[0] if c == 1 else grid.transpose(1, 2, 0)


def image_grid(images, nrow: int | None = None, title: str | None = None, ax=None, cmap="gray_r", vmin=0.0, vmax=None):
    """Show images as one tiled picture (ink dark on white by default). Returns ``(fig, ax)``.

    images: ``(N, H, W)`` or ``(N, C, H, W)``, floats in [0, 1] or uint8 (then ``vmax`` = 255).
    ``nrow`` is the number of images per row.
    """
    x = to_numpy(images)
    vmax = vmax if vmax is not None else (255.0 if x.dtype == np.uint8 else 1.0)
    grid = mosaic(x, nrow, pad_value=vmin)
    n = x.shape[0]
    per_row = nrow or int(np.ceil(np.sqrt(n)))
    fig, ax = _axes(ax, (min(12, 0.6 * per_row + 1), min(12, 0.6 * np.ceil(n / per_row) + 1)))
    ax.imshow(grid, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return fig, ax


def curves(series: Mapping[str, Sequence[float]], steps: Mapping[str, Sequence[int]] | None = None, ax=None,
           xlabel: str = "step", ylabel: str = "", logy: bool = False, title: str | None = None):
    """Line plot of named series (e.g. ``history.values`` with ``history.steps``). Returns ``(fig, ax)``.

    Each line gets the next Okabe-Ito colour and line style after those already on ``ax``: distinct in
    colour for every viewer (``colours``), and in dash pattern as well."""
    fig, ax = _axes(ax, (6, 3.5))
    for name, values in series.items():
        y = to_numpy(values)
        x = to_numpy(steps[name]) if steps is not None and name in steps else np.arange(len(y))
        i = len(ax.lines)
        ax.plot(x, y, label=name, color=colours.OKABE_ITO[i % len(colours.OKABE_ITO)],
                linestyle=LINESTYLES[i % len(LINESTYLES)])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    if len(series) > 1:
        ax.legend()
    ax.grid(alpha=0.3)
    return fig, ax


def scatter2d(points, labels=None, names: Sequence[str] | None = None, ax=None, s: float = 6, title: str | None = None,
              legend_max: int = 20, annotate: bool = True):
    """Scatter ``(N, 2)`` points coloured by integer ``labels`` ``(N,)``; legend with ``names``.

    Colours come from ``colours.categorical`` (distinct under colour-vision deficiency), and with ``annotate``
    each class's name is written at the median of its points, so colour is never the only cue; beyond 10
    classes colours repeat and markers differ. Returns ``(fig, ax)``."""
    p = to_numpy(points)
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(f"points must have shape (N, 2), got {p.shape}")
    fig, ax = _axes(ax, (5.5, 5))
    if labels is None:
        ax.scatter(p[:, 0], p[:, 1], s=s, color=colours.OKABE_ITO[0])
    else:
        y = to_numpy(labels).astype(int)
        classes = np.unique(y)
        palette = colours.categorical(len(classes))
        for i, k in enumerate(classes):
            m = y == k
            label = names[k] if names is not None else str(k)
            repeat = i // len(colours.TOL_MUTED)  # how many times the palette came round before this class
            marker = "o" if len(classes) <= len(colours.TOL_MUTED) else MARKERS[repeat % len(MARKERS)]
            ax.scatter(p[m, 0], p[m, 1], s=s, color=palette[i], marker=marker, label=label)
            if annotate:
                x0, y0 = np.median(p[m], axis=0)
                ax.annotate(label, (x0, y0), ha="center", va="center", fontsize="small", fontweight="bold",
                            color="black", path_effects=[patheffects.withStroke(linewidth=2.5, foreground="white")])
        if len(classes) <= legend_max:
            ax.legend(markerscale=2, fontsize="small", loc="best")
    if title:
        ax.set_title(title)
    return fig, ax


LINESTYLES = ("-", "--", "-.", ":")
# markers for classes beyond the palette's colours, so that no two classes share both colour and marker
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def codes_on_prior(codes, labels, prior_samples, names: Sequence[str] | None = None, ax=None,
                   title: str | None = None, limit: float = 6.0, legend: bool = False):
    """Codes ``(N, 2)`` coloured by ``labels`` over samples of their prior ``(M, 2)`` in grey, on
    equal axes from -limit to limit (notebook 08's figure); a legend of the labels if ``legend``.
    Returns ``(fig, ax)``."""
    fig, ax = _axes(ax, (4.5, 4.5))
    z = to_numpy(prior_samples)
    ax.scatter(z[:, 0], z[:, 1], s=1, color="0.82")
    scatter2d(codes, labels, names, ax=ax, s=1, title=title, legend_max=20 if legend else 0)
    ax.set(xlim=(-limit, limit), ylim=(-limit, limit), aspect="equal")
    return fig, ax


def samples_over_training(snapshots: Mapping[int, Sequence], ax=None, title: str | None = None, label: str = "step",
                          cmap="gray_r"):
    """One row of images per moment of training: ``snapshots`` maps a step (or seconds) to
    ``(n, 1, H, W)`` images in [0, 1] (the same fixed noise each time, so rows compare).
    Rows are labelled with ``label`` and the key. Returns ``(fig, ax)``."""
    if not snapshots:
        raise ValueError("no snapshots to show")
    keys = list(snapshots)
    rows = [to_numpy(snapshots[k]).astype(np.float32) for k in keys]
    n = rows[0].shape[0]
    if any(r.shape != rows[0].shape for r in rows):
        raise ValueError("every snapshot must hold the same number and shape of images")
    grid = mosaic(np.concatenate(rows), nrow=n, pad_value=0.0)
    h = rows[0].shape[-2]
    fig, ax = _axes(ax, (min(12, 0.6 * n + 1.5), 0.6 * len(keys) + 0.8))
    ax.imshow(grid, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([1 + (h + 1) * i + h / 2 for i in range(len(keys))])
    ax.set_yticklabels([f"{label} {k:,}" if isinstance(k, int) else f"{label} {k}" for k in keys])
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title)
    return fig, ax


def vector_field(theta, psi, v_theta, v_psi, ax=None, stream: bool = True, title: str | None = None, color="0.6"):
    """A 2-D vector field on a grid (the Dirac-GAN's (theta, psi) plane): a stream plot, or arrows
    with ``stream=False`` (much faster: the widget uses them). theta, psi: ``(n,)`` grid ticks;
    v_theta, v_psi: ``(len(psi), len(theta))`` components (rows follow psi). The equilibrium (0, 0)
    is marked. Returns ``(fig, ax)``."""
    fig, ax = _axes(ax, (4.2, 4))
    theta, psi = to_numpy(theta), to_numpy(psi)
    if stream:
        ax.streamplot(theta, psi, to_numpy(v_theta), to_numpy(v_psi), color=color, density=0.9, linewidth=0.8,
                      arrowsize=0.8)
    else:
        ax.quiver(theta, psi, to_numpy(v_theta), to_numpy(v_psi), color=color, angles="xy", pivot="mid")
    ax.plot([0], [0], marker="*", color="crimson", markersize=10, linestyle="none")
    ax.set(xlim=(theta[0], theta[-1]), ylim=(psi[0], psi[-1]), xlabel=r"$\theta$ (generator)",
           ylabel=r"$\psi$ (discriminator)", aspect="equal")
    if title:
        ax.set_title(title)
    return fig, ax


def eigenvalues(values, ax=None, discrete: bool = True, title: str | None = None, label: str | None = None,
                marker="o"):
    """Eigenvalues ``(k,)`` (complex) in the complex plane, with the stability boundary: the unit
    circle for a discrete update (``discrete``), the imaginary axis for the continuous field.
    Returns ``(fig, ax)``."""
    fig, ax = _axes(ax, (3.6, 3.6))
    values = np.asarray(values, dtype=complex)
    if discrete:
        angle = np.linspace(0, 2 * np.pi, 200)
        ax.plot(np.cos(angle), np.sin(angle), color="0.5", lw=0.8)
    else:
        ax.axvline(0, color="0.5", lw=0.8)
    ax.axhline(0, color="0.85", lw=0.6)
    ax.plot(values.real, values.imag, marker=marker, linestyle="none", label=label)
    ax.set(xlabel=r"Re $\lambda$", ylabel=r"Im $\lambda$", aspect="equal")
    if title:
        ax.set_title(title)
    return fig, ax
