"""The benchmark: from a grid of run specs to tables, statistics, plots and a report.

Reading side (this package's tables/stats/plots/report modules): run folders ->
``runs.csv``, ``curves.csv``, ``summary.csv``, ``stats.csv``, ``plots/*.png`` and
``report.md``, all rebuilt from the run folders by :func:`rebuild`. The import is
lazy so that the runner does not pay for pandas and seaborn at start-up.
"""

from __future__ import annotations

__all__ = ["rebuild"]


def rebuild(results_dirs, out_dir=None):
    """Collect runs, write tables, plots and report; see :func:`gan_zoo.bench.report.rebuild`."""
    from gan_zoo.bench.report import rebuild as _rebuild

    return _rebuild(results_dirs, out_dir)
