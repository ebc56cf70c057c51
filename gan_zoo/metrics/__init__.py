"""Scores of generated samples: IS, FID, KID, precision/recall, MiFID and mode coverage.

This package only re-exports; the pieces live in

* ``settings``    how runs are scored (``EvalSettings``) and the defaults' one home;
* ``evaluation``  scoring one trained run (``score_run``);
* ``scores``      scoring a set of samples (``evaluate``, ``warm_real_features``);
* ``cache``       where real-data features are cached and how their files are named;
* ``classifier``  the shipped MNIST classifier (logits for IS / modes, features for FID);
* ``fidelity``    the torch-fidelity adapter (``lenet`` extractor, one metrics call);
* ``mifid``       the memorization penalty of MiFID;
* ``modes``       mode coverage of class predictions and of 2-D mixtures;
* ``keys``        the result key names.

Importing this package is cheap: torch, torch-fidelity and the data loaders are
imported when scoring runs.
"""

from __future__ import annotations

from gan_zoo.metrics import keys
from gan_zoo.metrics.cache import resolve_cache_dir
from gan_zoo.metrics.evaluation import EvalOptions, score_run
from gan_zoo.metrics.scores import MIN_SAMPLES, evaluate, warm_real_features
from gan_zoo.metrics.settings import EvalSettings, default_extractor

__all__ = ["EvalSettings", "EvalOptions", "score_run", "evaluate", "warm_real_features", "resolve_cache_dir",
           "default_extractor", "keys", "MIN_SAMPLES"]
