"""Every result a student or an instructor reads comes from a record.

The notebooks' markdown and the decks' text (outside their ``{{ record :: metric }}`` placeholders,
which the deck build fills from the records) are scanned for numbers that read as results: decimals,
percentages, multiples (``8.2x``), spreads (``44 ± 3``), counts (``12 of 25``, ``8 / 8``), minutes,
steps, nats and powers of ten. Each must be *backed*:

- by a recorded run (``benchmarks/results/*.json``: a metric or a paper figure, numbers inside text
  values included, seconds also as minutes, and the settings a metric's name records, such as
  "20,000 steps") that rounds to it at the precision it is written with;
- or by an entry of ``STATED`` below, which says what the number is (a paper's figure with its
  table, arithmetic, a setting of the code). A result does not belong there: record it.

So a sentence that types in a number no run recorded fails here until the run that measured it is
recorded, or the number goes.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / "benchmarks" / "results"

# Numbers that are neither recorded results nor literals of the code, with what they are.
STATED: dict[str, dict[str, str]] = {
    "00_setup": {},
    "01_siamese": {
        "95.5": "paper: Lake et al. 2015, people",
        "21.7": "paper: Koch et al. 2015, Table 2 (1-NN on pixels)",
        "92.0": "paper: Koch et al. 2015, Table 2",
        "5 %": "arithmetic: chance in a 20-way trial, 1 / 20",
        "80 %": "Exercise 5's example accuracies (80 % against 85 %)",
    },
    "02_elbo": {
        "10^{13}": "arithmetic: exp(30), the Think answer's example",
        "30 nats": "the Think answer's example KL",
    },
    "03_vae": {
        "86.76": "paper: Burda et al. 2016, Table 1",
        "84.78": "paper: Burda et al. 2016, Table 1",
    },
    "04_gan": {
        "50 %": "chance level of a two-sample classifier",
        "30 %": "a setting of the Exercise's example (the mass between the modes)",
        "99 %": "the yardstick's test accuracy, rounded (metrics.Yardstick prints 99.04 %)",
        "2.303": "arithmetic: log 10",
        "40 %": "paper: VEEGAN Table 1 (high-quality samples)",
        "94.2 %": "paper: PacGAN Table 1 (a tuned GAN)",
        "91.3 %": "paper: PacGAN Table 1 (PacGAN2)",
        "17.3": "paper: PacGAN Table 1 (a tuned GAN's modes)",
        "10^{-4}": "a learning rate (setting)",
        "10^{-3}": "a learning rate (setting)",
        "200 steps": "a setting: the saturation runs' length (early_steps)",
    },
    "05_dirac_gan": {
        "10^{-4}": "a learning rate (setting)",
        "3,000 steps": "a setting to try in the explorer",
        "0.01": "a setting to try in the explorer (gamma)",
    },
    "06_wgan": {
        "0.6931": "arithmetic: log 2",
        "10^{-4}": "a learning rate (setting)",
    },
    "07_tempered_gan": {
        "10^{-3}": "a learning rate (setting)",
        "10^{-4}": "a learning rate (setting)",
        "0.01": "a setting: theta's SGD rate on the toy",
        "0.999": "a setting: Adam's second beta",
        "1,500 steps": "a setting: MNIST steps of the recorded run (STEPS)",
    },
    "08_vae_vs_gan": {
        "166.5": "paper: Brock et al. 2019, Table 1 (Inception Score)",
        "7.4": "paper: Brock et al. 2019, Table 1 (FID)",
        "52.5": "paper: Brock et al. 2019, previous best Inception Score",
        "18.7": "paper: Brock et al. 2019, previous best FID",
        "4.40": "paper: Karras et al. 2019, Table 4 (FFHQ)",
        "50 %": "chance level of a two-sample classifier",
        "10^{-4}": "a learning rate (setting)",
        "3,000 steps": "a setting: the auto-encoders' steps (CODE_STEPS)",
        "10^{-3}": "a learning rate (setting)",
    },
}

_UNITS = r"(?:min|minutes|steps|nats|seconds|points)\b"
TOKEN = re.compile(
    r"(?P<pm>(?<![\w.])\d[\d,]*(?:\.\d+)?\s?±\s?\d[\d,]*(?:\.\d+)?)"  # 44 ± 3
    r"|(?P<count>(?<![\w.,])\d[\d,]*\s(?:of|/)\s\d[\d,]*(?![\d.]))"  # 12 of 25, 8 / 8
    r"|(?P<num>(?<![\w.,])\d[\d,]*(?:\.\d+)?)(?P<suffix>\s?%|x\b|\s" + _UNITS + r")?"
)
POWER = re.compile(r"10\^\{?(-?\d+)\}?")
SKIP = [
    re.compile(r"\{\{.*?\}\}", re.S),  # deck placeholders: filled from the records at build time
    re.compile(r"sitting in FAST mode: about \d+ min"),  # an estimate from the notebook's size (notebook 00)
    re.compile(r"arXiv:\S+"),
    re.compile(r"\b(?:sections?|figures?|equations?|chapters?|Table|Figure|Algorithm)\s+\d+(?:\.\d+)*"
               r"(?:\s*(?:and|,)\s*\d+(?:\.\d+)*)*", re.I),
    re.compile(r"\(\d+\)"),  # a reference's issue number
    re.compile(r"\$\$.*?\$\$", re.S),
    re.compile(r"\$[^$]*\$"),
    re.compile(r"`[^`]*`"),
]


def _markdown_cells(path: Path) -> list[str]:
    cells, current = [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# %%"):
            current = [] if "[markdown]" in line else None
            if current is not None:
                cells.append(current)
            continue
        if current is not None:
            current.append(line[2:] if line.startswith("# ") else line.lstrip("#"))
    return ["\n".join(c) for c in cells]


def _texts() -> dict[str, str]:
    """Stem -> the text a reader sees: a notebook's markdown up to its references, a deck's body."""
    texts = {}
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")):
        text = "\n".join(_markdown_cells(path))
        texts[f"notebooks/{path.stem}"] = text.split("## References")[0]
    for path in sorted((ROOT / "slides" / "src").glob("*.md")):
        texts[f"slides/{path.stem}"] = re.sub(r"\A---\n.*?\n---\n", "", path.read_text(encoding="utf-8"), flags=re.S)
    return texts


def _value(text: str) -> float:
    return float(text.replace(",", ""))


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def _numbers_in(value) -> list[float]:
    if isinstance(value, (int, float)):
        return [float(value)]
    return [_value(m) for m in re.findall(r"\d[\d,]*(?:\.\d+)?(?:e-?\d+)?", str(value)) if m.replace(",", "")]


def recorded_values() -> list[float]:
    values = []
    for path in sorted(RECORDS.glob("*.json")):
        record = json.loads(path.read_text())
        for section in ("metrics", "paper"):
            for key, value in record.get(section, {}).items():
                values += _numbers_in(key)  # the settings a metric's name records ("seed 0, 20 min")
                numbers = _numbers_in(value)
                values += numbers
                if "(s)" in key or "seconds" in key or "time" in key:
                    values += [v / 60 for v in numbers]  # a duration written in minutes
    return values


def tokens(text: str) -> list[tuple[str, float, int]]:
    """(as written, value, decimals) of each number that reads as a result."""
    found = [(m.group(0), 10.0 ** int(m.group(1)), -1) for m in POWER.finditer(text)]
    for pattern in SKIP:
        text = pattern.sub(" ", text)
    for m in TOKEN.finditer(text):
        if m.group("pm"):
            for part in re.split(r"\s?±\s?", m.group("pm")):
                found.append((m.group("pm"), _value(part), _decimals(part)))
        elif m.group("count"):
            first = re.split(r"\s(?:of|/)\s", m.group("count"))[0]
            found.append((m.group("count"), _value(first), _decimals(first)))
        elif "." in m.group("num") or m.group("suffix"):
            found.append((m.group(0).strip(), _value(m.group("num")), _decimals(m.group("num"))))
    return found


def backed(value: float, decimals: int, candidates) -> bool:
    if decimals < 0:  # a power of ten: the same order of magnitude
        return any(v > 0 and math.floor(math.log10(v)) == math.log10(value) for v in candidates)
    half = 0.5 * 10.0 ** -decimals * (1 + 1e-9)
    return any(abs(abs(v) - value) <= half for v in candidates)


def unbacked() -> dict[str, list[str]]:
    recorded = recorded_values()
    missing = {}
    for where, text in _texts().items():
        stem = where.split("/")[1]
        allowed = STATED.get(stem, {})
        for written, value, decimals in tokens(text):
            if any(key in written for key in allowed) or written.split()[0] in allowed:
                continue
            if backed(value, decimals, recorded):
                continue
            missing.setdefault(where, []).append(written)
    return missing


def test_every_number_a_reader_sees_is_recorded_or_stated():
    missing = unbacked()
    assert not missing, ("numbers with no record, no code literal and no STATED entry (record the run that measured "
                         f"them, print them from the record, or remove them): {missing}")


def test_every_stated_number_is_still_written_somewhere():
    """An entry of STATED whose number no longer appears would let the next one of that value in unchecked."""
    written = {}
    for where, text in _texts().items():
        written.setdefault(where.split("/")[1], []).extend(w for w, _, _ in tokens(text))
    stale = {stem: [key for key in entries if not any(key in w or w.split()[0] == key for w in written.get(stem, []))]
             for stem, entries in STATED.items()}
    assert not {k: v for k, v in stale.items() if v}, f"STATED entries no text states any more: {stale}"


@pytest.mark.parametrize("written, expected", [
    ("reached 79.5 % within", [79.5]), ("12 of 25 modes", [12.0]), ("44 ± 3 in", [44.0, 3.0]),
    ("8.2x the floor", [8.2]), ("took 7 min", [7.0]), ("down to $10^{-14}$", [1e-14]),
    ("section 3.3 of Koch", []), ("`lr=0.01`", []), ("{{ 06_wgan :: a :: .1f }}", []), ("in 2015 there", []),
])
def test_the_scanner_reads_results_and_skips_references(written, expected):
    assert [v for _, v, _ in tokens(written)] == pytest.approx(expected)


def test_a_typed_in_result_is_caught_and_a_recorded_one_is_not():
    recorded = recorded_values()
    assert backed(3.92, 2, recorded)  # the yardstick's floor, recorded by every MNIST notebook
    assert not backed(12.0, 0, [13.0, 24.3]) and not backed(40.7, 1, recorded)  # 01's old hand-typed table


def sitting_estimate(path: Path) -> float:
    """Minutes for a class sitting in FAST mode, as notebook 00 estimates them: markdown read at 100 words a
    minute, code at 25 lines a minute (non-blank, non-comment), 8 minutes per numbered exercise, 4 per Think
    question (the sizes ``shared/tools/nb_size.py`` measures)."""
    cells, current = [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# %%"):
            current = ("md" if "[markdown]" in line else "code", [])
            cells.append(current)
        elif current is not None:
            current[1].append(line)
    words = sum(len(re.sub(r"^# ?", "", line).split()) for kind, lines in cells if kind == "md" for line in lines)
    code = sum(1 for kind, lines in cells if kind == "code" for line in lines
               if line.strip() and not line.strip().startswith("#"))
    source = path.read_text(encoding="utf-8")
    exercises = len(set(re.findall(r"Exercise (\d+)", source.split("## Think")[0])))
    think = source.split("## Think")[1].split("# %%")[0] if "## Think" in source else ""
    return words / 100 + code / 25 + 8 * exercises + 4 * len(re.findall(r"^# (?:\d+\.|-) ", think, flags=re.M))


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")), ids=lambda p: p.stem)
def test_the_sitting_time_in_a_header_follows_the_notebooks_size(path):
    stated = re.search(r"sitting in FAST mode: about\s*(?:#\s*)?(\d+) min", path.read_text(encoding="utf-8"))
    assert stated, f"{path.name}: the header states no sitting time"
    assert abs(int(stated.group(1)) - sitting_estimate(path)) <= 3, (
        f"{path.name}: header says about {stated.group(1)} min, its size gives {sitting_estimate(path):.0f}")
