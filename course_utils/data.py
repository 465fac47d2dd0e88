"""MNIST, Fashion-MNIST and Omniglot as preloaded uint8 tensors, with fast batch iterators.

Every dataset comes back as an ``ImageData``: all images in memory as ``(N, 1, H, W)`` uint8
(0 = background, 255 = ink, for all three datasets) and float batches in [0, 1] made on the fly.
A per-item ``Dataset`` with PIL transforms is about 30x slower on a laptop CPU.

Files are looked for under the data folder (``$COURSE_DATA``, see ``course_utils.config``) in
torchvision's layout, and downloaded with torchvision when missing and online:

    <data>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
    <data>/FashionMNIST/raw/...same names...     (or Debian's /usr/share/datasets/fashion-mnist/)
    <data>/omniglot-py/images_{background,evaluation}.zip

Every file is checked before use: MNIST and Fashion-MNIST against the known md5 of the original
``.gz`` or of its decompressed content; Omniglot zips by their CRCs and by the expected counts
(964 background + 659 evaluation characters, 20 drawings each).
``COURSE_DOWNLOAD=0`` turns downloading off.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import zipfile
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F

from course_utils import config, storage

DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


class DataMissingError(FileNotFoundError):
    """A dataset's files are not in the data folder and could not be downloaded."""


class DataCorruptedError(RuntimeError):
    """A dataset file is present but damaged or incomplete."""


class DataUnreadableError(PermissionError):
    """A dataset folder or file exists but this user may not read it."""


def _unreadable(path: Path, err: OSError) -> DataUnreadableError:
    return DataUnreadableError(
        f"Cannot read {path} ({err.strerror or type(err).__name__}). Fix: make it readable "
        f"(e.g. `chmod -R u+rX {path}`), or set COURSE_DATA to a folder you can read; then rerun this cell."
    )


def _is_file(path: Path, unreadable: list[tuple[Path, OSError]] | None = None) -> bool:
    """``path.is_file()`` that does not raise: a folder we may not enter counts as "not here",
    and is remembered in ``unreadable`` so the final message can name it."""
    try:
        return path.is_file()
    except OSError as err:  # Python >= 3.8 raises PermissionError from is_file() for EACCES
        if unreadable is not None:
            unreadable.append((path.parent, err))
        return False


def _check_root(root: Path) -> None:
    """COURSE_DATA must be a folder (or not exist yet); a regular file there is a setting error."""
    try:
        is_file = root.is_file()
    except OSError:
        return
    if is_file:
        raise DataMissingError(
            f"The data folder {root} is a file, not a folder. Fix: set COURSE_DATA to a folder "
            "(see README.md, 'Data'), then rerun this cell."
        )


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except PermissionError as err:
        raise _unreadable(path, err) from err


# ---------------------------------------------------------------------------------------------
# The container


@dataclass
class ImageData:
    """Images and labels held in memory.

    images: ``(N, 1, H, W)`` uint8, 0 = background, 255 = ink.
    labels: ``(N,)`` int64 class index (for Omniglot: the character, numbered within the split).
    classes: the name of each class index.
    Omniglot only: ``alphabet`` and ``drawer``, ``(N,)`` int64, and ``alphabets``, the alphabet names.
    """

    name: str
    images: torch.Tensor
    labels: torch.Tensor
    classes: list[str]
    alphabet: torch.Tensor | None = None
    drawer: torch.Tensor | None = None
    alphabets: list[str] | None = None

    def __len__(self) -> int:
        return self.images.shape[0]

    def __repr__(self) -> str:
        n, c, h, w = self.images.shape
        return f"ImageData({self.name!r}, {n} images of {c}x{h}x{w}, {len(self.classes)} classes)"

    @property
    def character(self) -> torch.Tensor:
        """Omniglot's name for ``labels``: the character index within the split."""
        return self.labels

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])

    def subset(self, index) -> "ImageData":
        """The images at ``index`` (a tensor of indices or a boolean mask), with their labels."""
        index = torch.as_tensor(index)
        picked = {
            f.name: getattr(self, f.name)[index]
            for f in fields(self)
            if isinstance(getattr(self, f.name), torch.Tensor)
        }
        return replace(self, **picked)

    def batch(self, index, device="cpu") -> tuple[torch.Tensor, torch.Tensor]:
        """``(x, y)`` for ``index``: x ``(B, 1, H, W)`` float32 in [0, 1] on ``device``, y ``(B,)``."""
        index = torch.as_tensor(index)
        x = self.images[index].to(device, non_blocking=True).float().div_(255.0)
        return x, self.labels[index].to(device, non_blocking=True)

    def batches(
        self,
        batch_size: int,
        generator: torch.Generator | None = None,
        device="cpu",
        shuffle: bool = True,
        drop_last: bool = False,
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """One epoch of ``(x, y)`` batches, shuffled with ``generator`` (see ``batch``)."""
        n = len(self)
        order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
        stop = n - n % batch_size if drop_last else n
        for start in range(0, stop, batch_size):
            yield self.batch(order[start : start + batch_size], device)

    def sample(self, batch_size: int, generator: torch.Generator | None = None, device="cpu"):
        """A batch drawn uniformly at random (with replacement), for step-based training loops."""
        return self.batch(torch.randint(len(self), (batch_size,), generator=generator), device)


def random_affine(x: torch.Tensor, generator: torch.Generator | None = None, rotate: float = 10.0,
                  shear: float = 0.3, scale: tuple[float, float] = (0.8, 1.2), translate: float = 0.08) -> torch.Tensor:
    """Small random affine distortions of a batch, as Koch et al. (2015, section 3.3) used.

    x: ``(B, C, H, W)`` float. Each image gets its own rotation in +-``rotate`` degrees, shear in
    +-``shear``, scale per axis in ``scale`` and shift in +-``translate`` (fraction of half the
    width). Done with one ``affine_grid`` / ``grid_sample`` on the whole batch, on x's device.
    """
    b = x.shape[0]

    def uniform(low, high, *shape):
        return low + (high - low) * torch.rand(b, *shape, generator=generator)

    angle = uniform(-rotate, rotate) * torch.pi / 180
    rho = uniform(-shear, shear)
    sx, sy = uniform(*scale), uniform(*scale)
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0] = torch.cos(angle) / sx
    theta[:, 0, 1] = (rho - torch.sin(angle)) / sx
    theta[:, 1, 0] = torch.sin(angle) / sy
    theta[:, 1, 1] = torch.cos(angle) / sy
    theta[:, :, 2] = uniform(-translate, translate, 2)
    grid = F.affine_grid(theta.to(x.device, x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")


def class_means(images: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Mean image of each class (the reference for notebook 00's exercise).

    images: ``(N, 1, H, W)`` float; labels: ``(N,)`` int64 in ``[0, num_classes)``.
    Returns ``(num_classes, 1, H, W)``; a class with no image gets zeros.
    """
    flat = images.reshape(images.shape[0], -1)
    sums = torch.zeros(num_classes, flat.shape[1], dtype=flat.dtype, device=flat.device)
    sums.index_add_(0, labels, flat)
    counts = torch.bincount(labels, minlength=num_classes).clamp(min=1).to(flat.dtype)
    return (sums / counts[:, None]).reshape(num_classes, *images.shape[1:])


def stacked(images: torch.Tensor, labels: torch.Tensor, n: int, channels: int = 3,
            generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Stacked MNIST (Metz et al. 2017; Srivastava et al. 2017): ``n`` images whose ``channels``
    channels are independent random images of ``images`` ``(N, 1, H, W)``, so that with 10
    classes there are 10 ** channels modes (1,000 for three). Returns the images
    ``(n, channels, H, W)`` and the class of each channel, ``(n, channels)`` int64."""
    if images.dim() != 4 or images.shape[1] != 1:
        raise ValueError(f"images must have shape (N, 1, H, W), got {tuple(images.shape)}")
    index = torch.randint(len(images), (n, channels), generator=generator).to(images.device)
    return images[index.reshape(-1)].reshape(n, channels, *images.shape[2:]), labels.to(images.device)[index]


# ---------------------------------------------------------------------------------------------
# MNIST and Fashion-MNIST: idx files

# Known md5 of each file: as distributed (.gz) and decompressed. The decompressed md5 lets a
# re-compressed copy (Debian's Fashion-MNIST, a hand-gunzipped folder) pass the same check.
_IDX_MD5 = {
    "MNIST": {
        "train-images-idx3-ubyte": ("f68b3c2dcbeaaa9fbdd348bbdeb94873", "6bbc9ace898e44ae57da46a324031adb"),
        "train-labels-idx1-ubyte": ("d53e105ee54ea40749a09fcbcd1e9432", "a25bea736e30d166cdddb491f175f624"),
        "t10k-images-idx3-ubyte": ("9fb629c4189551a2d022fa330f9573f3", "2646ac647ad5339dbf082846283269ea"),
        "t10k-labels-idx1-ubyte": ("ec29112dd5afa0611ce80d1b7f02629c", "27ae3e4e09519cfbb04c329615203637"),
    },
    "FashionMNIST": {
        "train-images-idx3-ubyte": ("8d4fb7e6c68d591d4c3dfef9ec88bf0d", "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
        "train-labels-idx1-ubyte": ("25c81989df183df01b3e8a0aad5dffbe", "9018921c3c673c538a1fc5bad174d6f9"),
        "t10k-images-idx3-ubyte": ("bef4ecab320f06d8554ea6380940ec79", "8181f5470baa50b63fa0f6fddb340f0a"),
        "t10k-labels-idx1-ubyte": ("bb300cfdad3c16e7a12a480ee83cd310", "15d484375f8d13e6eb1aabb0c3f46965"),
    },
}
_IDX_COUNT = {"train": 60000, "test": 10000}
_IDX_PREFIX = {"train": "train", "test": "t10k"}
MNIST_CLASSES = [str(d) for d in range(10)]
FASHION_MNIST_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip


def _download_enabled(download: bool | None) -> bool:
    if download is not None:
        return download
    return config.env_flag("COURSE_DOWNLOAD", True)


def _idx_candidates(dataset: str, root: Path) -> list[Path]:
    folders = [root / dataset / "raw"]
    if dataset == "FashionMNIST":
        folders.append(DEBIAN_FASHION_MNIST)
    return folders


def _find_idx_folder(dataset: str, root: Path, unreadable: list | None = None) -> Path | None:
    """The first folder holding all four files (each as .gz or decompressed).

    A folder that cannot be read is skipped (the next candidate, e.g. Debian's Fashion-MNIST,
    is still tried) and appended to ``unreadable`` as ``(folder, error)``.
    """
    for folder in _idx_candidates(dataset, root):
        if all(
            _is_file(folder / f"{stem}.gz", unreadable) or _is_file(folder / stem, unreadable)
            for stem in _IDX_MD5[dataset]
        ):
            return folder
    return None


def _read_idx(path: Path, dataset: str, stem: str) -> np.ndarray:
    """Read and check one idx file; returns the array (uint8)."""
    raw = _read_bytes(path)
    md5_gz, md5_content = _IDX_MD5[dataset][stem]
    try:
        content = gzip.decompress(raw) if path.suffix == ".gz" else raw
    except (OSError, EOFError) as err:
        raise DataCorruptedError(
            f"{path} is not a readable gzip file ({err}). Delete it and copy a fresh one "
            f"(or let torchvision download it)."
        ) from err
    if hashlib.md5(raw).hexdigest() != md5_gz and hashlib.md5(content).hexdigest() != md5_content:
        raise DataCorruptedError(
            f"{path} does not match the known {dataset} file (md5 differs): it is corrupted or "
            "truncated. Delete it and copy a fresh one (or let torchvision download it)."
        )
    ndim = content[3]
    dims = np.frombuffer(content, dtype=">i4", count=ndim, offset=4)
    return np.frombuffer(content, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _torchvision_download(dataset: str, root: Path, **kwargs) -> None:
    import torchvision.datasets as tvd

    getattr(tvd, dataset)(str(root), download=True, **kwargs)


def _missing(what: str, where: str, err: BaseException | None) -> DataMissingError:
    why = f"The download failed ({type(err).__name__}: {err}); are you offline? " if err else ""
    return DataMissingError(
        f"{what} not found. {why}Fix: put {where}, or set COURSE_DATA to a folder that has them "
        "(see README.md, 'Data'), then rerun this cell."
    )


def _load_idx_dataset(dataset: str, split: str, root, download) -> tuple[torch.Tensor, torch.Tensor]:
    if split not in _IDX_COUNT:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    root = Path(root) if root is not None else config.data_dir()
    _check_root(root)
    unreadable: list[tuple[Path, OSError]] = []
    folder = _find_idx_folder(dataset, root, unreadable)
    if folder is None:
        if unreadable:
            raise _unreadable(*unreadable[0])
        err = None
        if _download_enabled(download):
            try:
                _torchvision_download(dataset, root)
            except Exception as e:  # noqa: BLE001 - any failure means "not downloadable here"
                err = e
        folder = _find_idx_folder(dataset, root, unreadable)
        if folder is None:
            if unreadable:
                raise _unreadable(*unreadable[0])
            names = ", ".join(f"{stem}.gz" for stem in _IDX_MD5[dataset])
            raise _missing(dataset, f"the four files {names} in {root / dataset / 'raw'}", err)
    arrays = []
    for kind in ("images", "labels"):
        stem = f"{_IDX_PREFIX[split]}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"
        path = folder / f"{stem}.gz"
        path = path if _is_file(path) else folder / stem
        arrays.append(_read_idx(path, dataset, stem))
    images, labels = arrays
    if images.shape != (_IDX_COUNT[split], 28, 28) or labels.shape != (_IDX_COUNT[split],):
        raise DataCorruptedError(f"{dataset} {split} in {folder} has unexpected shape {images.shape}")
    images = torch.from_numpy(images.copy()).unsqueeze(1)
    return images, torch.from_numpy(labels.astype(np.int64))


def mnist(split: str = "train", root=None, download: bool | None = None) -> ImageData:
    """MNIST ``train`` (60,000) or ``test`` (10,000) split as ``ImageData`` of ``(N, 1, 28, 28)``."""
    images, labels = _load_idx_dataset("MNIST", split, root, download)
    return ImageData(f"MNIST-{split}", images, labels, list(MNIST_CLASSES))


def fashion_mnist(split: str = "train", root=None, download: bool | None = None) -> ImageData:
    """Fashion-MNIST ``train`` or ``test``; Debian's package folder is used when present."""
    images, labels = _load_idx_dataset("FashionMNIST", split, root, download)
    return ImageData(f"FashionMNIST-{split}", images, labels, list(FASHION_MNIST_CLASSES))


# ---------------------------------------------------------------------------------------------
# Omniglot: read the zips ourselves (torchvision's class rejects any zip but the original bytes)

OMNIGLOT_SPLITS = {
    # split: (alphabets, characters)
    "background": (30, 964),
    "evaluation": (20, 659),
}
OMNIGLOT_DRAWERS = 20
OMNIGLOT_SIZE = 105


def _omniglot_zip(root: Path, split: str) -> Path:
    return root / "omniglot-py" / f"images_{split}.zip"


def _decode_omniglot_zip(path: Path, split: str) -> dict[str, np.ndarray]:
    """Decode every PNG; check CRCs and counts. Returns packed ink bits and the indices."""
    from PIL import Image

    n_alphabets, n_characters = OMNIGLOT_SPLITS[split]
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as err:
        raise DataCorruptedError(f"{path} is not a readable zip ({err}). Delete it and copy a fresh one.") from err
    with archive:
        names = sorted(n for n in archive.namelist() if n.endswith(".png"))
        keys = [n.split("/")[-3:] for n in names]  # alphabet, characterNN, ID_DD.png
        alphabets = sorted({k[0] for k in keys})
        characters = sorted({(k[0], k[1]) for k in keys})
        if (len(alphabets) != n_alphabets or len(characters) != n_characters
                or len(names) != n_characters * OMNIGLOT_DRAWERS):
            raise DataCorruptedError(
                f"{path} is incomplete: expected {n_alphabets} alphabets, {n_characters} characters and "
                f"{n_characters * OMNIGLOT_DRAWERS} drawings, found {len(alphabets)}, {len(characters)} "
                f"and {len(names)}. Replace it with a complete copy."
            )
        char_index = {c: i for i, c in enumerate(characters)}
        alpha_index = {a: i for i, a in enumerate(alphabets)}
        ink = np.empty((len(names), OMNIGLOT_SIZE, OMNIGLOT_SIZE), dtype=bool)
        for i, name in enumerate(names):
            try:
                png = archive.read(name)  # checks the member's CRC-32
                ink[i] = ~np.asarray(Image.open(io.BytesIO(png)).convert("1"), dtype=bool)
            except Exception as err:  # noqa: BLE001 - bad CRC, bad PNG, wrong size
                raise DataCorruptedError(
                    f"{path}: member {name} is damaged ({err}). Replace the zip with a fresh copy."
                ) from err
    return {
        "bits": np.packbits(ink.reshape(len(names), -1), axis=1),
        "labels": np.array([char_index[(k[0], k[1])] for k in keys], dtype=np.int64),
        "alphabet": np.array([alpha_index[k[0]] for k in keys], dtype=np.int64),
        "drawer": np.array([int(k[2].split("_")[1].split(".")[0]) - 1 for k in keys], dtype=np.int64),
        "alphabets": np.array(alphabets),
        "classes": np.array([f"{a}/{c}" for a, c in characters]),
    }


def _omniglot_arrays(path: Path, split: str) -> dict[str, np.ndarray]:
    """Decoded arrays, cached next to the zip (keyed by its md5) when that folder is writable."""
    digest = hashlib.md5(_read_bytes(path)).hexdigest()
    cache = path.parent / ".cache" / f"{path.stem}-{digest[:16]}.npz"
    if _is_file(cache):
        try:
            with np.load(cache, allow_pickle=False) as f:
                return dict(f)
        except Exception:  # noqa: BLE001 - empty (EOFError), truncated, unreadable: rebuilt below
            pass
    arrays = _decode_omniglot_zip(path, split)
    try:
        # atomic and fsynced: a half-written or empty cache is never read
        storage.atomic_write(cache, lambda f: np.savez(f, **arrays))
    except OSError:
        pass  # read-only data folder: decode again next time
    return arrays


def resize(images: torch.Tensor, size: int, chunk: int = 2048) -> torch.Tensor:
    """Anti-aliased bilinear resize of uint8 ``(N, 1, H, W)`` images to ``(N, 1, size, size)`` uint8,
    rounded like a PIL image, in chunks to bound memory."""
    out = torch.empty(images.shape[0], 1, size, size, dtype=torch.uint8)
    for start in range(0, images.shape[0], chunk):
        x = images[start : start + chunk].float()
        y = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        out[start : start + chunk] = y.round_().clamp_(0, 255).to(torch.uint8)
    return out


def omniglot(split: str = "background", size: int = OMNIGLOT_SIZE, root=None,
             download: bool | None = None) -> ImageData:
    """Omniglot ``background`` (30 alphabets, 964 characters) or ``evaluation`` (20, 659) split.

    Returns ``ImageData`` with images ``(N, 1, size, size)`` uint8 (ink = 255; ``size`` 105 is the
    original resolution), ``labels`` = character index, ``alphabet`` and ``drawer`` (0-19) indices.
    """
    if split not in OMNIGLOT_SPLITS:
        raise ValueError(f"split must be 'background' or 'evaluation', got {split!r}")
    root = Path(root) if root is not None else config.data_dir()
    _check_root(root)
    path = _omniglot_zip(root, split)
    unreadable: list[tuple[Path, OSError]] = []
    if not _is_file(path, unreadable):
        if unreadable:
            raise _unreadable(*unreadable[0])
        err = None
        if _download_enabled(download):
            try:
                _torchvision_download("Omniglot", root, background=(split == "background"))
            except Exception as e:  # noqa: BLE001
                err = e
        if not _is_file(path, unreadable):
            if unreadable:
                raise _unreadable(*unreadable[0])
            raise _missing(f"Omniglot ({split})", f"images_{split}.zip in {path.parent}", err)
    arrays = _omniglot_arrays(path, split)
    n = arrays["bits"].shape[0]
    ink = np.unpackbits(arrays["bits"], axis=1, count=OMNIGLOT_SIZE * OMNIGLOT_SIZE)
    images = torch.from_numpy(ink).view(n, 1, OMNIGLOT_SIZE, OMNIGLOT_SIZE).mul_(255)
    if size != OMNIGLOT_SIZE:
        images = resize(images, size)
    return ImageData(
        name=f"Omniglot-{split}",
        images=images,
        labels=torch.from_numpy(arrays["labels"]),
        classes=[str(c) for c in arrays["classes"]],
        alphabet=torch.from_numpy(arrays["alphabet"]),
        drawer=torch.from_numpy(arrays["drawer"]),
        alphabets=[str(a) for a in arrays["alphabets"]],
    )


# ---------------------------------------------------------------------------------------------
# What is there


def status(root=None) -> list[dict[str, str]]:
    """One row per dataset: ``dataset``, ``found`` ("yes"/"no"), ``where`` (folder or fix).

    Never raises for a bad data folder: an unreadable folder or a COURSE_DATA that is a file
    is reported in ``where``.
    """
    root = Path(root) if root is not None else config.data_dir()
    root_is_file = _is_file(root)

    def fix(default: str, unreadable) -> str:
        if root_is_file:
            return f"COURSE_DATA ({root}) is a file, not a folder: point it at a folder"
        if unreadable:
            folder, err = unreadable[0]
            return f"cannot read {folder} ({err.strerror or type(err).__name__}): make it readable or move COURSE_DATA"
        return default

    rows = []
    for dataset in ("MNIST", "FashionMNIST"):
        unreadable: list = []
        folder = _find_idx_folder(dataset, root, unreadable)
        rows.append(
            {
                "dataset": dataset,
                "found": "yes" if folder else "no",
                "where": str(folder) if folder else fix(f"put the four *-ubyte.gz files in {root / dataset / 'raw'}",
                                                        unreadable),
            }
        )
    for split in OMNIGLOT_SPLITS:
        path = _omniglot_zip(root, split)
        unreadable = []
        found = _is_file(path, unreadable)
        rows.append(
            {
                "dataset": f"Omniglot {split}",
                "found": "yes" if found else "no",
                "where": str(path) if found else fix(f"put images_{split}.zip in {path.parent}", unreadable),
            }
        )
    return rows
