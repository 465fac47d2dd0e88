"""Colours every reader can tell apart: the course's categorical palettes and a check under colour-vision
deficiency.

About one man in twelve has a red-green deficiency (protanomaly or deuteranomaly); matplotlib's default
``tab10`` puts its orange and green about 5 CIELAB units apart for a protanope, a difference hard to see in
small markers. The palettes here stay at least ``MIN_DISTANCE`` apart under full protanopia,
deuteranopia and tritanopia as simulated by Machado, Oliveira & Fernandes (2009), and the plots that use
them (``plots.scatter2d``) also write each class's name on its points, so colour is never the only cue.
"""

from __future__ import annotations

import itertools
from typing import Sequence

import numpy as np

# Okabe & Ito (2008), "Color universal design": 8 colours chosen to stay distinct for dichromats. Ordered
# for figures on white: the low-contrast yellow last but one, black last.
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
# Tol (2021), "Colour schemes", the 'muted' qualitative scheme: 9 colours plus pale grey, for up to 10 classes
# (MNIST's digits).
TOL_MUTED = ("#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255", "#AA4499",
             "#DDDDDD")

# Machado, Oliveira & Fernandes (2009), "A physiologically-based model for simulation of color vision
# deficiency", IEEE TVCG 15(6), Table 1 at severity 1.0 (dichromacy), applied to linear RGB.
CVD = {
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216), (-0.003882, -0.048116, 1.051998)),
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413), (-0.011820, 0.042940, 0.968881)),
    "tritanopia": ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602), (0.004733, 0.691367, 0.303900)),
}
# The least CIELAB distance (Delta E*ab, 1976) between two colours of a palette, for normal vision and each
# simulated deficiency. A just-noticeable difference is about 2.3 (Sharma 2003); 10 is four of them, which
# small markers need. Okabe-Ito's closest pair is 16 apart (tritanopia), tab10's 4.6 (protanopia).
MIN_DISTANCE = 10.0


def categorical(n: int) -> tuple[str, ...]:
    """``n`` colours for ``n`` classes (hex strings): Okabe-Ito up to 8, Tol's muted scheme up to 10; more
    classes repeat the muted scheme (``plots.scatter2d`` then tells them apart by marker and label)."""
    if n < 1:
        raise ValueError(f"need at least one class, got {n}")
    if n <= len(OKABE_ITO):
        return OKABE_ITO[:n]
    return tuple(TOL_MUTED[i % len(TOL_MUTED)] for i in range(n))


def use_in_matplotlib() -> None:
    """Make Okabe-Ito matplotlib's colour cycle ("C0" to "C7"), so that a notebook's own ``plt.plot`` calls
    draw in colours every reader can tell apart (``config.setup`` calls it; nothing happens on import)."""
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams["axes.prop_cycle"] = cycler(color=list(OKABE_ITO))


def to_rgb(colour: str) -> np.ndarray:
    """'#rrggbb' -> sRGB ``(3,)`` in [0, 1]."""
    if len(colour) != 7 or not colour.startswith("#"):
        raise ValueError(f"expected a colour as '#rrggbb', got {colour!r}")
    return np.array([int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])


def _linear(srgb: np.ndarray) -> np.ndarray:
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def simulate(colour: str, deficiency: str | None) -> np.ndarray:
    """Linear RGB ``(3,)`` of ``colour`` as a dichromat with ``deficiency`` (a key of ``CVD``) sees it;
    ``None``: normal vision."""
    rgb = _linear(to_rgb(colour))
    if deficiency is None:
        return rgb
    if deficiency not in CVD:
        raise ValueError(f"unknown deficiency {deficiency!r}; known: {', '.join(CVD)}")
    return np.clip(np.asarray(CVD[deficiency]) @ rgb, 0.0, 1.0)


def lab(linear_rgb: np.ndarray) -> np.ndarray:
    """CIELAB ``(3,)`` (D65 white) of a linear-RGB ``(3,)`` colour (sRGB primaries, IEC 61966-2-1)."""
    xyz = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                    [0.0193339, 0.1191920, 0.9503041]]) @ linear_rgb / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def closest_pair(palette: Sequence[str], deficiency: str | None = None) -> tuple[float, str, str]:
    """The two colours of ``palette`` closest in CIELAB as seen with ``deficiency``, and their distance."""
    points = {c: lab(simulate(c, deficiency)) for c in palette}
    return min((float(np.linalg.norm(points[a] - points[b])), a, b) for a, b in itertools.combinations(palette, 2))


def distinguishable(palette: Sequence[str]) -> dict[str, float]:
    """The closest pair's distance for normal vision and each deficiency of ``CVD``: ``{name: distance}``."""
    return {name: closest_pair(palette, d)[0] for name, d in [("normal", None), *((k, k) for k in CVD)]}
