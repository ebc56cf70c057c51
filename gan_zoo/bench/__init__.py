"""The benchmark: from a grid of run specs to tables, statistics, plots and a report.

Running side: :mod:`~gan_zoo.bench.plan` (the checked plan of ``gan-zoo bench``),
:mod:`~gan_zoo.bench.grid`, :mod:`~gan_zoo.bench.runner` and the executors
(:mod:`~gan_zoo.bench.executors`). Reading side: run folders -> ``runs.csv``,
``curves.csv``, ``summary.csv``, ``stats.csv``, ``plots/*.png`` and ``report.md``, all
rebuilt from the run folders by :func:`gan_zoo.bench.report.rebuild`. Nothing is
imported here, so the runner does not pay for pandas and seaborn at start-up.
"""
