"""Light-weight in-training scores: FID of a small sample against the reference set's
cached features (image datasets), mode coverage (2-D mixtures). No IS, KID, PRC, MiFID.

:class:`CurveScorer` is built once per run; the reference set's FID statistics (the
same seeded uniform draw the final evaluation uses, :mod:`gan_zoo.metrics.realsets`)
are cached under the metrics cache folder, so a warm point costs the generated sample's
features and one matrix square root.
"""

from __future__ import annotations

from pathlib import Path

from gan_zoo.metrics import keys
from gan_zoo.metrics.realsets import REFERENCE_SEED

__all__ = ["CurveScorer", "curve_metrics"]


def curve_metrics(dataset: str) -> list[str]:
    """What an in-training point of ``dataset`` records: FID, or modes for 2-D mixtures."""
    from gan_zoo.data import dataset_info

    if dataset_info(dataset).kind == "points":
        return [keys.MODES, keys.HQ_FRAC]
    return [keys.FID]


class CurveScorer:
    """Scores generated samples of ``dataset`` against ``n`` reference images, with the
    extractor, Inception weights, cache folder and reference seed of ``evaluation`` (the
    grid's :class:`~gan_zoo.metrics.settings.EvalSettings`; None: the defaults)."""

    def __init__(self, dataset: str, n: int, *, data_root=None, device="cpu", evaluation=None,
                 feature_extractor: str | None = None, reference_seed: int = REFERENCE_SEED,
                 cache_dir=None):
        from gan_zoo.data import dataset_info
        from gan_zoo.metrics.settings import EvalSettings

        if evaluation is None:  # the earlier keywords, one by one
            evaluation = EvalSettings(feature_extractor=feature_extractor, cache_dir=cache_dir,
                                      reference_seed=reference_seed)
        self.evaluation = evaluation

        self.info = dataset_info(dataset)
        self.metrics = curve_metrics(dataset)
        self.n, self.device = n, device
        if self.info.kind == "points":
            return
        from gan_zoo.metrics import fidelity
        from gan_zoo.metrics.cache import content_digest, dataset_slug, resolve_cache_dir
        from gan_zoo.metrics.realsets import reference_set

        self.extractor = evaluation.extractor_for(dataset)
        weights = (fidelity.resolve_inception_weights(evaluation.inception_weights)
                   if self.extractor == fidelity.INCEPTION else None)
        sha = fidelity.extractor_weights_sha256(self.extractor, weights)
        self.layer = fidelity.feature_layers(self.extractor)["fid"]
        self.net = fidelity.make_extractor(self.extractor, [self.layer], weights, device)
        ref = reference_set(dataset, n, seed=evaluation.reference_seed, data_root=data_root)
        real_u8 = self._prepare(ref.images)
        name = (f"gan-zoo-curve-{dataset_slug(dataset)}-{ref.split}-seed{ref.seed}-n{len(real_u8)}-"
                f"{fidelity.cache_tag(self.extractor, sha)}-d{content_digest(real_u8)}.pt")
        path = Path(resolve_cache_dir(evaluation.cache_dir)) / name
        if path.is_file():  # plain arrays only: a crafted file is refused, never run
            self.real_stats = fidelity.load_cached(path)
        else:
            from gan_zoo.io import save_torch_atomic

            self.real_stats = self._stats(real_u8)
            path.parent.mkdir(parents=True, exist_ok=True)
            save_torch_atomic(self.real_stats, path)

    def _prepare(self, x):
        import torch.nn.functional as F

        from gan_zoo.metrics import fidelity

        if self.extractor == fidelity.LENET and x.shape[-1] != 28:
            x = F.interpolate(x.float(), size=(28, 28), mode="bilinear", antialias=True,
                              align_corners=False).clamp(-1, 1)
        u8 = fidelity.to_uint8(x.cpu())
        if self.extractor == fidelity.INCEPTION and u8.shape[1] == 1:
            u8 = u8.expand(-1, 3, -1, -1).contiguous()
        return u8

    def _stats(self, u8) -> dict:
        import torch
        from torch_fidelity.metric_fid import fid_features_to_statistics

        with torch.no_grad():
            feats = torch.cat([self.net(b.to(self.device))[0].cpu()
                               for b in u8.split(500 if self.extractor == "lenet" else 64)])
        return fid_features_to_statistics(feats)

    def score(self, generated) -> dict:
        """``{metric: value}`` for the first ``n`` of ``generated`` (in [-1, 1])."""
        generated = generated[: self.n]
        if self.info.kind == "points":
            from gan_zoo.metrics import modes

            res = modes.mixture_modes(generated.cpu(), self.info.mixture_centers(), self.info.sigma)
            return {k: res[k] for k in self.metrics}
        import torch
        from torch_fidelity.metric_fid import fid_statistics_to_metric

        if not bool(torch.isfinite(generated).all()):
            return {keys.FID: float("nan")}
        stats = self._stats(self._prepare(generated))
        fid = fid_statistics_to_metric(stats, self.real_stats, verbose=False)
        return {keys.FID: float(fid["frechet_inception_distance"])}
