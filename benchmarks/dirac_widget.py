"""How long notebook 05's Dirac-GAN explorer takes to redraw after each control moves.

    python benchmarks/dirac_widget.py           # every control, 5 repeats each, prints a table, records it
    python benchmarks/dirac_widget.py --fast    # one repeat, nothing recorded (the test suite's smoke run)

Each row moves one control from the explorer's defaults (GAN, no regulariser, simultaneous,
h = 0.1, 500 steps) and times the whole redraw the widget does on that move: the trajectory, the
field, the Jacobian's eigenvalues and the PNG (``DiracExplorer.seconds``). The target is 100 ms on
a 2-core laptop CPU. The last rows are the slowest settings the controls allow (3,000 steps,
alternating updates with 10 D steps, consensus or instance noise), for the record.
Recorded with ``course_utils.results`` as ``dirac_widget`` unless ``--fast``.
"""

from __future__ import annotations

import argparse
import statistics

import matplotlib

matplotlib.use("Agg")

from course_utils import results, widgets  # noqa: E402

# (label, {control: value}): applied to a fresh explorer, one row each
MOVES = [
    ("objective -> NS-GAN", {"objective": "NS-GAN"}),
    ("objective -> WGAN", {"objective": "WGAN"}),
    ("regulariser -> R1", {"regulariser": "R1"}),
    ("regulariser -> WGAN-GP", {"regulariser": "WGAN-GP"}),
    ("regulariser -> instance noise", {"regulariser": "instance noise"}),
    ("regulariser -> consensus", {"regulariser": "consensus"}),
    ("regulariser -> clipping", {"regulariser": "clipping"}),
    ("weight -> 2", {"weight": 2.0}),
    ("step h -> 0.5", {"h": 0.5}),
    ("update -> alternating", {"mode": "alternating"}),
    ("D steps -> 5", {"d_steps": 5}),
    ("steps -> 1000", {"steps": 1000}),
    ("theta0 -> -1.5", {"theta0": -1.5}),
    ("psi0 -> 0.5", {"psi0": 0.5}),
]
WORST = [
    ("3000 steps, alternating, 10 D steps, R1", {"steps": 3000, "mode": "alternating", "d_steps": 10,
                                                 "regulariser": "R1"}),
    ("3000 steps, alternating, consensus", {"steps": 3000, "mode": "alternating", "regulariser": "consensus"}),
    ("3000 steps, instance noise", {"steps": 3000, "regulariser": "instance noise"}),
]


def time_move(changes: dict, repeats: int) -> list[float]:
    """Milliseconds of the redraw triggered by the last change, ``repeats`` times on fresh explorers."""
    out = []
    for _ in range(repeats):
        explorer = widgets.dirac_gan()
        items = list(changes.items())
        for name, value in items[:-1]:  # set up without timing
            explorer.controls[name].value = value
        name, value = items[-1]
        explorer.controls[name].value = value  # observed: redraws once
        out.append(1000 * explorer.seconds)
    return out


def run(argv=None) -> list[dict]:
    """Time the explorer's redraws, print the table, record it (not with ``--fast``). Returns the
    moves as data: {"move", "median_ms", "max_ms", "extreme"}."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--fast", action="store_true", help="one repeat, nothing recorded")
    args = parser.parse_args(argv)
    repeats = 1 if args.fast else args.repeats
    print(f"| move | median ms | max ms |  (over {repeats} redraws; target <= 100 ms)")
    print("|---|---|---|")
    medians, worst_rows, runs = {}, {}, []
    for label, changes in MOVES + WORST:
        ms = time_move(changes, repeats)
        medians[label] = statistics.median(ms)
        runs.append({"move": label, "median_ms": medians[label], "max_ms": max(ms),
                     "extreme": (label, changes) in WORST})
        print(f"| {label} | {statistics.median(ms):.0f} | {max(ms):.0f} |")
        if (label, changes) in WORST:
            worst_rows[label] = statistics.median(ms)
    everyday = [v for k, v in medians.items() if k not in worst_rows]
    print(f"\nevery single-control move: median {statistics.median(everyday):.0f} ms, slowest {max(everyday):.0f} ms; "
          f"slowest extreme setting {max(worst_rows.values()):.0f} ms")
    if not args.fast:
        results.record("dirac_widget", {
            "explorer redraw, single-control moves: median (ms)": statistics.median(everyday),
            "explorer redraw, single-control moves: slowest (ms)": max(everyday),
            "explorer redraw, slowest extreme setting (ms)": max(worst_rows.values()),
        })
    return runs


if __name__ == "__main__":
    run()
