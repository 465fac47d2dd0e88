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
    assert out == ["device: cpu (%d threads) | seed: 3 | mode: full" % torch.get_num_threads()]
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


def test_seed_must_be_an_int():
    with pytest.raises(TypeError, match="seed"):
        config.setup(seed="0", verbose=False)


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
