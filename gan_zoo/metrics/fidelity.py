"""torch-fidelity adapter: the ``lenet`` feature extractor and one-call IS/FID/KID/PR.

torch-fidelity (Obukhov et al., https://github.com/toshas/torch-fidelity) computes the
Inception Score (Salimans et al. 2016), FID (Heusel et al. 2017), KID (Binkowski et al.
2018) and precision/recall (Kynkaanniemi et al. 2019) from the features of a
registered extractor. We register our MNIST classifier as the extractor ``lenet``:

* input: uint8 images ``(N, C, 28, 28)`` as torch-fidelity feeds them, converted inside
  to floats in [-1, 1];
* one channel: ``features`` = the 128 penultimate ReLU units, ``logits`` = the 10 class
  logits;
* three channels (Stacked MNIST): each channel goes through the classifier on its own;
  ``features`` = the three 128-d vectors concatenated (384-d), ``logits`` = the joint
  log-probabilities of the 1000 modes, ``log p(a) + log p(b) + log p(c)`` (index
  ``100a + 10b + c``). Softmax of those is the product distribution, so the Inception
  Score over 1000 modes is the classifier-based IS of the VEEGAN / PacGAN protocol and
  its maximum is 1000.

RGB datasets use torch-fidelity's ``inception-v3-compat``, whose weights must be on
disk (no downloads here): see :func:`resolve_inception_weights`.

Caching: torch-fidelity caches the features (and FID statistics) of an input under
``cache_root`` when the input has a cache name; we name the real input after
everything its features depend on (dataset, split, seed, sample count, extractor and
the SHA-256 of its weights), so a real set is featurised once per cache folder.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import os
import uuid
from pathlib import Path

import torch
import torch.nn as nn
from torch.utils.data import Dataset as TorchDataset

from torch_fidelity.feature_extractor_base import FeatureExtractorBase
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY, register_feature_extractor

from gan_zoo.io import quiet
from gan_zoo.errors import GanZooError
from gan_zoo.metrics import classifier as clf
from gan_zoo.metrics import keys

__all__ = [
    "LENET",
    "INCEPTION",
    "EXTRACTORS",
    "LeNetFeatureExtractor",
    "register_lenet",
    "to_uint8",
    "UInt8Images",
    "resolve_inception_weights",
    "extractor_weights_sha256",
    "feature_layers",
    "make_extractor",
    "extract_features",
    "fidelity_metrics",
]

LENET = "lenet"
INCEPTION = "inception-v3-compat"
#: Extractors gan-zoo evaluates with (both work offline once their weights are on disk).
EXTRACTORS = (LENET, INCEPTION)
#: The file name torch-fidelity's Inception-v3 weights have in torch hub's checkpoints.
INCEPTION_FILE = "weights-inception-2015-12-05-6726825d.pth"


# -- the lenet extractor -----------------------------------------------------------


class LeNetFeatureExtractor(FeatureExtractorBase):
    """torch-fidelity extractor over :class:`gan_zoo.metrics.classifier.LeNet`.

    Provides ``features`` (FID, KID, precision/recall) and ``logits`` (IS); see the
    module docstring for one- and three-channel inputs. ``feature_extractor_weights_path``
    may point at other LeNet weights (no checksum then); default: the shipped ones.
    """

    FEATURES = "features"
    LOGITS = "logits"

    def __init__(self, name, features_list, feature_extractor_weights_path=None, **kwargs):
        super().__init__(name, features_list)
        if feature_extractor_weights_path is None:
            net = clf.load_classifier()
        else:
            net = clf.load_classifier(feature_extractor_weights_path, sha256="")
        # A private copy: torch-fidelity moves the extractor to CUDA in place, and the
        # default classifier is shared (memoized) by the rest of the process. Channels-
        # last: oneDNN runs this net's convolutions and pooling about twice as fast so
        # (features differ from the NCHW layout's by float rounding, ~1e-6 relative;
        # cache names carry LAYOUT_TAG so features of the two layouts never mix).
        self.net = copy.deepcopy(net).to(memory_format=torch.channels_last)

    @staticmethod
    def get_provided_features_list():
        return LeNetFeatureExtractor.FEATURES, LeNetFeatureExtractor.LOGITS

    @staticmethod
    def get_default_feature_layer_for_metric(metric):
        return {
            "isc": LeNetFeatureExtractor.LOGITS,
            "fid": LeNetFeatureExtractor.FEATURES,
            "kid": LeNetFeatureExtractor.FEATURES,
            "prc": LeNetFeatureExtractor.FEATURES,
        }[metric]

    @staticmethod
    def can_be_compiled():
        return False

    @staticmethod
    def get_dummy_input_for_compile():
        return torch.zeros(1, 1, 28, 28, dtype=torch.uint8)

    def forward(self, x: torch.Tensor):
        if not (torch.is_tensor(x) and x.dtype == torch.uint8):
            raise ValueError("the lenet extractor expects uint8 image tensors")
        if x.dim() != 4 or x.shape[1] not in (1, 3) or tuple(x.shape[-2:]) != (28, 28):
            raise ValueError(f"the lenet extractor expects (N,1|3,28,28) images, got {tuple(x.shape)}")
        n, c = x.shape[:2]
        xf = x.reshape(n * c, 1, 28, 28).float().div(127.5).sub(1.0)  # [0,255] -> [-1,1]
        xf = xf.contiguous(memory_format=torch.channels_last)
        feat, logits = self.net.features_and_logits(xf)  # (N*C, 128), (N*C, 10)
        if c == 3:
            feat = feat.reshape(n, 3 * clf.FEATURE_DIM)  # per-channel features side by side
            logits = clf.stacked_log_probs(logits.reshape(n, 3, 10))  # (N, 1000)
        out = {self.FEATURES: feat, self.LOGITS: logits}
        return tuple(out[name] for name in self.features_list)


#: Part of every cache name of features this module computes: bump it whenever the
#: extractors' arithmetic changes, so cached real features are never compared with
#: generated features computed another way.
LAYOUT_TAG = "nhwc"


def cache_tag(extractor: str, weights_sha: str) -> str:
    """What a cached feature file's name says about how its features were computed."""
    return f"{extractor}-w{weights_sha[:12]}-{LAYOUT_TAG}"


def register_lenet() -> None:
    """Register ``lenet`` with torch-fidelity; calling it again (or re-importing) is a no-op."""
    current = FEATURE_EXTRACTORS_REGISTRY.get(LENET)
    if current is LeNetFeatureExtractor:
        return
    if current is None:
        register_feature_extractor(LENET, LeNetFeatureExtractor)
    elif getattr(current, "__module__", None) == __name__:
        # This module was reloaded: the registry still holds the previous class object.
        FEATURE_EXTRACTORS_REGISTRY[LENET] = LeNetFeatureExtractor
    else:
        raise GanZooError(
            f"torch-fidelity already has a different feature extractor named {LENET!r} "
            f"({current.__module__}.{current.__qualname__})"
        )


register_lenet()


# -- inputs ------------------------------------------------------------------------


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """Images in [-1, 1] (any float dtype, any device) -> uint8 in [0, 255] on the CPU."""
    return ((x.detach().float().cpu() + 1.0) * 127.5).round_().clamp_(0, 255).to(torch.uint8)


class UInt8Images(TorchDataset):
    """A torch Dataset over a uint8 ``(N, C, H, W)`` tensor, yielding ``(C, H, W)`` items.

    ``role`` ("generated" / "real" / "train") only labels the set for debugging and tests.
    """

    def __init__(self, images: torch.Tensor, role: str = ""):
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise ValueError("UInt8Images takes a uint8 (N, C, H, W) tensor")
        self.images = images
        self.role = role

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.images[i]


# -- extractor weights ---------------------------------------------------------------


def resolve_inception_weights(path: str | os.PathLike | None = None) -> Path:
    """Local Inception-v3 weights for ``inception-v3-compat``, or a one-line GanZooError.

    Looks at ``path`` if given, else at torch hub's checkpoint folder
    (``torch.hub.get_dir()/checkpoints/weights-inception-2015-12-05-6726825d.pth``,
    where torch-fidelity's own download lands). Never downloads.
    """
    if path is not None:
        p = Path(path).expanduser()
        if not p.is_file():
            raise GanZooError(f"--inception-weights {p}: no such file")
        p = p.resolve()
        check_plain_weights(p)
        return p
    hub = Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_FILE
    if hub.is_file():
        check_plain_weights(hub)
        return hub
    raise GanZooError(
        f"Inception-v3 weights for FID/IS on RGB images are not available offline "
        f"(not found at {hub}); get torch-fidelity's {INCEPTION_FILE} and pass "
        f"--inception-weights PATH (or put it at that path)"
    )


def check_plain_weights(path: str | os.PathLike) -> None:
    """Refuse, with one line naming the file, extractor weights that are not a plain state
    dict of tensors: torch-fidelity unpickles them with ``weights_only=False``, so a crafted
    file would run code there. Read here with ``weights_only=True`` first (nothing runs);
    checked once per path, size and modification time."""
    st = os.stat(path)
    _check_plain_weights(str(path), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _check_plain_weights(path: str, size: int, mtime_ns: int) -> None:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - whatever it is, torch-fidelity must not unpickle it
        raise GanZooError(f"Inception weights {path} are not a plain file of tensors "
                          f"({type(exc).__name__}); refusing to load it: get torch-fidelity's "
                          f"{INCEPTION_FILE} again") from None
    if not (isinstance(state, dict) and state
            and all(isinstance(k, str) and torch.is_tensor(v) for k, v in state.items())):
        raise GanZooError(f"Inception weights {path} are not a state dict of named tensors; "
                          f"refusing to load it: get torch-fidelity's {INCEPTION_FILE} again")


@functools.lru_cache(maxsize=8)
def _sha256_of(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def extractor_weights_sha256(extractor: str, weights_path: str | os.PathLike | None) -> str:
    """SHA-256 of the weights an extractor will use (memoized by path, size and mtime)."""
    if extractor == LENET and weights_path is None:
        return clf.WEIGHTS_SHA256
    st = os.stat(weights_path)
    return _sha256_of(str(weights_path), st.st_size, st.st_mtime_ns)


def feature_layers(extractor: str) -> dict[str, str]:
    """torch-fidelity layer per metric: ``{"isc": ..., "fid": ..., "kid": ..., "prc": ...}``."""
    if extractor == LENET:
        cls = LeNetFeatureExtractor
    elif extractor == INCEPTION:
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3 as cls
    else:
        raise GanZooError(f"unknown feature extractor {extractor!r}; valid: {', '.join(EXTRACTORS)}")
    return {m: cls.get_default_feature_layer_for_metric(m) for m in ("isc", "fid", "kid", "prc")}


def make_extractor(extractor: str, layers: list[str], weights_path=None,
                   device: str | torch.device = "cpu") -> nn.Module:
    """An instance of a registered extractor in eval mode, as torch-fidelity builds it."""
    cls = FEATURE_EXTRACTORS_REGISTRY[extractor]
    with quiet():
        fe = cls(extractor, list(layers), feature_extractor_weights_path=(
            None if weights_path is None else str(weights_path)), verbose=False)
    fe.requires_grad_(False)
    return fe.eval().to(device)


@torch.no_grad()
def extract_features(
    images_u8: torch.Tensor,
    extractor: str,
    layer: str,
    *,
    weights_path=None,
    device: str | torch.device = "cpu",
    batch_size: int = 500,
) -> torch.Tensor:
    """One feature layer of uint8 images ``(N, C, H, W)``, batched, on the CPU."""
    fe = make_extractor(extractor, [layer], weights_path, device)
    out = [fe(b.to(device))[0].cpu() for b in images_u8.split(batch_size)]
    return torch.cat(out)


# -- one torch-fidelity call ------------------------------------------------------------


#: torch-fidelity result keys -> ours.
_TF_KEYS = {
    "inception_score_mean": keys.IS_MEAN,
    "inception_score_std": keys.IS_STD,
    "frechet_inception_distance": keys.FID,
    "kernel_inception_distance_mean": keys.KID_MEAN,
    "kernel_inception_distance_std": keys.KID_STD,
    "precision": keys.PRECISION,
    "recall": keys.RECALL,
}


def _numpy_globals() -> list:
    """What a pickled numpy array needs (torch-fidelity stores FID statistics as numpy)."""
    import numpy as np

    kinds = ("float64", "float32", "float16", "int64", "int32", "uint8", "bool")
    return [np.zeros(1).__reduce__()[0], np.ndarray, np.dtype, *(type(np.dtype(k)) for k in kinds)]


def load_cached(path: str | os.PathLike):
    """Read a cached features or statistics file without running code: tensors, numpy
    arrays and plain containers only. Anything else (a crafted pickle) is refused with
    one line naming the file."""
    from gan_zoo.errors import GanZooError

    try:
        with torch.serialization.safe_globals(_numpy_globals()):
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure: the file is not ours to trust
        raise GanZooError(f"cached features {path} are not plain tensors or arrays ({type(exc).__name__}); "
                          "refusing to read it: delete the file and the features are computed again") from None


def verify_cache(cache_dir: str | os.PathLike, cache_name: str) -> None:
    """Before torch-fidelity unpickles (weights_only=False) the cache files of input
    ``cache_name``: each must load as plain data (:func:`load_cached`)."""
    for path in sorted(Path(cache_dir).glob(f"{cache_name}-*.pt")):
        load_cached(path)


def fidelity_metrics(
    generated_u8: torch.Tensor,
    real_u8: torch.Tensor,
    *,
    extractor: str,
    real_cache_name: str,
    cache_dir: Path,
    weights_path=None,
    isc: bool = True,
    cuda: bool = False,
    batch_size: int | None = None,
    keep_generated: tuple[str, ...] = (),
    keep_real: tuple[str, ...] = (),
    generated_role: str = "generated",
) -> tuple[dict, dict[str, torch.Tensor]]:
    """IS, FID, KID and precision/recall in one ``torch_fidelity.calculate_metrics`` call.

    ``generated_u8`` is input1, ``real_u8`` input2 (uint8 ``(N, C, H, W)``). The real
    input's features are cached by torch-fidelity under ``cache_dir`` as
    ``real_cache_name``. Returns the metrics under our key names (``is_*`` None when
    ``isc`` is off) and the generated features of the layers named in
    ``keep_generated`` (``"fid"`` / ``"isc"`` / ``"prc"``): to get them without a second
    pass, input1 gets a one-off cache name, whose files are read back and deleted. The
    real features of the layers in ``keep_real`` are read back from the real input's
    cache files and returned under ``"real-<metric>"``.
    """
    import torch_fidelity

    n_gen, n_real = len(generated_u8), len(real_u8)
    layers = feature_layers(extractor)
    scratch = f"gan-zoo-scratch-{uuid.uuid4().hex}" if keep_generated else None
    kwargs = dict(
        input1=UInt8Images(generated_u8, generated_role),
        input2=UInt8Images(real_u8, "real"),
        cuda=cuda,
        batch_size=batch_size or (500 if extractor == LENET else 64),
        isc=isc,
        fid=True,
        kid=True,
        prc=True,
        feature_extractor=extractor,
        feature_layer_isc=layers["isc"],
        feature_layer_fid=layers["fid"],
        feature_layer_kid=layers["kid"],
        feature_layer_prc=layers["prc"],
        feature_extractor_weights_path=None if weights_path is None else str(weights_path),
        kid_subset_size=min(1000, n_gen, n_real),
        cache=True,
        cache_root=str(cache_dir),
        input1_cache_name=scratch,
        input2_cache_name=real_cache_name,
        datasets_download=False,
        save_cpu_ram=True,  # in-process data loading (no worker processes) and chunked PR
        verbose=False,
    )
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    verify_cache(cache_dir, real_cache_name)
    try:
        with quiet():
            raw = torch_fidelity.calculate_metrics(**kwargs)
        kept = {}
        for metric in keep_generated:
            layer = layers[metric]
            f = Path(cache_dir) / f"{scratch}-{extractor}-features-{layer}.pt"
            if f.is_file():
                kept[metric] = load_cached(f)
            else:  # torch-fidelity named its cache files differently: recompute
                kept[metric] = extract_features(generated_u8, extractor, layer,
                                                weights_path=weights_path)
        for metric in keep_real:
            layer = layers[metric]
            f = Path(cache_dir) / f"{real_cache_name}-{extractor}-features-{layer}.pt"
            if f.is_file():
                kept[f"real-{metric}"] = load_cached(f)
            else:
                kept[f"real-{metric}"] = extract_features(real_u8, extractor, layer,
                                                          weights_path=weights_path)
    finally:
        if scratch:
            for f in Path(cache_dir).glob(f"{scratch}-*"):
                f.unlink(missing_ok=True)
    out = {ours: None for ours in _TF_KEYS.values()}
    for theirs, ours in _TF_KEYS.items():
        if theirs in raw:
            out[ours] = float(raw[theirs])
    return out, kept
