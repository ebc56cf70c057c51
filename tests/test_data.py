"""Dataset registry: offline MNIST, generated datasets, small files written here, errors."""

import itertools
import math
import pickle
import socket

import numpy as np
import pytest
import torch
from PIL import Image

from gan_zoo import data, datafiles
from gan_zoo.errors import GanZooError
from gan_zoo.data import (
    DatasetInfo,
    dataset_info,
    get_dataset,
    list_datasets,
    resolve_data_root,
)
from gan_zoo.errors import DataUnavailableError, GanZooError

# Figures from /work/shared/data/README.md (the canonical MNIST label counts).
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


# -- MNIST from the offline folder --------------------------------------------------


def test_mnist_train_split_matches_readme_figures(mnist_root):
    ds = get_dataset("mnist", root=mnist_root)
    assert ds.x.shape == (60000, 1, 28, 28) and ds.x.dtype == torch.float32
    assert ds.y.shape == (60000,) and ds.y.dtype == torch.int64
    assert ds.x.min().item() == -1.0 and ds.x.max().item() == 1.0
    assert torch.bincount(ds.y).tolist() == MNIST_TRAIN_COUNTS
    # mean pixel 33.318 / 255 = 0.1307 after undoing x / 127.5 - 1
    assert ((ds.x.mean().item() + 1) / 2) == pytest.approx(0.1307, abs=5e-4)
    assert (ds.name, ds.kind, ds.num_classes, ds.shape) == ("mnist", "image", 10, (1, 28, 28))
    assert ds.centers is None and ds.sigma is None


def test_mnist_test_split(mnist_root):
    ds = get_dataset("mnist", root=mnist_root, train=False)
    assert ds.x.shape == (10000, 1, 28, 28)
    assert torch.bincount(ds.y).tolist() == MNIST_TEST_COUNTS


def test_mnist_files_are_read_once(mnist_root):
    get_dataset("mnist", root=mnist_root, train=False, limit=5)
    hits = datafiles.read_torchvision.cache_info().hits
    a = get_dataset("mnist", root=mnist_root, train=False, limit=5)
    b = get_dataset("mnist", root=mnist_root, train=False, limit=5)
    assert datafiles.read_torchvision.cache_info().hits == hits + 2
    assert torch.equal(a.x, b.x) and a.x.data_ptr() != b.x.data_ptr()  # callers own x


def test_mnist_env_var_root(mnist_root, monkeypatch):
    monkeypatch.setenv("GAN_ZOO_DATA", str(mnist_root))
    ds = get_dataset("mnist", train=False, limit=3)
    assert ds.x.shape == (3, 1, 28, 28)


def test_limit_and_resize(mnist_root):
    full = get_dataset("mnist", root=mnist_root, train=False, limit=7)
    ds = get_dataset("mnist", root=mnist_root, train=False, limit=7, image_size=32)
    assert ds.x.shape == (7, 1, 32, 32)
    assert ds.x.min() >= -1 and ds.x.max() <= 1
    assert torch.equal(ds.y, full.y)
    # a resize keeps the picture: mean brightness moves by far less than the contrast
    assert (ds.x.mean((1, 2, 3)) - full.x.mean((1, 2, 3))).abs().max() < 0.05
    assert dataset_info("mnist", image_size=32).default_backbone == "dcgan32"
    assert dataset_info("mnist", image_size=32).shape == (1, 32, 32)


# -- stacked MNIST ------------------------------------------------------------------


def test_stacked_mnist_labels_match_channel_digits(mnist_root):
    ds = get_dataset("stacked-mnist", root=mnist_root, seed=3, limit=300)
    assert ds.x.shape == (300, 3, 28, 28) and ds.num_classes == 1000
    mnist = get_dataset("mnist", root=mnist_root)
    # look every channel up among the MNIST training images by its exact pixels
    to_bytes = lambda t: ((t + 1) * 127.5).round().to(torch.uint8).numpy().tobytes()
    digit_of = {}
    for img, label in zip(mnist.x[:, 0], mnist.y.tolist()):
        digit_of.setdefault(to_bytes(img), set()).add(label)
    for img, label in zip(ds.x, ds.y.tolist()):
        a, b, c = label // 100, (label // 10) % 10, label % 10
        for channel, digit in zip(img, (a, b, c)):
            assert digit in digit_of[to_bytes(channel)]


def test_stacked_mnist_is_fixed_by_seed(mnist_root):
    a = get_dataset("stacked-mnist", root=mnist_root, seed=1, limit=200)
    b = get_dataset("stacked-mnist", root=mnist_root, seed=1, limit=200)
    c = get_dataset("stacked-mnist", root=mnist_root, seed=2, limit=200)
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    assert not torch.equal(a.y, c.y)
    assert a.y.min() >= 0 and a.y.max() < 1000
    full = get_dataset("stacked-mnist", root=mnist_root, seed=1)
    assert full.x.shape[0] == 60000 and torch.equal(full.y[:200], a.y)  # limit keeps a prefix
    # 60000 draws from 1000 equally likely modes cover (almost surely) all of them
    assert full.y.unique().numel() == 1000


# -- 2-D mixtures -------------------------------------------------------------------


def test_mixture_centres():
    ring = data.mixture_centers("ring8")
    assert torch.allclose(ring.norm(dim=1), torch.full((8,), 2.0), atol=1e-6)
    angles = torch.atan2(ring[:, 1], ring[:, 0]) % (2 * math.pi)
    assert torch.allclose(angles.sort().values, torch.arange(8) * math.pi / 4, atol=1e-5)
    grid = data.mixture_centers("grid25")
    expected = set(itertools.product([-4.0, -2.0, 0.0, 2.0, 4.0], repeat=2))
    assert {tuple(p) for p in grid.tolist()} == expected


@pytest.mark.parametrize("name,k,sigma", [("ring8", 8, 0.02), ("grid25", 25, 0.05)])
def test_mixture_points(name, k, sigma):
    ds = get_dataset(name, seed=5)
    assert ds.x.shape == (100_000, 2) and ds.kind == "points" and ds.num_classes == k
    assert ds.sigma == sigma and ds.centers.shape == (k, 2)
    # label = index of the nearest centre, every point within 6 sigma of it
    nearest = torch.cdist(ds.x, ds.centers).argmin(dim=1)
    assert torch.equal(nearest, ds.y)
    offsets = ds.x - ds.centers[ds.y]
    assert offsets.norm(dim=1).max() < 6 * sigma
    assert offsets.std().item() == pytest.approx(sigma, rel=0.02)
    counts = torch.bincount(ds.y, minlength=k).float()
    assert counts.min() > 0.9 * counts.mean()  # modes equally weighted


@pytest.mark.parametrize("name", ["ring8", "grid25"])
def test_mixture_deterministic_per_seed_and_split(name):
    a = get_dataset(name, seed=1, limit=1000)
    b = get_dataset(name, seed=1, limit=1000)
    c = get_dataset(name, seed=2, limit=1000)
    t = get_dataset(name, seed=1, train=False)
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    assert not torch.allclose(a.x, c.x)
    assert t.x.shape == (10_000, 2) and not torch.allclose(a.x, t.x[:1000])


def test_points_reject_image_size():
    with pytest.raises(GanZooError, match="image_size"):
        get_dataset("ring8", image_size=32)


# -- offline errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    "name,cls_name,folder",
    [("mnist", "MNIST", "MNIST/raw"),
     ("fashion-mnist", "FashionMNIST", "FashionMNIST/raw"),
     ("cifar10", "CIFAR10", "cifar-10-batches-py")],
)
def test_offline_error_is_one_line_naming_the_folder(
    name, cls_name, folder, tmp_path, monkeypatch, capfd
):
    import torchvision.datasets as tvd
    from urllib.error import URLError

    calls = []

    def no_network(self):  # stands in for the download: the test never goes online
        calls.append(socket.getdefaulttimeout())
        print("Downloading https://example.invalid/file")  # torchvision-style chatter
        raise URLError("no network")

    monkeypatch.setattr(getattr(tvd, cls_name), "download", no_network)
    monkeypatch.setattr(datafiles, "can_reach", lambda cls: True)  # exercise the download path
    monkeypatch.setenv("GAN_ZOO_DATA", str(tmp_path))
    with pytest.raises(DataUnavailableError) as info:
        get_dataset(name)
    message = str(info.value)
    assert "\n" not in message
    assert str(tmp_path / folder) in message
    assert "--data-root" in message and "GAN_ZOO_DATA" in message
    assert len(calls) == 1 and calls[0] is not None and calls[0] <= 30  # bounded wait
    assert socket.getdefaulttimeout() is None  # restored afterwards
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_unreachable_hosts_skip_the_download(tmp_path, monkeypatch):
    import torchvision.datasets as tvd

    monkeypatch.setattr(tvd.MNIST, "download", lambda self: pytest.fail("download tried"))
    monkeypatch.setattr(datafiles, "can_reach", lambda cls: False)
    with pytest.raises(DataUnavailableError, match="could not be downloaded"):
        get_dataset("mnist", root=tmp_path)


def test_connectivity_check_reads_the_class_hosts(monkeypatch):
    import torchvision.datasets as tvd

    tried = []

    def refuse(address, timeout):
        tried.append((address, timeout))
        raise OSError("offline")

    monkeypatch.setattr(socket, "create_connection", refuse)
    assert datafiles.can_reach(tvd.MNIST) is False
    assert len(tried) == len(tvd.MNIST.mirrors) and all(t <= 5 for _, t in tried)
    tried.clear()
    assert datafiles.can_reach(tvd.CIFAR10) is False
    assert tried[0][0] == ("www.cs.toronto.edu", 443)


# -- Fashion-MNIST and CIFAR-10 on tiny files written here ---------------------------


def _write_idx(path, array: np.ndarray):
    """IDX: magic 0x0000 08 ndim (uint8), then each dimension as big-endian int32."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def test_fashion_mnist_from_idx_files(tmp_path, monkeypatch):
    import torchvision.datasets as tvd

    monkeypatch.setattr(tvd.FashionMNIST, "download", lambda self: pytest.fail("downloaded"))
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    split = {}
    for prefix, n in (("train", 6), ("t10k", 4)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
        split[prefix] = images, labels
    for train, prefix in ((True, "train"), (False, "t10k")):
        ds = get_dataset("fashion-mnist", root=tmp_path, train=train)
        images, labels = split[prefix]
        assert ds.x.shape == (len(images), 1, 28, 28)
        expected = torch.from_numpy(images).float().unsqueeze(1) / 127.5 - 1
        assert torch.allclose(ds.x, expected, atol=1e-6)
        assert ds.y.tolist() == labels.tolist() and ds.num_classes == 10


def test_cifar10_from_pickle_batches(tmp_path, monkeypatch):
    # torchvision verifies the md5 of every CIFAR-10 file; our tiny files cannot match,
    # so the integrity check is reduced to "file exists" for this test.
    import torchvision.datasets.cifar as tv_cifar

    monkeypatch.setattr(tv_cifar, "check_integrity", lambda path, md5=None: path_exists(path))
    monkeypatch.setattr(tv_cifar.CIFAR10, "download", lambda self: pytest.fail("downloaded"))
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(1)

    def batch(name, n):
        rows = rng.integers(0, 256, (n, 3072), dtype=np.uint8)  # R plane, G plane, B plane
        labels = rng.integers(0, 10, n).tolist()
        with open(folder / name, "wb") as f:
            pickle.dump({"data": rows, "labels": labels}, f)
        return rows, labels

    train = [batch(f"data_batch_{i}", 2) for i in range(1, 6)]
    test_rows, test_labels = batch("test_batch", 3)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": [f"class{i}" for i in range(10)]}, f)

    ds = get_dataset("cifar10", root=tmp_path)
    rows = np.concatenate([r for r, _ in train])
    assert ds.x.shape == (10, 3, 32, 32) and ds.num_classes == 10
    expected = torch.from_numpy(rows).float().reshape(10, 3, 32, 32) / 127.5 - 1
    assert torch.allclose(ds.x, expected, atol=1e-6)
    assert ds.y.tolist() == sum((lab for _, lab in train), [])
    ds_test = get_dataset("cifar10", root=tmp_path, train=False)
    assert ds_test.x.shape == (3, 3, 32, 32) and ds_test.y.tolist() == test_labels


def path_exists(path):
    import os

    return os.path.isfile(path)


# -- folder of images ---------------------------------------------------------------


def test_folder_loader_resizes_and_centre_crops(tmp_path):
    # 128x64: black quarters left and right, white centre half; a centre crop to a
    # square keeps only the white part (a squash would keep the black edges).
    wide = np.zeros((64, 128, 3), np.uint8)
    wide[:, 32:96] = 255
    Image.fromarray(wide).save(tmp_path / "a_wide.png")
    Image.new("RGB", (50, 90), (255, 0, 0)).save(tmp_path / "b_red_tall.png")
    (tmp_path / "sub").mkdir()
    Image.new("L", (20, 30), 0).save(tmp_path / "sub" / "c_gray.png")  # grey -> RGB
    Image.new("RGB", (70, 70), (0, 0, 255)).save(tmp_path / "sub" / "d_blue.jpg", quality=100)
    (tmp_path / "notes.txt").write_text("not an image")

    ds = get_dataset(f"folder:{tmp_path}")
    assert ds.x.shape == (4, 3, 64, 64) and ds.y is None and ds.num_classes == 0
    assert ds.kind == "image" and ds.x.min() >= -1 and ds.x.max() <= 1
    assert ds.x[0].min() > 0.95  # all white after the centre crop
    red = ds.x[1].mean((1, 2))
    assert red[0] > 0.99 and red[1] < -0.99 and red[2] < -0.99
    assert ds.x[2].max() == -1.0  # black grey-scale image, replicated over 3 channels
    assert ds.x[3].mean((1, 2))[2] > 0.95

    small = get_dataset(f"folder:{tmp_path}", image_size=32, limit=2)
    assert small.x.shape == (2, 3, 32, 32)
    info = dataset_info(f"folder:{tmp_path}")
    assert (info.default_backbone, info.shape) == ("dcgan64", (3, 64, 64))


def test_folder_errors(tmp_path):
    with pytest.raises(GanZooError, match="no readable images") as empty:
        get_dataset(f"folder:{tmp_path}")
    assert "\n" not in str(empty.value)
    with pytest.raises(GanZooError, match="no such folder"):
        get_dataset(f"folder:{tmp_path / 'missing'}")


# -- registry and metadata ----------------------------------------------------------


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError) as info:
        get_dataset("mnits")
    message = str(info.value)
    for name in ("mnist", "fashion-mnist", "stacked-mnist", "ring8", "grid25", "cifar10",
                 "folder:PATH"):
        assert name in message


def test_list_datasets():
    assert list_datasets() == sorted(
        ["cifar10", "fashion-mnist", "grid25", "mnist", "ring8", "ring8-pacgan", "stacked-mnist"])
    assert list_datasets("*mnist") == ["fashion-mnist", "mnist", "stacked-mnist"]


@pytest.mark.parametrize(
    "name,kind,shape,classes,backbone",
    [("mnist", "image", (1, 28, 28), 10, "dcgan28"),
     ("fashion-mnist", "image", (1, 28, 28), 10, "dcgan28"),
     ("stacked-mnist", "image", (3, 28, 28), 1000, "dcgan28"),
     ("ring8", "points", (2,), 8, "mlp"),
     ("grid25", "points", (2,), 25, "mlp"),
     ("cifar10", "image", (3, 32, 32), 10, "dcgan32")],
)
def test_dataset_info(name, kind, shape, classes, backbone):
    info = dataset_info(name)
    assert isinstance(info, DatasetInfo)
    assert (info.kind, info.shape, info.num_classes, info.default_backbone) == (
        kind, shape, classes, backbone)


def test_info_matches_loaded_data():
    for name in ("ring8", "grid25"):
        info, ds = dataset_info(name), get_dataset(name, limit=10)
        assert (ds.shape, ds.num_classes, ds.kind) == (info.shape, info.num_classes, info.kind)


def test_resolve_data_root(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_ZOO_DATA", str(tmp_path / "env"))
    assert resolve_data_root(tmp_path / "flag") == (tmp_path / "flag").resolve()
    assert resolve_data_root() == (tmp_path / "env").resolve()
    monkeypatch.delenv("GAN_ZOO_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home" / ".cache"))
    root = resolve_data_root()
    assert root.is_relative_to(tmp_path / "home") and "gan-zoo" in root.parts


# -- sampling -----------------------------------------------------------------------


def test_sample_is_deterministic_and_gathers_pairs():
    ds = get_dataset("grid25", seed=0, limit=5000)
    xa, ya = ds.sample(64, torch.Generator().manual_seed(7))
    xb, yb = ds.sample(64, torch.Generator().manual_seed(7))
    xc, _ = ds.sample(64, torch.Generator().manual_seed(8))
    assert xa.shape == (64, 2) and ya.shape == (64,) and ya.dtype == torch.int64
    assert torch.equal(xa, xb) and torch.equal(ya, yb) and not torch.equal(xa, xc)
    assert xa.device == ds.x.device
    # x and y stay paired: each sampled point's label is its nearest centre
    assert torch.equal(torch.cdist(xa, ds.centers).argmin(1), ya)


def test_sample_unlabeled_and_image(tmp_path):
    for i in range(3):
        Image.new("RGB", (64, 64), (80 * i, 0, 0)).save(tmp_path / f"{i}.png")
    ds = get_dataset(f"folder:{tmp_path}", image_size=16)
    x, y = ds.sample(5, torch.Generator().manual_seed(0))
    assert x.shape == (5, 3, 16, 16) and y is None
    # every sampled image is one of the dataset's images
    assert all(any(torch.equal(xi, d) for d in ds.x) for xi in x)


# -- dataset facts live on the info record ------------------------------------------------


@pytest.mark.parametrize("name,epoch,classifier,extractor", [
    ("mnist", 60_000, True, "lenet"), ("fashion-mnist", 60_000, False, "lenet"),
    ("stacked-mnist", 60_000, True, "lenet"), ("cifar10", 50_000, False, "inception-v3-compat"),
    ("ring8", None, False, None), ("grid25", None, False, None)])
def test_dataset_facts(name, epoch, classifier, extractor):
    info = dataset_info(name)
    assert (info.epoch_size, info.classifier, info.feature_extractor) == (epoch, classifier, extractor)
    assert data.is_points(name) == (info.kind == "points")


def test_mixture_facts_on_the_info():
    assert dataset_info("ring8").sigma == 0.02 and dataset_info("grid25").sigma == 0.05
    assert len(dataset_info("grid25").centers) == 25
    with pytest.raises(GanZooError, match="not a 2-D mixture"):
        dataset_info("mnist").mixture_centers()


def test_a_new_dataset_is_one_registered_loader():
    """Budgets, the evaluation defaults and the tables read the new dataset's own facts."""
    from gan_zoo.bench.columns import rank_metrics
    from gan_zoo.bench.grid import BUDGETS
    from gan_zoo.metrics import default_extractor

    @data.register_dataset("tiny-digits", kind="image", channels=1, image_size=28, num_classes=10,
                           default_backbone="dcgan28", epoch_size=6_400, classifier=True,
                           feature_extractor="lenet")
    def _load(root, train, seed, limit):
        return torch.zeros(20, 1, 28, 28, dtype=torch.uint8), torch.arange(20) % 10, {}

    @data.register_dataset("line3", kind="points", channels=0, image_size=None, num_classes=3,
                           default_backbone="mlp", centers=((-1.0, 0.0), (0.0, 0.0), (1.0, 0.0)),
                           sigma=0.1)
    def _load_line(root, train, seed, limit):
        return torch.zeros(10, 2), torch.zeros(10, dtype=torch.int64), {}

    try:
        assert BUDGETS["standard"].steps("tiny-digits", 64) == 20 * 6_400 // 64
        assert default_extractor("tiny-digits") == "lenet"
        assert rank_metrics("line3") == ["modes", "hq_frac"] and rank_metrics("tiny-digits") == ["fid"]
        assert data.mixture_centers("line3").tolist() == [[-1.0, 0.0], [0.0, 0.0], [1.0, 0.0]]
    finally:
        data.DATASETS.unregister("tiny-digits")
        data.DATASETS.unregister("line3")


@pytest.mark.parametrize("budget,dataset,samples", [
    ("quick", "mnist", 5_000), ("standard", "mnist", 10_000), ("smoke", "mnist", 1_000),
    ("smoke", "stacked-mnist", 26_000), ("quick", "stacked-mnist", 26_000),
    ("smoke", "ring8", 2_500), ("standard", "grid25", 2_500), ("standard", "cifar10", 10_000)])
def test_protocol_sample_counts_belong_to_the_dataset(budget, dataset, samples):
    """A budget lowers the protocol count only where the dataset allows it."""
    from gan_zoo.bench.grid import BUDGETS

    assert BUDGETS[budget].samples(dataset) == samples
    info = dataset_info(dataset)
    assert info.eval_samples_reducible == (dataset in ("mnist", "cifar10"))
    assert BUDGETS[budget].samples_reason() == f"{budget} budget"


def test_stacked_mnist_reference_split_is_26000_test_triples(mnist_root):
    ds = get_dataset("stacked-mnist", root=mnist_root, train=False, seed=0)
    assert ds.x.shape == (26_000, 3, 28, 28)
    assert dataset_info("stacked-mnist").eval_samples == 26_000


def test_idx_files_read_directly_equal_torchvisions_reading(mnist_root):
    """The direct IDX reader (no torchvision import) gives torchvision's exact arrays."""
    import pathlib

    import torch
    import torchvision.datasets as tvd

    from gan_zoo.datafiles import FILE_FOLDERS, read_idx_pair

    for train in (False, True):
        x, y = read_idx_pair(pathlib.Path(mnist_root) / FILE_FOLDERS["MNIST"], train)
        ds = tvd.MNIST(str(mnist_root), train=train, download=False)
        assert torch.equal(x[:, 0], ds.data) and torch.equal(y, ds.targets)
        assert x.dtype == torch.uint8 and y.dtype == torch.int64
