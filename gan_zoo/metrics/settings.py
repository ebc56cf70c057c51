"""How runs are scored: one :class:`EvalSettings`, resolved once (from the command line,
the dataset's protocol and the budget) and passed whole to every scorer, the final one
(:func:`gan_zoo.metrics.score_run`) and the in-training one
(:class:`gan_zoo.metrics.curve.CurveScorer`), so a run's curve and its scores read the
same features.

The defaults are written here and nowhere else: a dataset's protocol sample count
(:func:`protocol_samples`, ``DatasetInfo.eval_samples``), how a budget may lower it
(:func:`budget_samples`) and its feature extractor (:func:`default_extractor`).
"""

from __future__ import annotations

from dataclasses import dataclass

from gan_zoo.metrics.realsets import REFERENCE_SEED

__all__ = ["EvalSettings", "protocol_samples", "budget_samples", "default_extractor", "max_samples",
           "check_sample_count", "MAX_SAMPLES", "MIN_SAMPLES"]


def protocol_samples(dataset: str) -> int | None:
    """Generated samples the dataset's evaluation protocol scores (MNIST 10,000 after
    Lucic et al. 2018, arXiv:1711.10337; Stacked MNIST 26,000; the 2-D mixtures 2,500)."""
    from gan_zoo.data import dataset_info

    return dataset_info(dataset).eval_samples


def budget_samples(dataset: str, cap: int) -> int:
    """The protocol count, lowered to a budget's ``cap`` only where the dataset allows it
    (``DatasetInfo.eval_samples_reducible``: MNIST, not Stacked MNIST or the mixtures,
    whose mode counts need the full count)."""
    from gan_zoo.data import dataset_info

    info = dataset_info(dataset)
    if info.eval_samples_reducible:
        return min(cap, info.eval_samples)
    return info.eval_samples


#: the most samples any command generates at once, whatever the memory
MAX_SAMPLES = 10_000_000
#: Fewest samples the distribution metrics accept (KID subsets, 3-NN precision/recall).
MIN_SAMPLES = 10


def max_samples(dataset: str) -> int:
    """The most samples of ``dataset`` a command may generate here: what fits in a quarter
    of this machine's memory at a few float copies per sample, at most :data:`MAX_SAMPLES`."""
    import os

    from gan_zoo.data import dataset_info

    info = dataset_info(dataset)
    per_sample = 2 if info.kind == "points" else info.channels * info.image_size ** 2
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = 16 * 2**30
    return max(1, min(MAX_SAMPLES, memory // 4 // (per_sample * 4 * 4)))


def check_sample_count(n, dataset: str, option: str) -> None:
    """Refuse (one line naming ``option``) a sample count no score can use or this machine
    cannot generate: fewer than ``MIN_SAMPLES`` or more than :func:`max_samples`."""
    from gan_zoo.errors import GanZooError

    cap = max_samples(dataset)
    if isinstance(n, bool) or not isinstance(n, int) or not MIN_SAMPLES <= n <= cap:
        raise GanZooError(f"{option} must be an integer in {MIN_SAMPLES}..{cap:,} for {dataset} "
                          f"(at most what fits in memory here), got {n}")


def default_extractor(dataset: str) -> str | None:
    """The dataset's default extractor (``lenet`` for the MNIST family,
    ``inception-v3-compat`` for RGB; None for point datasets)."""
    from gan_zoo.data import dataset_info

    return dataset_info(dataset).feature_extractor


@dataclass(frozen=True)
class EvalSettings:
    """How each run is scored (the same for every run of a grid).

    ``samples``: generated samples per run, None for the dataset's protocol count; when it
    differs, ``samples_reason`` (e.g. ``"quick budget"``) is recorded in
    ``eval_protocol``. ``feature_extractor`` None: the dataset's (:func:`default_extractor`).
    ``inception_weights``: the local Inception-v3 file for colour datasets;
    ``cache_dir``: where real-data features are cached (``cache.resolve_cache_dir``);
    ``reference_seed`` draws the real reference set (:mod:`gan_zoo.metrics.realsets`).
    :meth:`resolve` fills every default for a dataset; unresolved fields are filled per
    dataset by :meth:`samples_for` and :meth:`extractor_for`.
    """

    samples: int | None = None
    feature_extractor: str | None = None
    inception_weights: str | None = None
    cache_dir: str | None = None
    reference_seed: int = REFERENCE_SEED
    samples_reason: str = "asked for"

    @classmethod
    def resolve(cls, dataset: str, *, samples: int | None = None, samples_reason: str | None = None,
                budget=None, feature_extractor: str | None = None, inception_weights: str | None = None,
                cache_dir: str | None = None) -> "EvalSettings":
        """The settings of a grid of ``dataset``: ``samples`` when given (reason
        ``samples_reason``, default ``"--eval-samples"``), else the ``budget``'s count
        (:func:`budget_samples` with ``budget.eval_samples``), else the protocol's; the
        extractor given, else the dataset's."""
        from gan_zoo.errors import GanZooError

        if samples is not None:
            check_sample_count(samples, dataset, "--eval-samples")
        if samples is not None:
            reason = samples_reason or "--eval-samples"
        elif budget is not None:
            samples, reason = budget_samples(dataset, budget.eval_samples), f"{budget.name} budget"
        else:
            samples, reason = protocol_samples(dataset), "protocol"
        return cls(samples=samples, samples_reason=reason,
                   feature_extractor=feature_extractor or default_extractor(dataset),
                   inception_weights=inception_weights, cache_dir=cache_dir)

    def samples_for(self, dataset: str) -> int | None:
        """Samples scored per run of ``dataset``: ``samples``, else the protocol's."""
        return self.samples or protocol_samples(dataset)

    def extractor_for(self, dataset: str) -> str | None:
        """The extractor a run of ``dataset`` is scored with."""
        return self.feature_extractor or default_extractor(dataset)

    def check(self, dataset: str) -> None:
        """Fail now (one line) when this extractor cannot score ``dataset``: an unknown
        name, or Inception weights that are not on disk."""
        from gan_zoo.data import dataset_info
        from gan_zoo.errors import GanZooError

        info = dataset_info(dataset)
        if info.kind == "points":
            if self.feature_extractor is not None:  # given, yet nothing would read it
                raise GanZooError(f"--feature-extractor does not apply to {dataset}: a 2-D mixture is "
                                  "scored by mode coverage, without features; leave it out")
            return  # scored by mode coverage only
        from gan_zoo.metrics import fidelity

        extractor = self.extractor_for(dataset)
        if extractor not in fidelity.EXTRACTORS:
            raise GanZooError(f"unknown --feature-extractor {extractor!r}; valid: {', '.join(fidelity.EXTRACTORS)}")
        if extractor == fidelity.LENET and info.channels == 3 and not info.classifier:
            raise GanZooError(f"--feature-extractor lenet reads MNIST-style digits and cannot score "
                              f"{dataset}; use {fidelity.INCEPTION}")
        if extractor == fidelity.INCEPTION:
            fidelity.resolve_inception_weights(self.inception_weights)
