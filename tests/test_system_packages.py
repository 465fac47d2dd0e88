"""tools/system_packages.sh decides which Debian packages to install, one at a time, only for what
is missing. Here apt-get, sudo and every program it looks up are stand-ins in an otherwise empty
PATH: the stand-in apt-get records its calls and "installs" a package by creating the stand-in of
what it provides, so nothing is installed and no root is needed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tools" / "system_packages.sh"
BASH = "/bin/bash"
FASHION_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz")

pytestmark = pytest.mark.skipif(not Path(BASH).is_file(), reason="needs /bin/bash")


def _program(path: Path, body: str) -> None:
    path.write_text(f"#!{BASH}\n{body}\n")
    path.chmod(0o755)


class Machine:
    """A PATH with the stand-ins of one machine's programs, a Fashion-MNIST folder and a recording apt-get."""

    def __init__(self, tmp: Path, *, have=(), node="v20.20.2", fashion=False, apt_fails=None):
        self.bin, self.fashion, self.log = tmp / "bin", tmp / "fashion-mnist", tmp / "apt.log"
        self.bin.mkdir()
        self.fashion.mkdir()
        self.log.write_text("")
        for name in have:
            self.provide(name, node)
        if fashion:
            for f in FASHION_FILES:
                (self.fashion / f).write_bytes(b"")
        # sudo: drop VAR=value words, run the rest (the script uses it when not root)
        _program(self.bin / "sudo", 'while [[ $1 == *=* ]]; do export "$1"; shift; done; exec "$@"')
        fail = ""
        if apt_fails:
            pkg, message = apt_fails
            fail = f'if [ "$pkg" = {pkg} ]; then printf "%s\\n" "{message}" >&2; exit 100; fi'
        # what each package provides; Debian's nodejs is version 18 (bookworm)
        provides = "\n".join([
            "case $pkg in",
            f"  dataset-fashion-mnist) for f in {' '.join(FASHION_FILES)}; do : > {self.fashion}/$f; done ;;",
            f"  chromium) printf '#!{BASH}\\n' > {self.bin}/chromium; /bin/chmod +x {self.bin}/chromium ;;",
            f"  make) printf '#!{BASH}\\n' > {self.bin}/make; /bin/chmod +x {self.bin}/make ;;",
            f"  nodejs) printf '#!{BASH}\\necho v18.19.0\\n' > {self.bin}/node; /bin/chmod +x {self.bin}/node ;;",
            f"  npm) printf '#!{BASH}\\necho 9.2.0\\n' > {self.bin}/npm; /bin/chmod +x {self.bin}/npm ;;",
            "esac",
        ])
        _program(self.bin / "apt-get", f'echo "$*" >> {self.log}\n[ "$1" = update ] && exit 0\n'
                                       f'pkg="${{@: -1}}"\n{fail}\n{provides}')

    def provide(self, name: str, node: str = "v20.20.2") -> None:
        version = {"node": node, "npm": "10.8.2"}.get(name, "")
        _program(self.bin / name, f"echo {version}" if version else "")

    def run(self, *args: str) -> subprocess.CompletedProcess:
        env = {"PATH": str(self.bin), "COURSE_DEBIAN_FASHION_MNIST": str(self.fashion), "HOME": str(self.bin)}
        return subprocess.run([BASH, str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=60)

    def apt_calls(self) -> list[str]:
        return self.log.read_text().splitlines()

    def installed(self) -> list[str]:
        return [c.split()[-1] for c in self.apt_calls() if c.startswith("install")]


def test_nothing_present_installs_everything_one_package_at_a_time(tmp_path):
    m = Machine(tmp_path)
    r = m.run()
    assert r.returncode == 0, r.stderr
    assert m.installed() == ["dataset-fashion-mnist", "make", "chromium", "nodejs", "npm"]
    calls = m.apt_calls()
    assert calls[0] == "update -qq" and calls.count("update -qq") == 1  # one update, before any install
    assert all(c.startswith("install -y") for c in calls[1:])
    assert "present: Fashion-MNIST, make, chromium, node v18.19.0, npm 9.2.0" in r.stdout


def test_this_image_node_and_npm_present_chromium_absent(tmp_path):
    """NodeSource's Node 20 with its own npm: only chromium (and the data) are installed, never nodejs or npm."""
    m = Machine(tmp_path, have=("node", "npm", "make"))
    r = m.run()
    assert r.returncode == 0, r.stderr
    assert m.installed() == ["dataset-fashion-mnist", "chromium"]

    (tmp_path / "with-data").mkdir()
    m2 = Machine(tmp_path / "with-data", have=("node", "npm", "make"), fashion=True)
    assert m2.run().returncode == 0
    assert m2.installed() == ["chromium"]


def test_everything_present_calls_no_apt(tmp_path):
    m = Machine(tmp_path, have=("node", "npm", "make", "chromium"), fashion=True)
    r = m.run()
    assert r.returncode == 0, r.stderr
    assert m.apt_calls() == []  # not even apt-get update
    assert "present: Fashion-MNIST, make, chromium, node v20.20.2, npm 10.8.2" in r.stdout


def test_debian_nodejs_without_npm_installs_npm_alone(tmp_path):
    m = Machine(tmp_path, have=("node", "make", "chromium"), node="v18.19.0", fashion=True)
    r = m.run()
    assert r.returncode == 0, r.stderr
    assert m.installed() == ["npm"]


def test_a_refused_package_stops_with_its_name_and_apt_reason(tmp_path):
    """A node without npm whose npm apt cannot install (NodeSource's nodejs conflicts with Debian's npm)."""
    m = Machine(tmp_path, have=("node", "make"), fashion=True,
                apt_fails=("npm",
                           "nodejs : Conflicts: npm\nE: Unable to correct problems, you have held broken packages."))
    r = m.run()
    assert r.returncode == 1
    assert m.installed() == ["chromium", "npm"]
    assert "could not install npm" in r.stderr
    assert "Conflicts: npm" in r.stderr and "E: Unable to correct problems" in r.stderr


def test_node_older_than_marp_needs_stops(tmp_path):
    m = Machine(tmp_path, have=("node", "npm", "make", "chromium"), node="v12.22.12", fashion=True)
    r = m.run()
    assert r.returncode == 1
    assert "older than Node.js 18" in r.stderr
    assert m.apt_calls() == []


def test_dry_run_installs_nothing(tmp_path):
    m = Machine(tmp_path)
    r = m.run("--dry-run")
    assert r.returncode == 0, r.stderr
    assert m.apt_calls() == []
    for pkg in ("dataset-fashion-mnist", "make", "chromium", "nodejs", "npm"):
        assert f"would install {pkg}" in r.stdout
    assert m.run("--bogus").returncode == 2


def test_ci_and_readme_use_the_script():
    assert "tools/system_packages.sh" in (ROOT / ".ci" / "run").read_text()
    assert "tools/system_packages.sh" in (ROOT / "README.md").read_text()
