"""Metrics: classifier, torch-fidelity adapter, MiFID and mode coverage.

Pure tests run anywhere; the MNIST ones use the offline files (``mnist_root`` fixture,
skipped when missing) and share the expensive evaluations through module-scoped
fixtures, so the 60,000 training features and the real-set features are computed once.
"""

from __future__ import annotations

import importlib
import math
import shutil
import subprocess
import sys

import numpy as np
import pytest
import scipy.linalg
import torch

from gan_zoo.errors import GanZooError
from gan_zoo.metrics import evaluate, keys
from gan_zoo.metrics import classifier as clf
from gan_zoo.metrics import mifid, modes


# -- modes: formulas written out ----------------------------------------------------------


def test_kl_to_uniform_matches_the_formula():
    counts = [5, 0, 3, 2]
    p = np.array(counts, float) / 10
    expected = sum(pi * math.log(pi / 0.25) for pi in p if pi > 0)
    assert modes.kl_to_uniform(counts) == pytest.approx(expected, rel=1e-12)
    assert modes.kl_to_uniform([7, 7, 7]) == pytest.approx(0.0, abs=1e-12)
    assert modes.kl_to_uniform([0, 9, 0, 0]) == pytest.approx(math.log(4))
    assert modes.kl_to_uniform([0, 0]) is None


def test_modes_covered_threshold_is_one_percent_of_the_uniform_count():
    # 2,500 samples on 8 modes: 312.5 expected each, threshold 3.125 -> 4 samples needed.
    counts = torch.tensor([2400, 4, 3, 93, 0, 0, 0, 0])
    assert modes.modes_covered(counts, 2500) == 3
    # 26,000 samples on 1000 modes: 26 expected, threshold max(1, 0.26) -> 1 sample.
    c = torch.zeros(1000, dtype=torch.long)
    c[:990] = 26
    c[990] = 1
    assert modes.modes_covered(c, 26_000) == 991


def test_class_modes_on_handmade_probabilities():
    probs = torch.tensor([[0.95, 0.05, 0.0], [0.2, 0.7, 0.1], [0.0, 0.05, 0.95], [0.91, 0.09, 0.0]])
    res = modes.class_modes(probs, min_share=0.0)
    # confident rule: class 1's only sample has max probability 0.7 <= 0.9, so it is not covered
    assert res[keys.MODES] == 2 and res[keys.MODES_CONFIDENT] == 2 and res[keys.MODES_TOTAL] == 3
    assert res[keys.CONFIDENT_FRAC] == pytest.approx(0.75)
    p = np.array([2, 1, 1]) / 4  # KL stays on the argmax histogram
    assert res[keys.MODE_KL] == pytest.approx(float((p * np.log(p * 3)).sum()))
    same = modes.class_modes(torch.log(probs), log_probs=True, min_share=0.0)
    assert same == pytest.approx(res)
    argmax = modes.class_modes(probs, min_share=0.0, rule="argmax")  # VEEGAN / PacGAN
    assert argmax[keys.MODES] == 3 and argmax[keys.MODES_CONFIDENT] == 2
    with pytest.raises(GanZooError, match="valid: confident, argmax"):
        modes.class_modes(probs, rule="vote")


def test_confident_coverage_needs_the_threshold_count():
    # 1,000 samples on 10 classes: a class needs max(1, 0.01 * 100) = 1 confident sample;
    # 9 classes get only unconfident samples (0.85), one class gets confident ones.
    p = torch.full((1000, 10), 0.15 / 9)
    pred = torch.arange(1000) % 10
    p[torch.arange(1000), pred] = 0.85
    p[pred == 3] = torch.where(torch.arange(10) == 3, 0.95, 0.05 / 9)
    res = modes.class_modes(p)
    assert res[keys.MODES] == 1 and modes.class_modes(p, rule="argmax")[keys.MODES] == 10


# -- density / coverage -------------------------------------------------------------------


@pytest.mark.parametrize("n_real,n_fake,shift", [(200, 150, 0.0), (120, 300, 1.5), (60, 60, 0.3)])
def test_density_coverage_match_the_authors_prdc(n_real, n_fake, shift, capsys):
    prdc = pytest.importorskip("prdc")
    from gan_zoo.metrics import manifold

    rng = np.random.default_rng(n_real)
    real = rng.normal(size=(n_real, 16)).astype(np.float32)
    fake = (rng.normal(size=(n_fake, 16)) + shift).astype(np.float32)
    theirs = prdc.compute_prdc(real_features=real, fake_features=fake, nearest_k=5)
    ours = manifold.density_coverage(torch.from_numpy(real), torch.from_numpy(fake), chunk=37)
    assert ours[keys.DENSITY] == pytest.approx(float(theirs["density"]), rel=1e-9, abs=1e-12)
    assert ours[keys.COVERAGE] == pytest.approx(float(theirs["coverage"]), rel=1e-9, abs=1e-12)


def test_density_coverage_of_a_collapse():
    from gan_zoo.metrics import manifold

    g = torch.Generator().manual_seed(0)
    real = torch.randn(300, 8, generator=g)
    same = manifold.density_coverage(real, torch.randn(300, 8, generator=g))
    assert 0.7 < same[keys.DENSITY] < 1.3 and 0.8 < same[keys.COVERAGE] <= 1.0
    # every sample on one real point: coverage collapses to a handful of the 300 balls
    collapsed = manifold.density_coverage(real, real[:1].expand(300, -1))
    assert collapsed[keys.COVERAGE] < 0.05 and collapsed[keys.DENSITY] >= 0.0


# -- reference sets -------------------------------------------------------------------------


def test_reference_indices_are_seeded_uniform_and_not_a_prefix():
    from gan_zoo.metrics import realsets

    a = realsets.reference_indices(10_000, 5_000, seed=0)
    assert torch.equal(a, realsets.reference_indices(10_000, 5_000, seed=0))  # deterministic
    assert not torch.equal(a, realsets.reference_indices(10_000, 5_000, seed=1))
    assert len(a.unique()) == 5_000 and not torch.equal(a, torch.arange(5_000))
    # uniform over the split: about half of the draw in each half of the split (not the first n)
    assert abs(int((a < 5_000).sum()) - 2_500) < 150
    assert torch.equal(realsets.reference_indices(10_000, 20_000), torch.arange(10_000))


def test_reference_set_of_mnist(mnist_root):
    from gan_zoo.data import get_dataset
    from gan_zoo.metrics import realsets

    test = get_dataset("mnist", root=mnist_root, train=False).x
    ref = realsets.reference_set("mnist", 500, data_root=mnist_root)
    assert (ref.split, ref.seed, ref.size) == ("test", realsets.REFERENCE_SEED, 500)
    assert torch.equal(ref.images, test[realsets.reference_indices(len(test), 500, 0)])
    assert not torch.equal(ref.images, test[:500])
    assert realsets.reference_set("mnist", 50_000, data_root=mnist_root).size == len(test)


def test_conditional_accuracy():
    assert modes.conditional_accuracy([1, 2, 3, 4], [1, 2, 0, 4])[keys.COND_ACC] == 0.75
    with pytest.raises(GanZooError):
        modes.conditional_accuracy([1, 2], [1, 2, 3])


@pytest.mark.parametrize("name, k", [("ring8", 8), ("grid25", 25)])
def test_true_mixture_samples_cover_every_mode(name, k):
    from gan_zoo.data import get_dataset

    ds = get_dataset(name, train=False, limit=2500)
    res = modes.mixture_modes(ds.x, ds.centers, ds.sigma)
    assert res[keys.MODES] == k and res[keys.MODES_TOTAL] == k
    # Within 3 sigma of the centre in 2-D: P(r <= 3 sigma) = 1 - exp(-9/2) = 0.9889 for a
    # true sample (Rayleigh radius), so 2,500 samples land within 3 standard errors of it.
    expected, se = 1 - math.exp(-4.5), math.sqrt(0.0111 * 0.9889 / 2500)
    assert abs(res[keys.HQ_FRAC] - expected) < 3 * se
    assert res[keys.MODE_KL] < 0.02
    via_evaluate = evaluate(ds.x, dataset=name, labels=ds.y)
    assert via_evaluate[keys.MODES] == k
    assert via_evaluate[keys.COND_ACC] == pytest.approx(1.0)
    assert via_evaluate[keys.FID] is None and via_evaluate[keys.FEATURE_EXTRACTOR] is None
    assert via_evaluate[keys.EVAL_SAMPLES] == 2500


@pytest.mark.parametrize("name", ["ring8", "grid25"])
def test_collapsed_generator_covers_one_mode(name):
    from gan_zoo.data import dataset_info

    info = dataset_info(name)
    centers, sigma = info.mixture_centers(), info.sigma
    g = torch.Generator().manual_seed(0)
    x = centers[3] + sigma * torch.randn(2500, 2, generator=g)
    res = evaluate(x, dataset=name)
    assert res[keys.MODES] == 1
    assert res[keys.MODE_KL] == pytest.approx(math.log(len(centers)))
    assert res[keys.HQ_FRAC] > 0.98
    # Points far from every mode are low quality and count for no mode.
    far = evaluate(torch.full((2500, 2), 50.0), dataset=name)
    assert far[keys.MODES] == 0 and far[keys.HQ_FRAC] == 0.0 and far[keys.MODE_KL] is None


def test_evaluate_returns_every_key():
    from gan_zoo.data import get_dataset

    res = evaluate(get_dataset("ring8", train=False, limit=100).x, dataset="ring8")
    for k in keys.METRIC_COLUMNS + [keys.MODES_TOTAL, keys.EVAL_SAMPLES,
                                    keys.FEATURE_EXTRACTOR, keys.EVAL_WALL_S, keys.MIFID_DISTANCE]:
        assert k in res
    assert res[keys.EVAL_WALL_S] > 0


def test_importing_the_package_is_cheap():
    code = ("import sys, gan_zoo.metrics as m; assert callable(m.evaluate); "
            "print(sorted(x for x in ('torch', 'torch_fidelity') if x in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- MiFID --------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk,tile", [(3, 4), (1, 1), (100, 100)])
def test_memorization_distance_matches_the_formula(chunk, tile):
    rng = np.random.default_rng(0)
    gen, train = rng.normal(size=(7, 5)), rng.normal(size=(11, 5))
    train[3] = 0.0  # all-zero rows are dropped
    t = train[np.abs(train).sum(1) != 0]
    cos = (gen @ t.T) / np.linalg.norm(gen, axis=1)[:, None] / np.linalg.norm(t, axis=1)[None, :]
    expected = (1 - np.abs(cos)).min(axis=1).mean()
    got = mifid.memorization_distance(torch.tensor(gen), torch.tensor(train), chunk=chunk, tile=tile)
    assert got == pytest.approx(expected, rel=1e-5)


def test_mifid_threshold():
    assert mifid.mifid_from_fid(10.0, 0.5, eps=0.1) == 10.0  # not memorizing: MiFID = FID
    assert mifid.mifid_from_fid(10.0, 0.05, eps=0.1) == pytest.approx(200.0)
    assert mifid.mifid_from_fid(10.0, 0.0, eps=0.1) > 1e12  # verbatim copies


# -- classifier ---------------------------------------------------------------------------


def test_shipped_weights_pass_their_checksum():
    assert clf.file_sha256(clf.WEIGHTS_PATH) == clf.WEIGHTS_SHA256
    assert clf.WEIGHTS_PATH.stat().st_size < 1_000_000
    net = clf.load_classifier()
    assert not net.training


def test_corrupted_weights_fail_with_one_line(tmp_path):
    bad = tmp_path / "lenet_mnist.pt"
    shutil.copy(clf.WEIGHTS_PATH, bad)
    blob = bytearray(bad.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    bad.write_bytes(bytes(blob))
    with pytest.raises(GanZooError) as err:
        clf.load_classifier(bad, sha256=clf.WEIGHTS_SHA256)
    msg = str(err.value)
    assert "SHA-256" in msg and "\n" not in msg
    with pytest.raises(GanZooError, match="not found"):
        clf.load_classifier(tmp_path / "missing.pt", sha256=clf.WEIGHTS_SHA256)


def test_stacked_log_probs_is_the_outer_sum():
    logits = torch.randn(4, 3, 10, generator=torch.Generator().manual_seed(1))
    lp = torch.log_softmax(logits.double(), -1)
    joint = clf.stacked_log_probs(logits)
    a, b, c = 3, 7, 2
    assert joint[:, 100 * a + 10 * b + c].double() == pytest.approx(
        (lp[:, 0, a] + lp[:, 1, b] + lp[:, 2, c]), rel=1e-5)
    assert torch.allclose(joint.exp().sum(1), torch.ones(4), atol=1e-5)


# -- torch-fidelity adapter ------------------------------------------------------------------


def test_lenet_registration_is_idempotent():
    from gan_zoo.metrics import fidelity
    from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY

    fidelity.register_lenet()
    fidelity.register_lenet()
    reloaded = importlib.reload(fidelity)
    reloaded.register_lenet()
    assert FEATURE_EXTRACTORS_REGISTRY["lenet"] is reloaded.LeNetFeatureExtractor


def test_lenet_extractor_shapes_for_one_and_three_channels():
    from gan_zoo.metrics import fidelity

    fe = fidelity.make_extractor("lenet", ["features", "logits"])
    x1 = torch.randint(0, 256, (5, 1, 28, 28), dtype=torch.uint8)
    f1, l1 = fe(x1)
    assert f1.shape == (5, 128) and l1.shape == (5, 10)
    x3 = torch.randint(0, 256, (5, 3, 28, 28), dtype=torch.uint8)
    f3, l3 = fe(x3)
    assert f3.shape == (5, 384) and l3.shape == (5, 1000)
    # the first channel's features are those of the channel alone
    assert torch.allclose(f3[:, :128], fe(x3[:, :1])[0], atol=1e-5)


def test_missing_inception_weights_fail_fast_without_network(tmp_path, monkeypatch):
    import torch_fidelity

    from gan_zoo.metrics import fidelity

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))

    def no_call(**kwargs):
        raise AssertionError("torch-fidelity must not be called without local weights")

    monkeypatch.setattr(torch_fidelity, "calculate_metrics", no_call)
    gen = torch.rand(20, 3, 32, 32) * 2 - 1
    real = torch.rand(20, 3, 32, 32) * 2 - 1
    with pytest.raises(GanZooError) as err:
        evaluate(gen, dataset="cifar10", real=real, cache_dir=tmp_path / "cache")
    msg = str(err.value)
    assert "--inception-weights" in msg and "\n" not in msg
    with pytest.raises(GanZooError, match="no such file"):
        evaluate(gen, dataset="cifar10", real=real, inception_weights=tmp_path / "nope.pth",
                 cache_dir=tmp_path / "cache")
    with pytest.raises(GanZooError, match="--inception-weights"):
        fidelity.resolve_inception_weights(None)


@pytest.fixture(scope="module")
def random_inception_weights(tmp_path_factory):
    """A state_dict of the right shapes for torch-fidelity's Inception-v3, randomly
    initialised (the real weights cannot be downloaded here): enough to run the RGB path."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    with pytest.MonkeyPatch.context() as mp:  # build the skeleton without reading weights
        mp.setattr(torch, "load", lambda *a, **k: {})
        mp.setattr(torch.nn.Module, "load_state_dict", lambda self, *a, **k: None)
        torch.manual_seed(0)
        net = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"],
                                          feature_extractor_weights_path="unused")
    path = tmp_path_factory.mktemp("inception") / "inception-random.pth"
    torch.save(net.state_dict(), path)
    return path


def test_rgb_evaluation_runs_offline_with_local_inception_weights(
        random_inception_weights, tmp_path, monkeypatch):
    import torch_fidelity.feature_extractor_inceptionv3 as tf_inception

    def no_download(*args, **kwargs):
        raise AssertionError("no download may be attempted")

    monkeypatch.setattr(tf_inception, "load_state_dict_from_url", no_download)
    # Plumbing test: Inception's smallest input (75 px) instead of 299 keeps it fast on a CPU.
    monkeypatch.setattr(tf_inception.FeatureExtractorInceptionV3, "INPUT_IMAGE_SIZE", 75)
    g = torch.Generator().manual_seed(0)
    gen = torch.rand(12, 3, 32, 32, generator=g) * 2 - 1
    real = torch.rand(12, 3, 32, 32, generator=g) * 2 - 1
    r = evaluate(gen, dataset="cifar10", real=real, inception_weights=random_inception_weights,
                 cache_dir=tmp_path, train_features=False)
    assert r[keys.FEATURE_EXTRACTOR] == "inception-v3-compat"
    for k in (keys.FID, keys.IS_MEAN, keys.KID_MEAN, keys.PRECISION, keys.RECALL):
        assert isinstance(r[k], float) and math.isfinite(r[k])
    assert r[keys.MODES] is None and r[keys.MIFID] is None  # no classifier for CIFAR-10


def test_grey_dataset_without_classifier_gets_distribution_metrics_only(tmp_path):
    g = torch.Generator().manual_seed(0)
    gen = torch.rand(40, 1, 28, 28, generator=g) * 2 - 1
    real = torch.rand(40, 1, 28, 28, generator=g) * 2 - 1
    r = evaluate(gen, dataset="fashion-mnist", real=real, cache_dir=tmp_path,
                 train_features=False, labels=torch.zeros(40, dtype=torch.long))
    assert r[keys.FEATURE_EXTRACTOR] == "lenet" and r[keys.FID] is not None
    assert r[keys.IS_MEAN] is None and r[keys.MODES] is None and r[keys.COND_ACC] is None


def test_bad_inputs_are_one_line_errors(tmp_path):
    with pytest.raises(GanZooError, match="NaN"):
        evaluate(torch.full((20, 2), float("nan")), dataset="ring8")
    with pytest.raises(GanZooError, match=r"\(N, 2\)"):
        evaluate(torch.zeros(20, 3), dataset="grid25")
    with pytest.raises(GanZooError, match="at least"):
        evaluate(torch.zeros(5, 1, 28, 28), dataset="mnist", real=torch.zeros(5, 1, 28, 28),
                 cache_dir=tmp_path)
    with pytest.raises(GanZooError, match="lenet"):
        evaluate(torch.zeros(20, 3, 32, 32), dataset="cifar10", real=torch.zeros(20, 3, 32, 32),
                 feature_extractor="lenet", cache_dir=tmp_path)
    with pytest.raises(GanZooError, match="valid"):
        evaluate(torch.zeros(20, 1, 28, 28), dataset="mnist", real=torch.zeros(20, 1, 28, 28),
                 feature_extractor="clip-vit-b-32", cache_dir=tmp_path)


# -- on the offline MNIST ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist(mnist_root):
    from gan_zoo.data import get_dataset

    return {
        "root": str(mnist_root),
        "test": get_dataset("mnist", root=mnist_root, train=False),
        "train10k": get_dataset("mnist", root=mnist_root, train=True, limit=10_000),
    }


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A feature cache laid out as ``$GAN_ZOO_CACHE/metrics`` (the CLI test points there)."""
    path = tmp_path_factory.mktemp("gan-zoo-cache") / "metrics"
    path.mkdir()
    return path


@pytest.fixture(scope="module")
def real_vs_real(mnist, cache):
    """The 10k test images scored against 10k training images (with MiFID)."""
    return evaluate(mnist["test"].x, dataset="mnist", real=mnist["train10k"].x,
                    labels=mnist["test"].y, data_root=mnist["root"], cache_dir=cache)


def test_classifier_test_accuracy(mnist):
    pred = clf.predict(mnist["test"].x).argmax(1)
    assert (pred == mnist["test"].y).double().mean().item() >= 0.990


def test_real_mnist_scores(real_vs_real):
    r = real_vs_real
    assert 9.5 <= r[keys.IS_MEAN] <= 10.0  # published anchor about 9.88 (DESIGN.md)
    assert 0.0 < r[keys.FID] < 5.0  # train vs test: measured 2.24
    # k-NN precision/recall (k = 3) of two real samples: ~0.87 each, not 1, because a
    # fresh sample falls outside every 3-NN ball of the other set now and then.
    assert r[keys.PRECISION] > 0.8 and r[keys.RECALL] > 0.8
    assert abs(r[keys.KID_MEAN]) < 3 * r[keys.KID_STD] + 1e-6  # consistent with zero
    assert r[keys.MODES] == 10 and r[keys.MODE_KL] < 0.01
    assert r[keys.CONFIDENT_FRAC] > 0.95
    assert r[keys.COND_ACC] >= 0.99
    assert r[keys.EVAL_SAMPLES] == 10_000 and r[keys.FEATURE_EXTRACTOR] == "lenet"
    assert r[keys.EVAL_PROTOCOL] == "protocol"
    assert (r[keys.REFERENCE_SPLIT], r[keys.REFERENCE_SIZE], r[keys.REFERENCE_SEED]) == (
        "given", 10_000, None)
    # two real sets: coverage near 1, density near 1 (Naeem et al. 2020, k = 5)
    assert r[keys.COVERAGE] > 0.9 and 0.8 < r[keys.DENSITY] < 1.2
    assert r[keys.MODES_CONFIDENT] == 10
    # Unseen real images are not memorized: no MiFID penalty.
    assert r[keys.MIFID_DISTANCE] > mifid.EPS_BY_EXTRACTOR["lenet"]
    assert r[keys.MIFID] == r[keys.FID]


def test_noise_scores_far_from_mnist(mnist, cache, real_vs_real):
    noise = torch.rand(10_000, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    # Against the same 10k training images as real_vs_real: their features come from the cache.
    r = evaluate(noise, dataset="mnist", real=mnist["train10k"].x, data_root=mnist["root"],
                 cache_dir=cache, train_features=False)
    assert r[keys.FID] > 100 * real_vs_real[keys.FID]  # measured 1178 vs 2.24
    assert r[keys.RECALL] < 0.05
    assert r[keys.IS_MEAN] < 2.0
    assert r[keys.MIFID] is None


def _frechet_scipy(a: np.ndarray, b: np.ndarray) -> float:
    """Heusel et al. 2017: |mu_a - mu_b|^2 + tr(Sa + Sb - 2 (Sa Sb)^(1/2)), via scipy's sqrtm."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    mu_a, mu_b = a.mean(0), b.mean(0)
    sa, sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(sa @ sb)
    covmean = np.real(covmean)
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(sa) + np.trace(sb) - 2 * np.trace(covmean))


# A few of the 128 ReLU units never fire on MNIST, so the covariances are singular;
# scipy warns, and the square root is still accurate (the comparison below checks it).
@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
def test_fid_equals_an_independent_scipy_frechet_distance(mnist, real_vs_real):
    from gan_zoo.metrics import fidelity

    fa = fidelity.extract_features(fidelity.to_uint8(mnist["test"].x), "lenet", "features")
    fb = fidelity.extract_features(fidelity.to_uint8(mnist["train10k"].x), "lenet", "features")
    expected = _frechet_scipy(fa.numpy(), fb.numpy())
    assert real_vs_real[keys.FID] == pytest.approx(expected, rel=1e-3)


def test_mifid_penalizes_copies_of_training_images(mnist, cache, real_vs_real):
    copies = mnist["train10k"].x[:1000]
    r = evaluate(copies, dataset="mnist", data_root=mnist["root"], cache_dir=cache)
    assert r[keys.MIFID_DISTANCE] < 1e-4
    assert r[keys.MIFID] > 1000 * r[keys.FID]


def test_collapsed_mnist_generator_covers_one_class(mnist, cache):
    one = mnist["test"].x[:1].expand(500, -1, -1, -1)
    r = evaluate(one, dataset="mnist", data_root=mnist["root"], cache_dir=cache,
                 train_features=False)
    assert r[keys.MODES] == 1 and r[keys.MODE_KL] == pytest.approx(math.log(10))
    assert r[keys.RECALL] < 0.05


def test_real_features_are_computed_once_per_cache(mnist, tmp_path, monkeypatch):
    from gan_zoo.metrics import fidelity

    reads = {"real": 0, "generated": 0}
    original = fidelity.UInt8Images.__getitem__

    def counting(self, i):
        reads[self.role] += 1
        return original(self, i)

    monkeypatch.setattr(fidelity.UInt8Images, "__getitem__", counting)
    n = 300
    gen = mnist["train10k"].x[-n:]
    first = evaluate(gen, dataset="mnist", n=n, data_root=mnist["root"], cache_dir=tmp_path,
                     train_features=False)
    real_reads = reads["real"]
    assert real_reads >= n  # featurised once ...
    second = evaluate(gen, dataset="mnist", n=n, data_root=mnist["root"], cache_dir=tmp_path,
                      train_features=False)
    assert reads["real"] == real_reads  # ... and read from the cache the second time
    assert reads["generated"] >= 2 * n  # generated samples are never cached
    assert second[keys.FID] == pytest.approx(first[keys.FID], rel=1e-9)
    assert second[keys.KID_MEAN] is not None  # KID subset size followed n = 300
    # the reference: 300 test images drawn with seed 0, recorded
    assert (second[keys.REFERENCE_SPLIT], second[keys.REFERENCE_SIZE],
            second[keys.REFERENCE_SEED]) == ("test", 300, 0)
    assert "300 samples, fewer than the protocol's 10000" in second[keys.EVAL_PROTOCOL]
    assert list(tmp_path.glob("gan-zoo-mnist-test-seed0-n300-*"))
    assert 0.0 <= second[keys.COVERAGE] <= 1.0 and second[keys.DENSITY] >= 0.0
    assert not list(tmp_path.glob("gan-zoo-scratch-*"))  # one-off files cleaned up


def test_real_stacked_mnist_covers_the_1000_modes(mnist_root):
    from gan_zoo.data import get_dataset

    ds = get_dataset("stacked-mnist", root=mnist_root, train=True, limit=26_000)
    from gan_zoo.data import dataset_info

    rule = dataset_info("stacked-mnist").mode_rule
    assert rule == "argmax"  # the published VEEGAN / PacGAN count
    res = modes.class_modes(clf.predict(ds.x), log_probs=True, rule=rule)
    assert res[keys.MODES_TOTAL] == 1000
    assert res[keys.MODES] >= 990
    assert res[keys.MODE_KL] < 0.1


def test_eval_command_and_runner_score_a_run_the_same_way(mnist, cache, tmp_path, monkeypatch):
    """``gan-zoo eval`` writes what ``score_run`` (the runner's scorer) returns."""
    import json

    from click.testing import CliRunner

    from gan_zoo.cli import cli
    from gan_zoo.metrics import EvalOptions, score_run
    from gan_zoo.spec import RunSpec
    from gan_zoo.train import train_run

    run = tmp_path / "run"
    train_run(RunSpec(dataset="mnist", loss="ns", steps=2, batch_size=8, log_every=1, device="cpu"),
              run, data_root=mnist["root"], progress=False)
    monkeypatch.setenv("GAN_ZOO_CACHE", str(cache.parent))
    out = CliRunner().invoke(cli, ["eval", str(run), "--n", "60", "--data-root", mnist["root"]])
    assert out.exit_code == 0, out.output
    written = json.loads((run / "metrics.json").read_text())
    options = EvalOptions(samples=60, cache_dir=str(cache), samples_reason="gan-zoo eval --n")
    direct = score_run(run, options, data_root=mnist["root"])
    for k in (keys.EVAL_WALL_S,):
        written.pop(k), direct.pop(k)
    assert written == direct  # the same numbers, digit for digit
    assert written[keys.EVAL_SAMPLES] == 60 and written[keys.FID] > 0


# -- measurements a reviewer would accept ---------------------------------------------------


def _blobs(mnist, n: int) -> dict:
    """Grey blobs: black images with noise, and the blurred mean digit with noise."""
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(1)
    black = (-1 + 0.1 * torch.randn(n, 1, 28, 28, generator=g)).clamp(-1, 1)
    mean = mnist["train10k"].x.mean(0, keepdim=True)
    k = torch.exp(-((torch.arange(9) - 4.0) ** 2) / 8.0)
    k = k / k.sum()
    blur = F.conv2d(F.conv2d(mean, k.view(1, 1, 1, 9), padding=(0, 4)), k.view(1, 1, 9, 1),
                    padding=(4, 0))
    blurred = (blur + 0.1 * torch.randn(n, 1, 28, 28, generator=g)).clamp(-1, 1)
    return {"black": black, "blurred-mean": blurred}


def test_grey_blobs_cover_no_digit_and_real_test_images_cover_ten(mnist):
    for name, x in _blobs(mnist, 2000).items():
        res = modes.class_modes(clf.predict(x), log_probs=True)
        assert res[keys.MODES] == 0, name
        # the argmax rule would have counted them as covering some digits
        assert modes.class_modes(clf.predict(x), log_probs=True, rule="argmax")[keys.MODES] >= 1
    real = modes.class_modes(clf.predict(mnist["test"].x), log_probs=True)
    assert real[keys.MODES] == 10


def test_blobs_score_low_coverage_through_evaluate(mnist, cache):
    blobs = _blobs(mnist, 1000)["blurred-mean"]
    r = evaluate(blobs, dataset="mnist", data_root=mnist["root"], cache_dir=cache,
                 train_features=False)
    assert r[keys.MODES] == 0 and r[keys.COVERAGE] < 0.05
    digits = evaluate(mnist["train10k"].x[:1000], dataset="mnist", data_root=mnist["root"],
                      cache_dir=cache, train_features=False)
    assert digits[keys.MODES] == 10 and digits[keys.COVERAGE] > 0.8


@pytest.mark.slow
def test_random_training_images_score_near_zero_fid_against_the_reference(mnist_root, cache):
    """5,000 random training images scored as generated: FID < 5 against the seeded uniform
    reference; against the first 5,000 test images (the old reference) it is far higher."""
    from gan_zoo.data import get_dataset

    train = get_dataset("mnist", root=mnist_root, train=True).x
    idx = torch.randperm(len(train), generator=torch.Generator().manual_seed(1))[:5000]
    fake = train[idx]
    r = evaluate(fake, dataset="mnist", data_root=str(mnist_root), cache_dir=cache,
                 train_features=False)
    assert r[keys.FID] < 5.0 and r[keys.REFERENCE_SIZE] == 5000
    first = get_dataset("mnist", root=mnist_root, train=False, limit=5000).x
    old = evaluate(fake, dataset="mnist", real=first, cache_dir=cache, train_features=False)
    assert r[keys.FID] < old[keys.FID] - 3.0
