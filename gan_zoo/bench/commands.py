"""``gan-zoo report``: rebuild tables, statistics, plots and report.md from run folders.

Kept next to the code it drives; ``gan_zoo.cli`` attaches ``report_command`` to the group.
"""

from __future__ import annotations

from pathlib import Path

import click

from gan_zoo.errors import GanZooError

__all__ = ["report_command"]


@click.command("report")
@click.argument("results_dirs", metavar="DIR [DIR...]", nargs=-1, required=True,
                type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for runs.csv, summary.csv, stats.csv, plots/ and report.md "
                   "(default: the first DIR).")
def report_command(results_dirs: tuple[Path, ...], out_dir: Path | None) -> None:
    """Rebuild tables, statistics, plots and report.md from the runs in DIR (several DIRs
    are merged; a run found twice keeps its most complete copy)."""
    from gan_zoo.bench.report import rebuild  # pandas/seaborn only when the command runs

    for d in results_dirs:
        if not d.is_dir():
            raise GanZooError(f"results folder {d} does not exist")
    paths = rebuild(list(results_dirs), out_dir)
    for name in ("runs", "summary", "stats", "curves"):
        if name in paths:
            click.echo(f"{name + ':':9}{paths[name]}")
    click.echo(f"{'plots:':9}{len(paths['plots'])} figures in {Path(paths['report']).parent / 'plots'}")
    click.echo(f"{'report:':9}{paths['report']}")
