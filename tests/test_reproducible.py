"""Same seed, same numbers: an MNIST GAN trained in two separate processes, one of which drew
other random numbers first (as a notebook does when earlier models were trained rather than
loaded), ends with identical weights."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # trains an MNIST GAN in two processes

ROOT = Path(__file__).resolve().parent.parent

TRAIN = """
import hashlib, sys, torch
from course_utils import adversarial, data
if sys.argv[1] == "extra":
    torch.randn(7)  # what an earlier cell may or may not have drawn
x = data.mnist("train").images[:2000].float().div_(255)
recipe = adversarial.recipe("mnist-dcgan").with_(width=8, latent=16, batch=32)
nets = adversarial.build(recipe, 3)  # from its own seed
real = lambda n, g: x[torch.randint(len(x), (n,), generator=g)]
adversarial.train_gan(nets, real, recipe, 3, steps=30, progress=False)
blob = b"".join(v.numpy().tobytes() for v in nets.state_dict().values())
print(hashlib.sha256(blob).hexdigest())
"""


def _train(mode: str) -> str:
    out = subprocess.run([sys.executable, "-c", TRAIN, mode], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_two_processes_train_the_same_mnist_gan(data_root):
    assert _train("plain") == _train("extra")
