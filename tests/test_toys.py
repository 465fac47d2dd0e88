"""toys: the 2-D mixtures and VEEGAN's mode / quality counter, against closed forms."""

import math

import pytest
import torch

from course_utils import toys


def test_grid_and_ring_means():
    g = toys.grid(25)
    assert g.n_modes == 25 and g.sigma == 0.05
    assert sorted(set(g.means[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    assert len({tuple(m) for m in g.means.tolist()}) == 25
    r = toys.ring(8)
    assert torch.allclose(r.means.norm(dim=1), torch.full((8,), 2.0))
    assert torch.allclose(r.means[0], torch.tensor([2.0, 0.0]))
    with pytest.raises(ValueError, match="square number"):
        toys.grid(24)


def test_samples_have_the_right_modes_and_spread():
    m = toys.grid(9, sigma=0.1)
    x = m.sample(90_000, torch.Generator().manual_seed(0))
    nearest = torch.cdist(x, m.means).argmin(1)
    counts = torch.bincount(nearest, minlength=9).float()
    assert (counts / 90_000 - 1 / 9).abs().max() < 0.01
    offsets = x - m.means[nearest]
    assert abs(offsets.std().item() - 0.1) < 0.002


def test_log_prob_integrates_to_one():
    m = toys.ring(8, sigma=0.3)
    t = torch.linspace(-4, 4, 801)
    gx, gy = torch.meshgrid(t, t, indexing="ij")
    p = m.log_prob(torch.stack([gx.reshape(-1), gy.reshape(-1)], 1).double()).exp()
    assert abs(p.sum().item() * (t[1] - t[0]).item() ** 2 - 1.0) < 1e-3


def test_report_on_the_true_distribution_matches_the_chi_square_law():
    """Within 3 sigma in 2-D: P(chi2_2 <= 9) = 1 - exp(-4.5) = 98.89 %."""
    m = toys.grid(25)
    report = toys.mode_report(m.sample(250_000, torch.Generator().manual_seed(1)), m)
    assert report["modes"] == 25
    assert abs(report["high_quality"] - (1 - math.exp(-4.5))) < 0.001
    assert report["kl"] < 1e-3 and int(report["counts"].sum()) == round(250_000 * report["high_quality"])


def test_report_on_collapsed_and_bad_samples():
    m = toys.grid(25)
    one_mode = m.means[7] + 0.01 * torch.randn(2500, 2, generator=torch.Generator().manual_seed(2))
    report = toys.mode_report(one_mode, m)
    assert report["modes"] == 1 and report["high_quality"] == 1.0
    assert abs(report["kl"] - math.log(25)) < 1e-9
    # between the modes: nothing counts
    between = torch.full((2500, 2), 1.0)
    report = toys.mode_report(between, m)
    assert report["modes"] == 0 and report["high_quality"] == 0.0 and math.isnan(report["kl"])
    # PacGAN's stricter rule: a mode needs 20 high-quality samples
    few = torch.cat([m.means[:3].repeat_interleave(19, 0), m.means[3:4].repeat(20, 1)])
    assert toys.mode_report(few, m)["modes"] == 4
    assert toys.mode_report(few, m, min_count=20)["modes"] == 1
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        toys.mode_report(torch.zeros(5, 3), m)
