"""Every script in benchmarks/ imports and parses its options (default suite), and runs in
its --quick mode (``python -m pytest -q -m benchmark``: about 8 minutes on two cores, so
outside the default suite; run it before recording a benchmark's figures). The figures of
a quick run mean nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p.name for p in (REPO / "benchmarks").glob("bench_*.py"))


def _run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "MPLBACKEND": "Agg", "TMPDIR": str(tmp_path)}
    return subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=600, check=False)


def test_every_benchmark_is_listed():
    assert "bench_fixed_cost.py" in SCRIPTS and "bench_gpu.py" in SCRIPTS and len(SCRIPTS) >= 9


@pytest.mark.parametrize("script", SCRIPTS)
def test_benchmark_imports_and_offers_quick(script, tmp_path):
    """In the default suite: every script imports against the current package and parses
    its options (its --quick run, minutes each, is the ``benchmark`` marker's)."""
    helped = _run([str(REPO / "benchmarks" / script), "--help"], tmp_path)
    assert helped.returncode == 0 and "--quick" in helped.stdout, helped.stderr[-2000:]


@pytest.mark.slow
@pytest.mark.benchmark
@pytest.mark.parametrize("script", SCRIPTS)
def test_benchmark_quick_mode_runs(script, tmp_path, mnist_root):
    path = str(REPO / "benchmarks" / script)
    args = [path, "--quick", "--data-root", str(mnist_root)]
    if script == "bench_gpu.py" and not torch.cuda.is_available():
        # without a GPU only the CPU dry run of the same code is possible
        args += ["--device", "cpu"]
    done = _run(args, tmp_path)
    assert done.returncode == 0, f"{script} --quick failed:\n{done.stderr[-3000:]}"
    assert done.stdout.strip(), f"{script} --quick printed nothing"
    if script == "bench_gpu.py" and not torch.cuda.is_available():
        assert "no GPU: a CPU check only" in done.stdout
        pytest.skip("bench_gpu.py: GPU figures and the host-sync check need CUDA; "
                    "its CPU dry run passed")
