"""Scoring one trained run: ``score_run``.

``gan-zoo eval`` and the benchmark runner both score a run folder with
:func:`score_run`, with the grid's :class:`~gan_zoo.metrics.settings.EvalSettings`.
"""

from __future__ import annotations

import os
from pathlib import Path

from gan_zoo.metrics.settings import EvalSettings

__all__ = ["EvalSettings", "EvalOptions", "EVAL_SEED_OFFSET", "score_run"]

#: A run's samples for scoring are drawn with seed ``EVAL_SEED_OFFSET + spec.seed``
#: (away from the seeds training uses).
EVAL_SEED_OFFSET = 10_000


#: the earlier name of :class:`EvalSettings`
EvalOptions = EvalSettings


def score_run(run_dir: str | os.PathLike, options: EvalSettings, *, data_root=None) -> dict:
    """Score the trained run in ``run_dir``: load it on its device, draw
    ``options.samples`` samples (default: the dataset's protocol count) with seed ``EVAL_SEED_OFFSET + spec.seed`` (every class
    equally often for a conditional run) and :func:`~gan_zoo.metrics.scores.evaluate`
    them. Returns the metrics dict (the caller writes ``metrics.json``)."""
    import torch

    from gan_zoo.io import read_json
    from gan_zoo.metrics.scores import evaluate
    from gan_zoo.resolve import resolve_device
    from gan_zoo.runs import SPEC_JSON, load_run
    from gan_zoo.spec import RunSpec

    spec = RunSpec.from_dict(read_json(Path(run_dir) / SPEC_JSON))
    run = load_run(run_dir, device=resolve_device(spec.device))
    n = options.samples_for(spec.dataset)
    labels = None
    if run.num_classes:  # conditional: ask for every class equally often
        labels = torch.arange(n) % run.num_classes
    generated = run.sample(n, labels=labels, seed=EVAL_SEED_OFFSET + spec.seed)
    return evaluate(generated, dataset=spec.dataset, labels=labels, data_root=data_root, n=n,
                    device=run.device, feature_extractor=options.feature_extractor,
                    inception_weights=options.inception_weights, cache_dir=options.cache_dir,
                    reference_seed=options.reference_seed, samples_reason=options.samples_reason)
