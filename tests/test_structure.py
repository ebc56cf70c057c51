"""The house rules, checked on the source: no import cycle inside gan_zoo (imports
inside functions count), no module or benchmark imports another module's private
names, and the run folder's file names are spelled in gan_zoo/runs.py only."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "gan_zoo"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """gan_zoo modules ``path`` imports anywhere in its body (top level or in functions);
    ``from pkg import sub`` counts as importing ``pkg.sub`` when that is a module."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                found.add(sub if sub in modules else node.module)
    return {m for m in found if m in modules}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_the_package():
    modules = _modules()
    graph = {name: _imports(path, modules) - {name} for name, path in modules.items()}
    assert _cycles(graph) == []


def _private_imports(path: Path) -> list[str]:
    bad = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gan_zoo"):
            bad += [f"{path.relative_to(REPO)}: from {node.module} import {a.name}"
                    for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
    return bad


def test_no_module_or_benchmark_imports_private_names():
    files = [*PACKAGE.rglob("*.py"), *(REPO / "benchmarks").glob("*.py")]
    bad = [line for f in files for line in _private_imports(f)]
    assert bad == []


def test_private_import_check_catches_one(tmp_path):
    probe = REPO / "tests" / "data-private-import-probe.py"
    try:
        probe.write_text("from gan_zoo.train import _optimizer\nfrom gan_zoo import __version__\n")
        assert _private_imports(probe) == [
            "tests/data-private-import-probe.py: from gan_zoo.train import _optimizer"]
    finally:
        probe.unlink()


#: a run folder's file names (gan_zoo.runs owns them)
RUN_FILE_NAMES = ["spec.json", "result.json", "metrics.json", "log.csv", "last.pt", "samples.png",
                  "samples.npz", "best50.png", "curves.png", "error.txt"]


def test_run_folder_file_names_are_spelled_in_runs_only():
    pattern = re.compile(r"""["'][^"'\n]*\b(%s)["']""" % "|".join(map(re.escape, RUN_FILE_NAMES)))
    bad = []
    for path in PACKAGE.rglob("*.py"):
        if path == PACKAGE / "runs.py":
            continue
        # string literals only: docstrings and comments may name the files
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "\n" not in node.value:
                if pattern.search(repr(node.value)):
                    bad.append(f"{path.relative_to(REPO)}:{node.lineno}: {node.value!r}")
    assert bad == []
    from gan_zoo import runs

    assert {runs.SPEC_JSON, runs.RESULT_JSON, runs.METRICS_JSON, runs.LOG_CSV, runs.SAMPLES_PNG,
            runs.BEST50_PNG, runs.CURVES_PNG} <= {n for n in RUN_FILE_NAMES}


def _pyplot_users() -> list[str]:
    users = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [f"{node.module}.{a.name}" for a in node.names]
                     if isinstance(node, ast.ImportFrom) and node.module else [])
            if any(n.startswith("matplotlib.pyplot") for n in names):
                users.append(_module_name(path))
    return users


def test_no_module_draws_through_pyplot():
    """Figures are matplotlib Figure objects: pyplot costs a run an import and global state."""
    assert _pyplot_users() == []
