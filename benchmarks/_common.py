"""Shared helpers of the speed benchmarks: side-by-side timing and how results print.

These machines are shared and noisy, so no benchmark compares absolute times across
process runs. Each one times its contenders in the same process, in alternating
rounds (the order flips every round, so a drift in machine load hits both sides
alike), and reports the median of the per-round ratios.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def timed(fn: Callable[[], object]) -> float:
    """Wall seconds of one call."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def interleave(contenders: dict[str, Callable[[], object]], rounds: int,
               warmup: int = 1) -> dict[str, list[float]]:
    """Call every contender once per round, flipping the order each round.

    Returns ``{name: [seconds of round 1, ...]}``; ``warmup`` rounds run first and are
    not recorded (first-call allocations, kernel selection, page faults).
    """
    names = list(contenders)
    for _ in range(warmup):
        for name in names:
            contenders[name]()
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        for name in (names if r % 2 == 0 else names[::-1]):
            times[name].append(timed(contenders[name]))
    return times


def ratios(num: list[float], den: list[float]) -> list[float]:
    """Per-round ratios num[i] / den[i]."""
    return [a / b for a, b in zip(num, den)]


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def spread(xs: list[float]) -> str:
    """``median [min, max]`` of a list of ratios, for the printout."""
    return f"{median(xs):.3f} [min {min(xs):.3f}, max {max(xs):.3f}, n={len(xs)}]"


def machine() -> str:
    """One line about where the numbers come from (load average: how noisy it was)."""
    import torch

    try:
        load = "load avg %.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        load = "load avg n/a"
    return (f"{platform.machine()} {os.cpu_count()} cores, torch {torch.__version__}, "
            f"{torch.get_num_threads()} threads, {load}")


def verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"


def command_line() -> str:
    """The command that produced this output, for RESULTS.md."""
    return "python " + " ".join([os.path.relpath(sys.argv[0], REPO)] + sys.argv[1:])


def rss_kib() -> int:
    """Current resident set size of this process in KiB (/proc/self/statm)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


def peak_rss_kib() -> int:
    """Peak resident set size of this process in KiB (getrusage; Linux reports KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


#: Where the benchmarks that score runs keep real-data features between runs (warm).
BENCH_CACHE = str(Path(tempfile.gettempdir()) / "gan-zoo-bench-cache")


def parser(doc: str, *, cache: bool = False) -> argparse.ArgumentParser:
    """The options every benchmark takes: its description from ``doc``, ``--data-root``
    and, with ``cache``, ``--cache`` (default :data:`BENCH_CACHE`)."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--data-root", default=None, help="folder holding MNIST/raw (default: $GAN_ZOO_DATA)")
    if cache:
        p.add_argument("--cache", default=BENCH_CACHE, help=f"real-feature cache (default {BENCH_CACHE})")
    return p


def _default_data_root() -> None:
    """As the test suite does: without $GAN_ZOO_DATA, use ../shared/data when it holds
    MNIST (the offline copy next to the repository), so no benchmark tries the network."""
    root = REPO.parent / "shared" / "data"
    if "GAN_ZOO_DATA" not in os.environ and (root / "MNIST" / "raw").is_dir():
        os.environ["GAN_ZOO_DATA"] = str(root)


_default_data_root()
