import json

import pytest

from course_utils import config, results


def test_record_writes_what_the_table_shows(isolated_env, monkeypatch, capsys):
    monkeypatch.delenv("COURSE_FAST", raising=False)
    cfg = config.setup(seed=1, device="cpu", verbose=False)
    path = results.record("01_x", {"accuracy (%)": 93.25, "seconds": 812.4}, cfg, paper={"accuracy (%)": 92.0},
                          recorded=None)
    assert path == isolated_env / "results" / "01_x.json"
    entry = json.loads(path.read_text())
    assert entry["metrics"] == {"accuracy (%)": 93.25, "seconds": 812.4} and entry["mode"] == "full"
    assert entry["device"] == "cpu" and entry["seed"] == 1 and "cores" in entry["machine"]
    out = capsys.readouterr().out
    assert "no recorded full run to compare with" in out
    assert [line.split() for line in out.splitlines() if line.startswith("accuracy")] == [
        ["accuracy", "(%)", "93.25", "-", "92"]]
    results.record("00_y", {"n": 12345.0}, cfg, recorded=None)
    table = results.markdown_table(results.load(isolated_env / "results"))
    rows = table.strip().splitlines()
    assert rows[2:5] == ["| 00_y | n | 12,345 |  |", "| 01_x | accuracy (%) | 93.25 | 92 |",
                         "| 01_x | seconds | 812.4 |  |"]
    assert rows[5] == "" and len(rows) == 10
    assert rows[9].startswith("| 01_x | full | cpu | ") and "cores" in rows[9]


def test_paper_figure_needs_a_recorded_metric(isolated_env):
    with pytest.raises(ValueError, match="not recorded"):
        results.record("01_x", {"a": 1.0}, paper={"b": 2.0})


def test_unwritable_results_folder_is_named_with_its_setting(isolated_env, monkeypatch):
    """Issue 9.2: torch's / Python's raw error with no hint before; now the folder and the setting."""
    blocker = isolated_env / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("COURSE_RESULTS", str(blocker / "results"))
    with pytest.raises(PermissionError, match=rf"Cannot write to {blocker / 'results'}.*COURSE_RESULTS"):
        results.record("01_x", {"a": 1.0})
    monkeypatch.delenv("COURSE_RESULTS")
    monkeypatch.setenv("COURSE_OUTPUT", str(blocker / "outputs"))
    with pytest.raises(PermissionError, match="Set COURSE_OUTPUT|set COURSE_OUTPUT"):
        results.record("01_x", {"a": 1.0})


def test_spread_is_mean_and_sample_sd():
    assert results.spread([1.0, 2.0, 3.0]) == "  2.00 ±  1.00"
    assert results.spread([4]) == "  4.00 ±  0.00"


def test_a_run_is_printed_beside_the_recorded_full_run(isolated_env, tmp_path, capsys):
    """The student's numbers next to the course's recorded run, read before this run is written
    (a full-mode benchmark run writes into the same folder it compares with)."""
    cfg = config.setup(seed=0, device="cpu", fast=True, verbose=False)
    recorded = tmp_path / "recorded"
    results.record("05_z", {"modes": 25.0, "seconds": 40.0}, cfg, folder=recorded, recorded=None)
    capsys.readouterr()
    results.record("05_z", {"modes": 18.5, "seconds": 2.0, "new metric": 1.0}, cfg, folder=recorded,
                   recorded=recorded)
    out = capsys.readouterr().out
    assert "beside the course's recorded full run" in out
    rows = {line.split("  ")[0].strip(): line.split() for line in out.splitlines()[2:]}
    assert rows["modes"][-2:] == ["18.5", "25"] and rows["seconds"][-2:] == ["2", "40"]
    assert rows["new metric"][-2:] == ["1", "-"]
    assert json.loads((recorded / "05_z.json").read_text())["metrics"]["modes"] == 18.5
