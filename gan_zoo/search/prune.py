"""``gan-zoo search --prune``: successive halving over the trials' in-training score points.

Each trial of a pruned search carries a :class:`RungHook` into its worker. At every score
point the hook reports the trial's score so far (the best point up to that step: the
trial's search score, :func:`gan_zoo.search.study.trial_score`, had it stopped there) to
the trial in the study's storage (for the 2-D mixtures: modes plus the high-quality share
below 1, the order of the search score), and asks Optuna's asynchronous
:class:`~optuna.pruners.SuccessiveHalvingPruner` whether to go on. Rungs sit at the first
score point's step times 2, 4, 8 ... (reduction factor 2: a trial goes on when its score
is in the better half of the trials that reached that rung before it; the first trial at
a rung always goes on). A stopped run ends with status ``pruned``: its points are kept,
it gets no final evaluation, and its trial is told PRUNED.

Which trials stop depends on the order in which trials reach a rung: with one worker that
order is the trial list's (a pruned search repeats itself); with several it depends on
their timing.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

__all__ = ["REDUCTION_FACTOR", "RungHook", "pruner", "first_rung"]

#: a trial goes on when it is in the better half at its rung ("the worst half is stopped")
REDUCTION_FACTOR = 2

_STORAGES: dict[str, object] = {}  # one engine per storage URL in a worker process


def pruner(min_resource: int, reduction_factor: int = REDUCTION_FACTOR):
    import optuna

    return optuna.pruners.SuccessiveHalvingPruner(min_resource=int(min_resource),
                                                  reduction_factor=int(reduction_factor),
                                                  min_early_stopping_rate=0)


def first_rung(steps: int, curve_points: int) -> int:
    """The step of a run's first score point (:class:`gan_zoo.trainlog.ScoreCurve`)."""
    return max(1, round(steps / curve_points))


@dataclass(frozen=True)
class RungHook:
    """``on_point`` of one trial's run (picklable: it travels to worker processes)."""

    storage: str  # the study's storage URL
    study: str  # its study name
    trial_id: int  # the trial's storage id
    metric: str  # the score column of a point (fid, or modes)
    lower_is_better: bool
    min_resource: int  # the first rung's step
    reduction_factor: int = REDUCTION_FACTOR
    #: a column that breaks ties of ``metric`` (the 2-D mixtures: the high-quality share,
    #: added below 1 so modes rank first and the share among equal modes)
    tie_break: str | None = None

    def __call__(self, step: int, row: dict) -> bool:
        """Report the score so far at ``step`` and say whether to stop the run here."""
        value = row.get(self.metric)
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            return False  # a point that could not be scored decides nothing
        share = row.get(self.tie_break) if self.tie_break else None
        if isinstance(share, (int, float)) and math.isfinite(share):
            value = float(value) + min(max(float(share), 0.0), 0.999)
        try:
            trial = self._trial()
            best = float(value)
            earlier = [v for s, v in trial.study._storage.get_trial(self.trial_id).intermediate_values.items()
                       if s < step and math.isfinite(v)]
            if earlier:
                best = min(earlier + [best]) if self.lower_is_better else max(earlier + [best])
            trial.report(best, int(step))
            return bool(trial.should_prune())
        except Exception as exc:  # noqa: BLE001 - a storage that is busy or gone: train on
            print(f"gan-zoo: trial {self.study}#{self.trial_id}: could not reach the study to prune "
                  f"({type(exc).__name__}: {' '.join(str(exc).split())[:160]}); training on", file=sys.stderr)
            return False

    def _trial(self):
        import optuna

        from gan_zoo.search.storage import open_storage, quiet_optuna

        quiet_optuna()
        storage = _STORAGES.get(self.storage)
        if storage is None:
            storage = _STORAGES[self.storage] = open_storage(self.storage)
        study = optuna.load_study(study_name=self.study, storage=storage,
                                  pruner=pruner(self.min_resource, self.reduction_factor))
        return optuna.trial.Trial(study, self.trial_id)
