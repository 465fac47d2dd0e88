# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 00 · Setup and a tour of the course tools
#
# This first notebook checks that your machine is ready and walks once through every tool the
# eight topic notebooks use: the run configuration, the three datasets, fast batches, a widget,
# an exercise with its checker, a small training run with a checkpoint, and the results record.
#
# **Learning goals**
# - know where the data lives and how to fix a missing dataset;
# - see why the course keeps whole datasets in memory as tensors (measured, not claimed);
# - know how an exercise works: write the function, run the check cell, read its verdict;
# - train a first model with the course's loop, and see it reloaded instead of retrained.
#
# **Prerequisites**: Python and a first contact with PyTorch tensors.
#
# **Time and hardware**: a full run takes about 16 s on a 2-core Intel Xeon server CPU (no GPU needed), and
# about 14 s in FAST mode. A second run skips the training (the checkpoint is reloaded).
# A class sitting in FAST mode: about 38 min (estimated: reading at 100 words a minute, code at
# 25 lines a minute, 8 min per exercise, 4 per Think question).
#
# **What it shows**: how the course loads data, trains on CPU or GPU, checks exercises and records
# results, on a linear MNIST classifier set beside LeCun et al. (1998). The recording section at the
# end prints your numbers beside the course's recorded run.

# %% tags=["parameters"]
# FAST = True (or COURSE_FAST=1 in the environment): smaller sizes, same code and data.
FAST = False
SEED = 0
# DEVICE: "auto" (cuda, then mps, then cpu), "cpu", "cuda", "cuda:0" or "mps".
DEVICE = "auto"

# %%
import time

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from course_utils import checks, config, data, plots, results, train, widgets

cfg = config.setup(fast=FAST, seed=SEED, device=DEVICE)

# %% [markdown]
# ## 1. Your environment
#
# The line above is printed by `config.setup`, the one call at the top of every notebook. It seeds
# Python, NumPy and PyTorch, picks the device (`auto` tries CUDA, then Apple's MPS, then the CPU)
# and decides the mode. `cfg.scale(full, fast)` then picks a size for the mode, so FAST mode runs
# the *same code* on the same real data, only less of it.

# %%
import importlib.metadata as md
import platform

for package in ["torch", "torchvision", "numpy", "matplotlib", "ipywidgets", "jupyterlab", "tqdm"]:
    try:
        version = md.version(package)
    except md.PackageNotFoundError:
        version = "MISSING: run `make lab` (or `pip install -e .`) again"
    print(f"{package:12s} {version}")
print(f"{'python':12s} {platform.python_version()}")
print(f"device: {cfg.device}; CUDA available: {torch.cuda.is_available()}; CPU threads: {torch.get_num_threads()}")
print(f"data folder (COURSE_DATA): {cfg.data_dir}")
print(f"outputs (COURSE_OUTPUT):   {cfg.output_dir}")

# %% [markdown]
# ## 2. The data
#
# The course uses three real datasets: **MNIST** (handwritten digits), **Fashion-MNIST** (clothes,
# same format, harder) and **Omniglot** (1,623 handwritten characters from 50 alphabets, 20
# drawings each: the one-shot learning benchmark of notebook 01). Each is looked for in the data
# folder; online, a missing one is downloaded there by torchvision. The table says what was found and,
# for anything missing, where to put it.

# %%
for row in data.status():
    print(f"{row['dataset']:20s} {row['found']:4s} {row['where']}")

# %% [markdown]
# Every loader returns an `ImageData`: the whole split as a `(N, 1, H, W)` uint8 tensor (0 is the
# background, 255 is ink) plus integer labels. Files are checked (checksums, counts) before use,
# so a truncated download is named instead of silently training on half a dataset.

# %%
start = time.perf_counter()
mnist_train, mnist_test = data.mnist("train"), data.mnist("test")
fashion_test = data.fashion_mnist("test")
omniglot_background = data.omniglot("background")  # 105 x 105, the original resolution
omniglot_small = data.omniglot("evaluation", size=28)
load_seconds = time.perf_counter() - start
for d in (mnist_train, mnist_test, fashion_test, omniglot_background, omniglot_small):
    print(d)
print(f"loaded in {load_seconds:.1f} s")

# %%
fig, axes = plt.subplots(1, 3, figsize=(12, 4.3))
first = lambda d, n: d.images[:n]  # noqa: E731 - the first n images of a split
plots.image_grid(first(mnist_test, 36), nrow=6, ax=axes[0], title="MNIST")
plots.image_grid(first(fashion_test, 36), nrow=6, ax=axes[1], title="Fashion-MNIST")
# one drawing of 36 different characters: drawer 0 of the first 36 characters
plots.image_grid(omniglot_background.images[omniglot_background.drawer == 0][:36], nrow=6, ax=axes[2],
                 title="Omniglot (background, 105 px)")
plt.show()

# %% [markdown]
# Omniglot keeps three indices per image: the **character** (`labels`), its **alphabet**, and the
# **drawer** (which of the 20 people drew it). Here is one character as drawn by 10 different
# people, then the same character resized to 28 px, as the fast notebooks use it:

# %%
same_char = omniglot_small.labels == 5
fig, axes = plt.subplots(2, 1, figsize=(8, 2.4))
plots.image_grid(data.omniglot("evaluation").images[same_char][:10], nrow=10, ax=axes[0],
                 title=f"{omniglot_small.classes[5]}: 10 drawers at 105 px")
plots.image_grid(omniglot_small.images[same_char][:10], nrow=10, ax=axes[1], title="the same at 28 px")
plt.show()

# %% [markdown]
# ## 3. Batches: why everything is preloaded
#
# A common PyTorch pattern is a `Dataset` that turns one image at a time into a tensor with PIL
# transforms, fed through a `DataLoader`. On a laptop CPU this per-item work costs more than a
# small network's forward pass. The course instead holds the uint8 tensor in memory and makes
# float batches by indexing. Let us measure both on the same MNIST images.

# %%
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import functional as TF


class PerItemMNIST(Dataset):
    """The per-item pattern: one PIL image -> one tensor, per __getitem__ call."""

    def __init__(self, images):
        self.images = images.squeeze(1).numpy()

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return TF.to_tensor(Image.fromarray(self.images[i]))


n_batches = cfg.scale(full=100, fast=30)
batch_size = 128

start = time.perf_counter()
for i, x in enumerate(DataLoader(PerItemMNIST(mnist_train.images), batch_size=batch_size, shuffle=True)):
    if i + 1 == n_batches:
        break
per_item_rate = n_batches * batch_size / (time.perf_counter() - start)

start = time.perf_counter()
for _ in range(n_batches):
    x, y = mnist_train.sample(batch_size, cfg.generator, cfg.device)
preloaded_rate = n_batches * batch_size / (time.perf_counter() - start)

print(f"per-item Dataset + PIL: {per_item_rate:10,.0f} images/s")
print(f"preloaded tensor:       {preloaded_rate:10,.0f} images/s  ({preloaded_rate / per_item_rate:.0f}x faster)")
print(f"a batch: x {tuple(x.shape)} {x.dtype} in [{x.min():.0f}, {x.max():.0f}], y {tuple(y.shape)} {y.dtype}")

# %% [markdown]
# ## 4. A widget
#
# Instructors use widgets to move through examples live. Drag the slider to browse the Fashion-MNIST
# test set (if your Jupyter has no widget support, the grids above show the same images).

# %%
widgets.image_browser(fashion_test.images, fashion_test.labels, fashion_test.classes)

# %% [markdown]
# ## 5. An exercise and its check
#
# Exercises look like this: a function with a docstring to complete, followed by a **check cell**
# that runs your function and the course's reference on fixed inputs. The check prints
# `[passed]`, or tells you *how* your answer differs (shape, dtype, device, largest error) without
# giving the answer away, or, if you have not written it yet, says so and lets the notebook go on
# with the reference version.
#
# **Exercise 1.** Write `class_means`: the mean image of each class. With MNIST this gives the
# "average digit", which a nearest-class-mean classifier would compare against.

# %%
def class_means(images, labels, num_classes):
    """Mean image of each class.

    images: (N, 1, H, W) float; labels: (N,) int64 in [0, num_classes).
    Returns (num_classes, 1, H, W); a class with no image gets an all-zero image.
    """
    ### BEGIN SOLUTION
    means = torch.zeros(num_classes, *images.shape[1:], dtype=images.dtype, device=images.device)
    for k in range(num_classes):
        members = images[labels == k]
        if len(members) > 0:
            means[k] = members.mean(dim=0)
    return means
    ### END SOLUTION


# %%
g = torch.Generator().manual_seed(0)
cases = [
    (torch.rand(50, 1, 6, 6, generator=g), torch.randint(0, 3, (50,), generator=g), 3),
    (torch.rand(20, 1, 4, 5, generator=g), torch.randint(0, 2, (20,), generator=g), 4),  # classes 2, 3 empty
]
class_means = checks.check_exercise("class_means", class_means, cases)

# %%
x_all, y_all = mnist_train.batch(torch.arange(cfg.scale(full=60000, fast=10000)))
fx, fy = fashion_test.batch(torch.arange(len(fashion_test)))
fig, axes = plt.subplots(2, 1, figsize=(9, 2.6))
plots.image_grid(class_means(x_all, y_all, 10), nrow=10, ax=axes[0], title="mean MNIST digit per class")
plots.image_grid(class_means(fx, fy, 10), nrow=10, ax=axes[1], title="mean Fashion-MNIST item per class")
plt.show()

# %% [markdown]
# ## 6. A first training run
#
# Every later notebook trains with the same scaffolding from `course_utils.train`: you write
# `step_fn(step)`, which draws a batch, computes the loss and updates the parameters, and `train.fit`
# runs it with a progress bar, logs the metrics and stops with a clear message if the loss becomes
# NaN. `train.train_or_load` saves the trained weights under a name that depends on every setting,
# so running the notebook again reloads them instead of training again. Stopping a training cell
# half-way is safe: the model and the random generators are put back as they were, so running the
# cell again trains from the same start and saves the same weights as an uninterrupted run. That is
# why the optimiser is built inside `train_model`, and why `cfg.generator`, which draws the batches,
# is handed to `train_or_load`.
#
# The model here is the simplest classifier there is, softmax regression: logits $= W x + b$,
# trained with the cross-entropy loss.

# %%
STEPS = cfg.scale(full=3000, fast=300)
LR = 0.05
model = torch.nn.Linear(28 * 28, 10).to(cfg.device)


def train_model():
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9)

    def step_fn(step):
        x, y = mnist_train.sample(batch_size, cfg.generator, cfg.device)
        loss = F.cross_entropy(model(x.flatten(1)), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return {"loss": loss}

    return train.fit(step_fn, STEPS, log_every=20, progress=not cfg.fast, desc="softmax regression")


settings = {"steps": STEPS, "lr": LR, "batch_size": batch_size, "seed": SEED}
history = train.train_or_load("00_softmax_regression", model, train_model, settings, generators=[cfg.generator])
plots.curves({"training loss": history["loss"]}, {"training loss": history.steps["loss"]},
             title="softmax regression on MNIST")
plt.show()


# %%
@torch.no_grad()
def accuracy(model, split):
    correct = 0
    for x, y in split.batches(1000, shuffle=False, device=cfg.device):
        correct += (model(x.flatten(1)).argmax(dim=1) == y).sum().item()
    return 100.0 * correct / len(split)


test_accuracy = accuracy(model, mnist_test)
print(f"MNIST test accuracy: {test_accuracy:.2f} % (LeCun et al. 1998, linear classifier: 88.0 %)")

# %% [markdown]
# The weights of a linear classifier are images too: row $k$ of $W$ shows which pixels vote for
# digit $k$ (dark) and against it (light).

# %%
W = model.weight.detach().cpu().reshape(10, 1, 28, 28)
plots.image_grid((W - W.min()) / (W.max() - W.min()), nrow=10, title="rows of W")
plt.show()

# %% [markdown]
# ## 7. Recording the results
#
# Each notebook ends by recording its headline numbers with one call. `make benchmark` runs all the
# notebooks in full mode and gathers these records into one table (`benchmarks/RESULTS.md`).

# %%
record_file = results.record(
    "00_setup",
    {
        "MNIST test accuracy, softmax regression (%)": test_accuracy,
        "training time (s)": history.seconds,
        "batches, preloaded tensor (images/s)": preloaded_rate,
        "batches, per-item Dataset + PIL (images/s)": per_item_rate,
    },
    cfg,
    paper={"MNIST test accuracy, softmax regression (%)": 88.0},
)

# %% [markdown]
# ## Think
#
# - The preloaded batches were much faster. What would change for a dataset that does not fit in
#   memory, or for random augmentation applied per image?
# - Softmax regression beats the 1998 linear classifier. Which differences between the two set-ups
#   could explain it (loss, optimiser, preprocessing)?
# - Why does the checkpoint's file name depend on every setting, and not only on the model's name?

# %% [markdown] tags=["answers"]
# **Answers for instructors** (the solution build and the deck's speaker notes only;
# the student build leaves them out)
#
# 1. Out of memory: keep the images compact (uint8, memory-mapped shards on disk) and let
#    `DataLoader` workers read and decode them in parallel with training, so the per-item cost is
#    hidden rather than removed. Per-image random augmentation: apply it to the whole batch as
#    tensor operations (e.g. one random affine grid per image with `F.affine_grid` /
#    `F.grid_sample`), which keeps the preloaded path's speed; measure both, as section 2 did.
# 2. The loss (softmax cross-entropy here; the 1998 paper's networks were trained towards target
#    codes with a squared-error criterion), the optimiser and the number of passes over the data, and the input
#    scaling (pixels in [0, 1]). A quick check: train the same model with a squared error on
#    one-hot targets and compare the test accuracy.
# 3. So that a checkpoint trained with other settings (steps, learning rate, seed, data, FAST or
#    full mode) is never loaded silently for this run: change any setting and the model is
#    retrained instead of a stale one being reused. With the name alone, a FAST run would reuse a
#    full run's model, or the reverse.

# %% [markdown]
# ## Summary
#
# - `config.setup` seeds, picks the device and the mode; `cfg.scale` sizes things per mode.
# - `data` loads MNIST, Fashion-MNIST and Omniglot as checked in-memory tensors, with fast batches.
# - An exercise is followed by a check cell that passes, explains the difference, or falls back.
# - `train.fit` + `train.train_or_load` train once and reload afterwards; `results.record` keeps
#   the numbers.
#
# ## References
#
# - Y. LeCun, L. Bottou, Y. Bengio, P. Haffner (1998). Gradient-based learning applied to document
#   recognition. *Proc. IEEE* 86(11). (MNIST; linear classifier, 12.0 % test error.)
# - H. Xiao, K. Rasul, R. Vollgraf (2017). Fashion-MNIST: a novel image dataset for benchmarking
#   machine learning algorithms. arXiv:1708.07747.
# - B. M. Lake, R. Salakhutdinov, J. B. Tenenbaum (2015). Human-level concept learning through
#   probabilistic program induction. *Science* 350(6266). (Omniglot.)
