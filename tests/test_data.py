"""Data loaders: real files (from the data folder) and every bad input we promise a clear message for."""

import gzip
import shutil
import urllib.error
import zipfile
from pathlib import Path

import pytest
import torch

from course_utils import data

MNIST_FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


# ------------------------------------------------------------------ real data


def test_mnist_matches_the_published_counts(data_root):
    train, test = data.mnist("train", root=data_root), data.mnist("test", root=data_root)
    assert train.images.shape == (60000, 1, 28, 28) and train.images.dtype == torch.uint8
    assert test.images.shape == (10000, 1, 28, 28)
    assert torch.bincount(train.labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert torch.bincount(test.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert abs(train.images.float().mean().item() / 255 - 0.1307) < 1e-3


def test_fashion_mnist_is_balanced(data_root):
    train, test = data.fashion_mnist("train", root=data_root), data.fashion_mnist("test", root=data_root)
    assert train.images.shape == (60000, 1, 28, 28) and test.images.shape == (10000, 1, 28, 28)
    assert torch.bincount(train.labels).tolist() == [6000] * 10
    assert torch.bincount(test.labels).tolist() == [1000] * 10
    assert train.classes[9] == "Ankle boot"


@pytest.mark.slow
@pytest.mark.parametrize("split, alphabets, characters", [("background", 30, 964), ("evaluation", 20, 659)])
def test_omniglot_splits_keep_alphabet_character_drawer(data_root, split, alphabets, characters):
    d = data.omniglot(split, root=data_root)
    assert d.images.shape == (characters * 20, 1, 105, 105) and d.images.dtype == torch.uint8
    assert set(d.images.unique().tolist()) == {0, 255}
    assert 0.05 < d.images.float().mean().item() / 255 < 0.12  # ink is the minority
    assert len(d.alphabets) == alphabets and len(d.classes) == characters
    assert torch.bincount(d.labels).tolist() == [20] * characters
    assert torch.bincount(d.drawer).tolist() == [characters] * 20
    assert d.character is d.labels
    # a character belongs to exactly one alphabet, and its name starts with that alphabet
    for k in (0, characters // 2, characters - 1):
        owners = d.alphabet[d.labels == k].unique()
        assert owners.numel() == 1 and d.classes[k].startswith(d.alphabets[owners.item()] + "/")


def test_omniglot_splits_do_not_share_alphabets(data_root):
    bg, ev = data.omniglot("background", root=data_root), data.omniglot("evaluation", root=data_root)
    assert not set(bg.alphabets) & set(ev.alphabets)


def test_omniglot_resize_and_cache(data_root):
    full = data.omniglot("evaluation", root=data_root)
    small = data.omniglot("evaluation", size=28, root=data_root)
    assert small.images.shape == (13180, 1, 28, 28)
    assert torch.equal(small.labels, full.labels) and torch.equal(small.drawer, full.drawer)
    # resizing keeps the amount of ink (up to rounding)
    assert abs(small.images.float().mean() - full.images.float().mean()) < 2.0
    assert list((data_root / "omniglot-py" / ".cache").glob("images_evaluation-*.npz"))
    assert torch.equal(data.omniglot("evaluation", root=data_root).images, full.images)


def test_status_lists_every_dataset(data_root):
    rows = data.status(data_root)
    assert [r["dataset"] for r in rows] == ["MNIST", "FashionMNIST", "Omniglot background", "Omniglot evaluation"]
    assert all(r["found"] == "yes" for r in rows)


# ------------------------------------------------------------------ missing data


def test_missing_mnist_offline_says_which_files_where(tmp_path):
    with pytest.raises(data.DataMissingError) as err:
        data.mnist("train", root=tmp_path, download=False)
    msg = str(err.value)
    assert str(tmp_path / "MNIST" / "raw") in msg and "train-images-idx3-ubyte.gz" in msg and "COURSE_DATA" in msg
    assert data.status(tmp_path)[0]["found"] == "no"


def test_missing_fashion_mnist_when_debian_package_absent(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", tmp_path / "nowhere")
    with pytest.raises(data.DataMissingError, match="FashionMNIST"):
        data.fashion_mnist("test", root=tmp_path, download=False)


def test_missing_omniglot_offline(tmp_path):
    with pytest.raises(data.DataMissingError, match="images_evaluation.zip"):
        data.omniglot("evaluation", root=tmp_path, download=False)


def test_failed_download_is_reported_with_the_fix(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(data, "_torchvision_download", offline)
    with pytest.raises(data.DataMissingError, match="download failed.*URLError.*Fix: put"):
        data.mnist("test", root=tmp_path, download=True)
    monkeypatch.setenv("COURSE_DOWNLOAD", "1")
    with pytest.raises(data.DataMissingError, match="download failed"):
        data.omniglot("background", root=tmp_path)


def test_download_fills_the_data_folder(tmp_path, monkeypatch, data_root):
    """Online, torchvision writes into <root>/MNIST/raw; the loader then reads from there."""
    calls = []

    def fake_download(dataset, root, **kwargs):
        calls.append(dataset)
        (root / "MNIST" / "raw").mkdir(parents=True)
        for name in MNIST_FILES:
            shutil.copy(data_root / "MNIST" / "raw" / name, root / "MNIST" / "raw" / name)

    monkeypatch.setattr(data, "_torchvision_download", fake_download)
    assert len(data.mnist("test", root=tmp_path, download=True)) == 10000
    assert len(data.mnist("train", root=tmp_path, download=True)) == 60000
    assert calls == ["MNIST"]  # the second call found the files


def test_download_can_be_turned_off_by_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DOWNLOAD", "0")
    monkeypatch.setattr(data, "_torchvision_download", lambda *a, **k: pytest.fail("tried to download"))
    with pytest.raises(data.DataMissingError):
        data.mnist("test", root=tmp_path)


def test_unknown_split_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="'train' or 'test'"):
        data.mnist("valid", root=tmp_path)
    with pytest.raises(ValueError, match="'background' or 'evaluation'"):
        data.omniglot("train", root=tmp_path)


# ------------------------------------------------------------------ corrupted data


@pytest.fixture()
def mnist_copy(tmp_path, data_root):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in MNIST_FILES:
        shutil.copy(data_root / "MNIST" / "raw" / name, raw / name)
    return raw


def test_truncated_mnist_file_is_named(tmp_path, mnist_copy):
    path = mnist_copy / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[: 100_000])
    with pytest.raises(data.DataCorruptedError, match="t10k-images-idx3-ubyte.gz"):
        data.mnist("test", root=tmp_path, download=False)


def test_changed_pixel_fails_the_checksum(tmp_path, mnist_copy):
    path = mnist_copy / "t10k-images-idx3-ubyte.gz"
    content = bytearray(gzip.decompress(path.read_bytes()))
    content[5000] ^= 0xFF
    path.write_bytes(gzip.compress(bytes(content)))
    with pytest.raises(data.DataCorruptedError, match="md5 differs"):
        data.mnist("test", root=tmp_path, download=False)


def test_recompressed_or_decompressed_files_are_accepted(tmp_path, mnist_copy):
    """Same content, other gzip bytes (e.g. Debian's repack) or already gunzipped: both pass."""
    images = mnist_copy / "t10k-images-idx3-ubyte.gz"
    images.write_bytes(gzip.compress(gzip.decompress(images.read_bytes()), compresslevel=1))
    labels = mnist_copy / "t10k-labels-idx1-ubyte.gz"
    (mnist_copy / "t10k-labels-idx1-ubyte").write_bytes(gzip.decompress(labels.read_bytes()))
    labels.unlink()
    assert len(data.mnist("test", root=tmp_path, download=False)) == 10000


@pytest.fixture()
def omniglot_copy(tmp_path, data_root):
    folder = tmp_path / "omniglot-py"
    folder.mkdir()
    return shutil.copy(data_root / "omniglot-py" / "images_evaluation.zip", folder / "images_evaluation.zip")


def test_damaged_omniglot_member_is_named(tmp_path, omniglot_copy):
    path = Path(omniglot_copy)
    with zipfile.ZipFile(path) as z:
        info = [i for i in z.infolist() if i.filename.endswith(".png")][100]
    raw = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + 10
    for i in range(start, start + 8):
        raw[i] ^= 0x5A  # inside the member's compressed bytes: its CRC-32 no longer matches
    path.write_bytes(bytes(raw))
    with pytest.raises(data.DataCorruptedError, match=info.filename.replace("(", r"\(").replace(")", r"\)")):
        data.omniglot("evaluation", root=tmp_path, download=False)


def test_incomplete_omniglot_zip_is_reported(tmp_path, omniglot_copy):
    path = Path(omniglot_copy)
    smaller = path.with_name("smaller.zip")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(smaller, "w") as dst:
        for info in src.infolist()[:-40]:  # the last two characters are missing
            dst.writestr(info, src.read(info))
    smaller.replace(path)
    with pytest.raises(data.DataCorruptedError, match="incomplete: expected 20 alphabets, 659 characters"):
        data.omniglot("evaluation", root=tmp_path, download=False)


def test_not_a_zip(tmp_path, omniglot_copy):
    Path(omniglot_copy).write_bytes(b"<html>proxy error</html>")
    with pytest.raises(data.DataCorruptedError, match="not a readable zip"):
        data.omniglot("evaluation", root=tmp_path, download=False)


# ------------------------------------------------------------------ batches


def _toy(n=10):
    images = torch.arange(n, dtype=torch.uint8).view(n, 1, 1, 1).expand(n, 1, 2, 2).clone() * 20
    return data.ImageData("toy", images, torch.arange(n) % 3, ["a", "b", "c"],
                          alphabet=torch.arange(n) // 5, drawer=torch.arange(n) % 5, alphabets=["x", "y"])


def test_an_epoch_visits_every_image_once():
    toy = _toy(10)
    g = torch.Generator().manual_seed(0)
    seen = torch.cat([x[:, 0, 0, 0] for x, _ in toy.batches(3, generator=g)])
    assert sorted((seen * 255 / 20).round().long().tolist()) == list(range(10))
    assert [len(y) for _, y in toy.batches(3, generator=g, drop_last=True)] == [3, 3, 3]
    ordered = [y.tolist() for _, y in toy.batches(4, shuffle=False)]
    assert ordered == [[0, 1, 2, 0], [1, 2, 0, 1], [2, 0]]


def test_batches_are_float_in_unit_interval_and_labels_match():
    toy = _toy(10)
    x, y = toy.batch(torch.tensor([9, 1]))
    assert x.dtype == torch.float32 and x.shape == (2, 1, 2, 2)
    assert torch.allclose(x[:, 0, 0, 0], torch.tensor([180 / 255, 20 / 255]))
    assert y.tolist() == [0, 1]
    xs, ys = toy.sample(64, torch.Generator().manual_seed(1))
    assert xs.shape == (64, 1, 2, 2) and 0 <= xs.min() and xs.max() <= 1
    assert torch.equal(ys, (xs[:, 0, 0, 0] * 255 / 20).round().long() % 3)


def test_subset_keeps_every_index_aligned():
    toy = _toy(10)
    sub = toy.subset(toy.alphabet == 1)
    assert len(sub) == 5 and sub.drawer.tolist() == [0, 1, 2, 3, 4]
    assert sub.labels.tolist() == [2, 0, 1, 2, 0] and sub.alphabets == ["x", "y"]
    assert len(toy) == 10  # the original is untouched


def test_class_means_reference_against_a_loop():
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(40, 1, 3, 3, generator=g), torch.randint(0, 4, (40,), generator=g)
    y[y == 2] = 1  # class 2 is empty
    means = data.class_means(x, y, 5)
    for k in range(5):
        expected = x[y == k].mean(0) if (y == k).any() else torch.zeros(1, 3, 3)
        assert torch.allclose(means[k], expected, atol=1e-6)


# ------------------------------------------------------------------ unreadable folders, bad settings


def _deny(monkeypatch, folder: Path):
    """Make ``Path.is_file`` / ``read_bytes`` under ``folder`` raise EACCES, as a folder without
    read / search permission does for a normal user (root ignores permissions, so it is faked)."""
    real_is_file, real_read = Path.is_file, Path.read_bytes

    def inside(path):
        return str(path).startswith(str(folder) + "/")

    def is_file(self):
        if inside(self):
            raise PermissionError(13, "Permission denied", str(self))
        return real_is_file(self)

    def read_bytes(self):
        if inside(self):
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self)

    monkeypatch.setattr(Path, "is_file", is_file)
    monkeypatch.setattr(Path, "read_bytes", read_bytes)


def test_unreadable_mnist_folder_names_it_and_the_fix(tmp_path, monkeypatch):
    """Issue 9.5: a raw PermissionError from Path.is_file() before."""
    _deny(monkeypatch, tmp_path / "MNIST")
    monkeypatch.setattr(data, "_torchvision_download", lambda *a, **k: pytest.fail("tried to download"))
    with pytest.raises(data.DataUnreadableError,
                       match=rf"Cannot read {tmp_path / 'MNIST' / 'raw'} \(Permission denied\).*chmod.*COURSE_DATA"):
        data.mnist("test", root=tmp_path, download=True)
    row = data.status(tmp_path)[0]
    assert row["found"] == "no" and "cannot read" in row["where"]


def test_unreadable_fashion_folder_still_falls_back_to_debian(tmp_path, monkeypatch, data_root):
    """The Debian copy must still be found when <data>/FashionMNIST cannot be read."""
    debian = tmp_path / "debian"
    debian.mkdir()
    for name in MNIST_FILES:  # names are all the search looks at
        (debian / name).write_bytes(b"")
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", debian)
    _deny(monkeypatch, tmp_path / "root" / "FashionMNIST")
    assert data._find_idx_folder("FashionMNIST", tmp_path / "root", []) == debian
    rows = {r["dataset"]: r for r in data.status(tmp_path / "root")}
    assert rows["FashionMNIST"] == {"dataset": "FashionMNIST", "found": "yes", "where": str(debian)}


def test_unreadable_data_file_is_named(tmp_path, monkeypatch, mnist_copy):
    real_read = Path.read_bytes

    def read_bytes(self):
        if self.name == "t10k-images-idx3-ubyte.gz":
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with pytest.raises(data.DataUnreadableError, match="t10k-images-idx3-ubyte.gz.*Permission denied.*chmod"):
        data.mnist("test", root=tmp_path, download=False)


def test_unreadable_omniglot_folder(tmp_path, monkeypatch):
    _deny(monkeypatch, tmp_path / "omniglot-py")
    with pytest.raises(data.DataUnreadableError, match="omniglot-py.*Permission denied"):
        data.omniglot("evaluation", root=tmp_path, download=False)
    rows = {r["dataset"]: r for r in data.status(tmp_path)}
    assert "cannot read" in rows["Omniglot evaluation"]["where"]


def test_data_folder_that_is_a_file_is_not_blamed_on_being_offline(tmp_path, monkeypatch):
    """Issue 9.9: COURSE_DATA pointing at a regular file used to say "are you offline?"."""
    not_a_folder = tmp_path / "data.zip"
    not_a_folder.write_bytes(b"PK")
    monkeypatch.setattr(data, "_torchvision_download", lambda *a, **k: pytest.fail("tried to download"))
    for load in (data.mnist, data.fashion_mnist):
        with pytest.raises(data.DataMissingError,
                           match=rf"The data folder {not_a_folder} is a file, not a folder.*COURSE_DATA") as err:
            load("test", root=not_a_folder, download=True)
        assert "offline" not in str(err.value)
    with pytest.raises(data.DataMissingError, match="is a file, not a folder"):
        data.omniglot("evaluation", root=not_a_folder, download=True)
    rows = {r["dataset"]: r for r in data.status(not_a_folder)}
    del rows["FashionMNIST"]  # may be found in Debian's folder, whatever COURSE_DATA says
    assert all(r["found"] == "no" and "is a file, not a folder" in r["where"] for r in rows.values())


def test_empty_omniglot_cache_is_rebuilt(tmp_path, omniglot_copy):
    """Issue 9.6: an empty .npz (a crash mid-write, before writes were fsynced) raised EOFError."""
    first = data.omniglot("evaluation", root=tmp_path, download=False)
    (cache,) = (tmp_path / "omniglot-py" / ".cache").glob("images_evaluation-*.npz")
    cache.write_bytes(b"")
    again = data.omniglot("evaluation", root=tmp_path, download=False)
    assert torch.equal(again.images, first.images)
    assert cache.stat().st_size > 0  # and the cache was written again


@pytest.mark.parametrize("bad", ["2", "nope"])
def test_course_download_rejects_unknown_spellings(tmp_path, monkeypatch, bad):
    monkeypatch.setenv("COURSE_DOWNLOAD", bad)
    with pytest.raises(ValueError, match="COURSE_DOWNLOAD"):
        data.mnist("test", root=tmp_path)
