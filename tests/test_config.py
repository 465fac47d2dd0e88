import os
import subprocess
import sys
import warnings

import pytest
import torch

from course_utils import config, device


def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert device.resolve("auto") == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(device, "_mps_available", lambda: True)
    assert device.resolve("auto") == torch.device("mps")
    monkeypatch.setattr(device, "_mps_available", lambda: False)
    assert device.resolve(None) == torch.device("cpu")


def test_absent_cuda_falls_back_to_cpu_with_a_warning(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(RuntimeWarning, match="CUDA is not available"):
        assert device.resolve("cuda") == torch.device("cpu")
    monkeypatch.setattr(device, "_mps_available", lambda: False)
    with pytest.warns(RuntimeWarning, match="MPS"):
        assert device.resolve("MPS") == torch.device("cpu")


def test_explicit_cpu_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert device.resolve(" CPU ") == torch.device("cpu")
        assert device.resolve(torch.device("cpu")) == torch.device("cpu")


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", "cpu:0", "tpu", ""])
def test_unknown_device_names_the_choices(bad):
    with pytest.raises(ValueError, match="auto, cpu, cuda"):
        device.resolve(bad)


@pytest.mark.parametrize("bad", ["cuda:", "CUDA: ", "mps:"])
def test_device_with_a_colon_but_no_index_says_so(bad):
    with pytest.raises(ValueError, match=r"has a ':' but no index. Use 'cuda' or 'cuda:0'.*parameters cell"):
        device.resolve(bad)


def test_device_warning_points_at_the_callers_line_not_the_library(monkeypatch):
    """The warning must name the notebook line that asked for CUDA, not config.py or device.py."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(device, "_mps_available", lambda: False)
    for call in (lambda: device.resolve("cuda"), lambda: config.setup(device="cuda", verbose=False),
                 lambda: device.resolve("mps")):
        with pytest.warns(RuntimeWarning) as caught:
            call()
        assert caught[0].filename == __file__, caught[0].filename


def test_cuda_index_out_of_range(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert device.resolve("cuda:0") == torch.device("cuda:0")
    with pytest.raises(ValueError, match="only 1 CUDA device"):
        device.resolve("cuda:3")


def test_setup_prints_one_line_and_seeds(monkeypatch, capsys):
    monkeypatch.delenv("COURSE_FAST", raising=False)
    cfg = config.setup(fast=False, seed=3, device="cpu")
    a = torch.rand(3), torch.rand(3, generator=cfg.generator)
    out = capsys.readouterr().out.strip().splitlines()
    n = torch.get_num_threads()
    assert out == [f"device: cpu ({n} thread{'s' if n != 1 else ''}) | seed: 3 | mode: full"]
    cfg = config.setup(fast=False, seed=3, device="cpu", verbose=False)
    b = torch.rand(3), torch.rand(3, generator=cfg.generator)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not cfg.fast and cfg.scale(100, 5) == 100


@pytest.mark.parametrize("env, param, expected", [("1", False, True), ("true", False, True), ("0", True, True),
                                                  ("0", False, False), (None, True, True), (None, False, False)])
def test_course_fast_env_wins(monkeypatch, env, param, expected):
    if env is None:
        monkeypatch.delenv("COURSE_FAST", raising=False)
    else:
        monkeypatch.setenv("COURSE_FAST", env)
    cfg = config.setup(fast=param, seed=0, device="cpu", verbose=False)
    assert cfg.fast is expected
    assert cfg.scale(full=1000, fast=10) == (10 if expected else 1000)
    assert cfg.mode == ("FAST" if expected else "full")


def test_folders_follow_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "d"))
    monkeypatch.setenv("COURSE_OUTPUT", str(tmp_path / "o"))
    cfg = config.setup(verbose=False)
    assert cfg.data_dir == tmp_path / "d" and cfg.output_dir == tmp_path / "o"
    monkeypatch.delenv("COURSE_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert config.data_dir() == tmp_path / "cache" / "dgm-course" / "data"


@pytest.mark.parametrize("bad", ["0", 1.5, True, None])
def test_seed_must_be_an_int(bad):
    with pytest.raises(TypeError, match="SEED must be an integer.*parameters cell"):
        config.setup(seed=bad, verbose=False)


@pytest.mark.parametrize("bad", [-1, 2**32, 10**20])
def test_seed_out_of_range_names_the_range_and_the_cell(bad):
    with pytest.raises(ValueError, match=r"SEED = -?\d+ is out of range.*0 to 4,294,967,295.*parameters cell"):
        config.setup(seed=bad, verbose=False)


def test_seed_accepts_numpy_integers_and_the_extremes(monkeypatch):
    import numpy as np

    monkeypatch.delenv("COURSE_FAST", raising=False)
    assert config.setup(seed=np.int64(7), device="cpu", verbose=False).seed == 7
    assert config.setup(seed=2**32 - 1, device="cpu", verbose=False).seed == 2**32 - 1


@pytest.mark.parametrize("value, expected", [(True, True), (False, False), (1, True), (0, False),
                                             ("false", False), ("False", False), ("TRUE", True), (" yes ", True),
                                             ("off", False), ("0", False)])
def test_fast_parameter_accepts_bools_and_known_spellings(monkeypatch, value, expected):
    """`papermill -p FAST false` passes the string 'false': it must mean full mode, not FAST."""
    monkeypatch.delenv("COURSE_FAST", raising=False)
    assert config.setup(fast=value, seed=0, device="cpu", verbose=False).fast is expected


@pytest.mark.parametrize("bad", ["flase", "2", 2, 0.5, None, "fast"])
def test_fast_parameter_rejects_anything_else_naming_the_cell(monkeypatch, bad):
    monkeypatch.delenv("COURSE_FAST", raising=False)
    with pytest.raises(ValueError, match=r"FAST \(in the notebook's parameters cell\).*True or False"):
        config.setup(fast=bad, seed=0, device="cpu", verbose=False)


@pytest.mark.parametrize("bad", ["2", "maybe", "ture"])
def test_course_fast_rejects_unknown_spellings_naming_the_variable(monkeypatch, bad):
    """`COURSE_FAST=2` used to be ignored silently (a full 30-minute run instead of FAST)."""
    monkeypatch.setenv("COURSE_FAST", bad)
    with pytest.raises(ValueError, match="environment variable COURSE_FAST.*True or False"):
        config.setup(fast=False, seed=0, device="cpu", verbose=False)
    with pytest.raises(ValueError, match="COURSE_FAST"):
        config.fast_from_env()


def test_course_fast_empty_means_unset(monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "  ")
    assert config.setup(fast=False, seed=0, device="cpu", verbose=False).fast is False


def test_importing_the_library_has_no_side_effects(tmp_path):
    """No seeding, no rcParams change, no printing, no files written on import."""
    code = (
        "import torch, matplotlib, os\n"
        "seed = torch.initial_seed(); rc = dict(matplotlib.rcParams); cwd = set(os.listdir('.'))\n"
        "from course_utils import checks, config, data, device, plots, results, train, widgets\n"
        "assert torch.initial_seed() == seed, 'seeded on import'\n"
        "assert dict(matplotlib.rcParams) == rc, 'rcParams changed on import'\n"
        "assert set(os.listdir('.')) == cwd, 'files written on import'\n"
    )
    (tmp_path / "cwd").mkdir()
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path / "cwd", capture_output=True, text=True,
                          env={"HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""


def test_course_deterministic_turns_on_deterministic_kernels(monkeypatch):
    monkeypatch.setenv("COURSE_DETERMINISTIC", "1")
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    try:
        config.setup(seed=0, device="cpu", verbose=False)
        assert torch.are_deterministic_algorithms_enabled() and os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    finally:
        torch.use_deterministic_algorithms(False)
    monkeypatch.setenv("COURSE_DETERMINISTIC", "maybe")
    with pytest.raises(ValueError, match="COURSE_DETERMINISTIC"):
        config.setup(seed=0, device="cpu", verbose=False)
