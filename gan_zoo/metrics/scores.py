"""Scores of a set of generated samples: IS, FID, KID, precision/recall, MiFID, modes.

:func:`evaluate` scores samples of a dataset against its real data;
:func:`warm_real_features` computes and caches the real-data features that scoring
reads, with the same code path. What a dataset is scored with (its classifier, its
default extractor, its mixture centres) comes from its ``DatasetInfo``.
"""

from __future__ import annotations

import time
from pathlib import Path

from gan_zoo.metrics import keys
from gan_zoo.metrics.cache import content_digest, dataset_slug, resolve_cache_dir
from gan_zoo.metrics.realsets import REFERENCE_SEED
from gan_zoo.metrics.settings import MIN_SAMPLES, default_extractor, protocol_samples

__all__ = ["evaluate", "warm_real_features", "default_extractor", "protocol_note", "MIN_SAMPLES"]



def protocol_note(n: int, protocol: int | None, reason: str) -> str:
    """``"protocol"`` when ``n`` is the dataset's protocol count, else what differs and why
    (e.g. ``"5000 samples, fewer than the protocol's 10000 (quick budget)"``)."""
    if protocol is None or n == protocol:
        return "protocol"
    word = "fewer" if n < protocol else "more"
    return f"{n} samples, {word} than the protocol's {protocol} ({reason})"


def evaluate(
    generated,
    *,
    dataset: str,
    real=None,
    labels=None,
    data_root=None,
    n: int | None = None,
    device="cpu",
    feature_extractor: str | None = None,
    inception_weights=None,
    cache_dir=None,
    train_features: bool = True,
    reference_seed: int = REFERENCE_SEED,
    samples_reason: str = "asked for",
) -> dict:
    """Score generated samples of ``dataset``; returns ``{key: float | int | str | None}``.

    ``generated``: a tensor in the dataset's format, ``(N, C, H, W)`` in [-1, 1] or
    ``(N, 2)`` points. The first ``n`` (default all) are scored.

    Image datasets: IS, FID, KID and precision/recall from one torch-fidelity call
    (generated = input1, real = input2), with ``feature_extractor`` (default: the
    dataset's, :func:`default_extractor`), and density / coverage (Naeem et al. 2020,
    k = 5) on the same features. ``real`` defaults to the reference set: as many test
    images as samples, a uniform draw with ``reference_seed``
    (:func:`gan_zoo.metrics.realsets.reference_set`; never the first ``n``); its
    features are cached in ``cache_dir`` (``cache.resolve_cache_dir``). With
    ``train_features`` MiFID is computed against the whole training split (features
    cached too). For datasets the MNIST classifier reads (``DatasetInfo.classifier``:
    MNIST and Stacked MNIST) the classifier's predictions add class / mode coverage,
    and ``labels`` (the classes the generator was asked for) adds conditional
    accuracy. Other grey datasets (Fashion-MNIST) get FID, KID, precision/recall and
    MiFID in the classifier's feature space, but no IS or class metrics (the digit
    classifier does not know their classes). ``inception_weights`` is the local
    Inception-v3 file for RGB datasets (nothing is downloaded).

    Point datasets (``ring8`` / ``grid25``): only mode metrics (and conditional accuracy
    with ``labels``, the asked mode index).

    ``EVAL_PROTOCOL`` says whether ``n`` is the dataset's protocol count
    (``DatasetInfo.eval_samples``) and, if not, ``samples_reason``; ``REFERENCE_SPLIT``,
    ``REFERENCE_SIZE`` and ``REFERENCE_SEED`` record the real set (None for points).

    Keys not applicable to the dataset are None. Always present: every
    ``keys.METRIC_COLUMNS`` and ``keys.EVAL_RECORD`` entry, ``MODES_TOTAL``,
    ``EVAL_SAMPLES``, ``FEATURE_EXTRACTOR`` and ``EVAL_WALL_S``.
    """
    import torch

    from gan_zoo.data import dataset_info
    from gan_zoo.errors import GanZooError

    t0 = time.perf_counter()
    info = dataset_info(dataset)  # unknown names raise a GanZooError listing valid ones
    if not isinstance(generated, torch.Tensor):
        raise GanZooError(f"generated samples must be a torch.Tensor, got {type(generated).__name__}")
    if n is not None and (not isinstance(n, int) or n < 1):
        raise GanZooError(f"n must be a positive integer, got {n!r}")
    n_eval = len(generated) if n is None else min(n, len(generated))
    generated = generated[:n_eval]
    if generated.is_floating_point() and not bool(torch.isfinite(generated).all()):
        raise GanZooError("generated samples contain NaN or inf values; nothing to evaluate")
    if labels is not None:
        labels = torch.as_tensor(labels)[:n_eval]

    out: dict = {k: None for k in keys.METRIC_COLUMNS + keys.EVAL_RECORD}
    out.update({keys.MODES_TOTAL: None, keys.EVAL_SAMPLES: n_eval, keys.FEATURE_EXTRACTOR: None,
                keys.EVAL_PROTOCOL: protocol_note(n_eval, protocol_samples(dataset), samples_reason)})
    if info.kind == "points":
        out.update(_evaluate_points(generated, info, labels))
    else:
        out.update(_evaluate_images(
            generated, info, real=real, labels=labels, data_root=data_root, device=device,
            extractor=feature_extractor, inception_weights=inception_weights,
            cache_dir=resolve_cache_dir(cache_dir), train_features=train_features,
            reference_seed=reference_seed))
    out[keys.EVAL_WALL_S] = time.perf_counter() - t0
    return out


def warm_real_features(
    dataset: str,
    n: int | None = None,
    *,
    data_root=None,
    device="cpu",
    feature_extractor: str | None = None,
    inception_weights=None,
    cache_dir=None,
    train_features: bool = True,
    reference_seed: int = REFERENCE_SEED,
) -> bool:
    """Compute and cache the real-data features that scoring ``n`` samples of ``dataset``
    reads (the reference set's features, and the training split's for MiFID; ``n``
    defaults to the dataset's protocol count), so that runs
    scored later, in any process sharing ``cache_dir``, only read them.

    The benchmark runner calls this once per dataset before it hands runs to workers.
    Returns False for point datasets (``ring8``, ``grid25``), which have no features.
    Cheap when the cache is already warm. Scores a handful of test images against the
    real set to do it, with the same code path a run's evaluation takes.
    """
    from gan_zoo.data import dataset_info, get_dataset

    info = dataset_info(dataset)
    if info.kind == "points":
        return False
    probe = get_dataset(dataset, root=data_root, train=False, limit=MIN_SAMPLES).x
    _evaluate_images(
        probe, info, real=None, n_real=n or protocol_samples(dataset), labels=None, data_root=data_root,
        device=device, extractor=feature_extractor, inception_weights=inception_weights,
        cache_dir=resolve_cache_dir(cache_dir), train_features=train_features,
        reference_seed=reference_seed, generated_role="warm-up")
    return True


def _evaluate_points(generated, info, labels) -> dict:
    from gan_zoo.errors import GanZooError
    from gan_zoo.metrics import modes

    if generated.dim() != 2 or generated.shape[1] != 2:
        raise GanZooError(f"{info.name} samples must be (N, 2) points, got {tuple(generated.shape)}")
    centers = info.mixture_centers()
    res = modes.mixture_modes(generated, centers, info.sigma)
    if labels is not None:
        idx, _ = modes.nearest_mode(generated, centers)
        res.update(modes.conditional_accuracy(idx, labels))
    return res


def _evaluate_images(generated, info, *, real, labels, data_root, device, extractor,
                     inception_weights, cache_dir: Path, train_features: bool,
                     reference_seed: int = REFERENCE_SEED, n_real: int | None = None,
                     generated_role: str = "generated") -> dict:
    import torch
    import torch.nn.functional as F

    from gan_zoo.errors import GanZooError
    from gan_zoo.metrics import cache as feature_cache
    from gan_zoo.metrics import classifier as clf
    from gan_zoo.metrics import fidelity, manifold, mifid, modes, realsets

    dataset = info.name
    n_eval = len(generated)
    if n_eval < MIN_SAMPLES:
        raise GanZooError(f"evaluation needs at least {MIN_SAMPLES} samples, got {n_eval}")
    if generated.dim() != 4 or generated.shape[1] != info.channels:
        raise GanZooError(
            f"{dataset} samples must be (N, {info.channels}, H, W) images, got {tuple(generated.shape)}")
    size = generated.shape[-1]
    extractor = extractor or default_extractor(dataset)
    if extractor not in fidelity.EXTRACTORS:
        raise GanZooError(f"unknown feature extractor {extractor!r}; valid: {', '.join(fidelity.EXTRACTORS)}")
    if extractor == fidelity.LENET and info.channels == 3 and not info.classifier:
        raise GanZooError(f"the lenet extractor reads MNIST-style digits; use "
                          f"inception-v3-compat for {dataset}")
    # Weights first: a missing Inception file must fail before torch-fidelity could download.
    weights_path = (fidelity.resolve_inception_weights(inception_weights)
                    if extractor == fidelity.INCEPTION else None)
    weights_sha = fidelity.extractor_weights_sha256(extractor, weights_path)

    # Real images: given, or the reference set (a seeded uniform draw from the test
    # split, as many as samples) at the generated resolution.
    if real is None:
        ref = realsets.reference_set(dataset, n_real or n_eval, seed=reference_seed,
                                     data_root=data_root,
                                     image_size=size if size != info.image_size else None)
        real, split, seed = ref.images, ref.split, ref.seed
        real_desc = f"{dataset_slug(dataset)}-{split}-seed{seed}"
    else:
        real, split, seed = torch.as_tensor(real)[:n_eval], "given", None
        real_desc = f"{dataset_slug(dataset)}-given"
        if real.shape[1:] != generated.shape[1:]:
            raise GanZooError(f"real images {tuple(real.shape[1:])} and generated images "
                              f"{tuple(generated.shape[1:])} differ in shape")
    if len(real) < MIN_SAMPLES:
        raise GanZooError(f"evaluation needs at least {MIN_SAMPLES} real images, got {len(real)}")

    def prepare(x):
        """[-1, 1] floats -> the uint8 images the extractor reads."""
        if extractor == fidelity.LENET and x.shape[-1] != 28:
            x = F.interpolate(x.float(), size=(28, 28), mode="bilinear", antialias=True,
                              align_corners=False).clamp(-1, 1)
        u8 = fidelity.to_uint8(x)
        if extractor == fidelity.INCEPTION and u8.shape[1] == 1:
            u8 = u8.expand(-1, 3, -1, -1).contiguous()  # grey -> RGB
        return u8

    gen_u8, real_u8 = prepare(generated), prepare(real)
    # The cache name spells out what the features depend on: dataset, split and seed of
    # the draw, count, extractor, a hash of its weights and a hash of the exact images.
    real_name = (f"gan-zoo-{real_desc}-n{len(real_u8)}-{fidelity.cache_tag(extractor, weights_sha)}"
                 f"-d{content_digest(real_u8)}")
    lenet_logits = info.classifier and extractor == fidelity.LENET
    keep = ("prc",) + (("fid",) if train_features else ()) + (("isc",) if lenet_logits else ())
    is_cuda = torch.device(device).type == "cuda"
    res, gen_feats = fidelity.fidelity_metrics(
        gen_u8, real_u8, extractor=extractor, real_cache_name=real_name, cache_dir=cache_dir,
        weights_path=weights_path, isc=(extractor == fidelity.INCEPTION or info.classifier),
        cuda=is_cuda, keep_generated=keep, keep_real=("prc",), generated_role=generated_role)
    res.update({keys.FEATURE_EXTRACTOR: extractor, keys.REFERENCE_SPLIT: split,
                keys.REFERENCE_SIZE: len(real_u8), keys.REFERENCE_SEED: seed})
    # density and coverage on the features precision/recall use (k = 5, Naeem et al. 2020)
    res.update(manifold.density_coverage(gen_feats.pop("real-prc"), gen_feats["prc"]))

    if info.classifier:
        if lenet_logits:  # the extractor's logits are the classifier's: reuse them
            log_probs = torch.log_softmax(gen_feats["isc"].double(), dim=1)
        else:  # another extractor: run the classifier itself, on 28x28 images
            x = generated.to(device).float()
            if x.shape[-1] != 28:
                x = F.interpolate(x, size=(28, 28), mode="bilinear", antialias=True,
                                  align_corners=False).clamp(-1, 1)
            log_probs = clf.predict(x)
        res.update(modes.class_modes(log_probs, log_probs=True, rule=info.mode_rule))
        if labels is not None:
            res.update(modes.conditional_accuracy(log_probs.argmax(dim=1), labels))

    if train_features:
        train_feats = feature_cache.train_features(
            dataset, data_root, extractor, weights_path, weights_sha,
            size if size != info.image_size else None, prepare, cache_dir, device)
        d = mifid.memorization_distance(gen_feats["fid"], train_feats)
        eps = mifid.EPS_BY_EXTRACTOR.get(extractor, mifid.DEFAULT_EPS)
        res[keys.MIFID_DISTANCE] = d
        res[keys.MIFID] = mifid.mifid_from_fid(res[keys.FID], d, eps)
    return res
