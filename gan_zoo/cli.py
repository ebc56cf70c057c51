"""The ``gan-zoo`` command line: a thin click group over the library.

Every user mistake surfaces as one line on stderr, ``gan-zoo: error: ...``, and exit
code 2; no traceback. Commands live next to the code they drive and are attached here.
"""

from __future__ import annotations

import contextlib
import errno
import sys

import click

from gan_zoo.version import __version__
from gan_zoo.errors import GanZooError
from gan_zoo.settings import PRECISIONS
from gan_zoo.options import (data_root_option, dataset_option, device_option, feature_extractor_option,
                             inception_weights_option, sets_option, steps_option)


class ZooGroup(click.Group):
    """A click group whose errors are one line: what was wrong and what is allowed."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            with _sigterm_as_interrupt():
                return super().main(args=args, prog_name=prog_name or "gan-zoo",
                                    complete_var=complete_var, standalone_mode=False, **extra)
        except GanZooError as exc:
            _fail(str(exc), exc.exit_code)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.Abort:
            _fail("interrupted", 130)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                _fail(f"disk full: no space left on the device writing {exc.filename or 'the output'}; "
                      "free some space or choose another --out", 2)
            _fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc), 2)
        # standalone mode would exit 0 after a successful command
        sys.exit(0)


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """SIGTERM ends a command as Ctrl-C does (a grid stops its workers and says how far it
    got, in one line), instead of killing it mid-write; the previous handler afterwards."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _fail(message: str, code: int) -> None:
    first = " ".join(str(message).split())  # one line, whatever the message held
    click.echo(f"gan-zoo: error: {first}", err=True)
    sys.exit(code)


@click.group(cls=ZooGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gan-zoo")
def cli() -> None:
    """gan-zoo: a loss-function zoo and benchmark harness for GANs."""


@cli.command("losses")
@click.argument("name", required=False)
def losses_command(name: str | None) -> None:
    """List every objective with its D and G formulas, or show NAME in full."""
    from gan_zoo.losses import get_loss, list_losses

    if name is not None:
        click.echo(get_loss(name).describe())
        from gan_zoo.search.space import describe_space

        click.echo("\n".join(["", *describe_space(name)]))
        return
    for n in list_losses():
        obj = get_loss(n)
        click.echo(f"{n}")
        click.echo(f"  D: {obj.d_formula}")
        click.echo(f"  G: {obj.g_formula}")
        click.echo(f"  paper: {obj.paper}")


@cli.command("train")
@dataset_option("Dataset name (gan-zoo datasets lists them) or folder:PATH.")
@click.option("--loss", default="ns", show_default=True, help="Objective name (gan-zoo losses lists them).")
@click.option("--regularizers", default="none", show_default=True,
              help="Regularizer names joined with '+', or 'none' (gan-zoo regularizers lists them).")
@steps_option("Generator steps [default: 1000].")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed of the run.")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Run folder [default: runs/<run id>]. Re-running into it resumes.")
@sets_option("KEY=VALUE", "Set any run-spec field, e.g. nz=200, batch_size=128, n_critic=5, width=64 (repeatable).")
@click.option("--conditional", is_flag=True, help="Condition G and D on the class label (Mirza & Osindero 2014, "
              "arXiv:1411.1784).")
@data_root_option
@device_option
@click.option("--precision", type=click.Choice(PRECISIONS), default=None,
              help="Numeric precision [default: fp32 on the CPU, tf32 on a GPU]; recorded in "
                   "result.json, and part of the run id unless fp32.")
@click.option("--preset", default=None,
              help="Start from a paper's configuration (gan_zoo.presets, e.g. pacgan); --set and "
                   "--steps override its values.")
def train_command(dataset, loss, regularizers, steps, seed, out, sets, conditional, data_root, device,
                  precision, preset):
    """Train one (dataset, objective, regularizers, seed) run into a folder."""
    from pathlib import Path

    from gan_zoo.resolve import resolve
    from gan_zoo.runs import BEST50_PNG, CURVES_PNG, LOG_CSV, SAMPLES_PNG, SPEC_JSON
    from gan_zoo.runspecs import parse_sets, spec_from_options
    from gan_zoo.train import train_run

    preset_values: dict = {}
    if preset is not None:
        from gan_zoo.presets import get_preset

        chosen = get_preset(preset)
        chosen.check_dataset(dataset)
        preset_values = {**chosen.values, "preset": preset}
    fields = {**preset_values, "dataset": dataset, "loss": loss, "regularizers": regularizers,
              "seed": seed, "conditional": conditional, "device": device}
    if steps is not None:
        fields["steps"] = steps
    values = parse_sets(sets)  # --set wins over the preset and --steps
    spec = spec_from_options({**fields, **values}, set_keys=values, precision=precision)
    res = resolve(spec)
    run_dir = Path(out) if out else Path("runs") / spec.run_id()
    from gan_zoo.data import get_dataset

    # the data is read before the banner: a problem with it is the one line printed
    data = get_dataset(spec.dataset, root=data_root, train=True, device=res.device, seed=spec.seed)

    def announce():  # after the checkpoint was read: a refusal stays the only line
        click.echo(f"training {spec.loss} on {spec.dataset} ({res.backbone}, {spec.regularizers}) "
                   f"for {spec.steps} steps on {res.device} ({spec.precision}) -> {run_dir}", err=True)

    with _writer_of(run_dir, "--out run folder"):
        result = train_run(spec, run_dir, data_root=data_root, data=data, announce=announce)
    click.echo(f"{result.status}: {result.steps} generator steps, {result.d_steps} critic steps, "
               f"{result.wall_s:.1f} s training" + (f"; {result.reason}" if result.reason else ""))
    click.echo(f"run folder: {run_dir} ({', '.join((SPEC_JSON, LOG_CSV, SAMPLES_PNG, BEST50_PNG, CURVES_PNG))})")


@contextlib.contextmanager
def _writer_of(folder, what: str):
    """Hold ``folder``'s write lock (one writer per folder) and clear the temporaries a killed
    writer left there; a folder this command created and then wrote nothing into is removed."""
    from pathlib import Path

    from gan_zoo.io import remove_stale_temporaries
    from gan_zoo.lock import LOCK_FILE, folder_lock

    folder = Path(folder)
    created = not folder.exists()
    ok = False
    try:
        with folder_lock(folder, what):
            remove_stale_temporaries(folder)
            yield folder
            ok = True
    finally:
        if created and not ok and folder.is_dir() and [p.name for p in folder.iterdir()] == [LOCK_FILE]:
            (folder / LOCK_FILE).unlink()
            folder.rmdir()


@cli.command("sample")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--n", type=click.IntRange(min=1), default=64, show_default=True, help="Number of samples.")
@click.option("--label", type=int, default=None, help="Class to generate (conditional runs).")
@click.option("--best", is_flag=True, help="Keep the n of 10n samples that D scores highest.")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True,
              help="Seed of the latent draws (0..2**63-1).")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="PNG to write [default: RUN_DIR/sample[_best][_label<c>].png].")
def sample_command(run_dir, n, label, best, seed, out):
    """Write a grid of samples (or a scatter plot for 2-D mixtures) from a trained run."""
    from pathlib import Path

    import torch

    from gan_zoo.pictures import grid_nrow, save_grid
    from gan_zoo.runs import load_run

    if out is not None:
        _check_picture_format(out)
    spec = _check_spec_file(run_dir)
    from gan_zoo.metrics.settings import max_samples

    cap = max_samples(spec.dataset)
    if (n * 10 if best else n) > cap:  # refused before any work
        raise GanZooError(f"--n {n}{' with --best (10n drawn)' if best else ''} is more samples of "
                          f"{spec.dataset} than fit in memory here; at most {cap // (10 if best else 1):,}")
    run = load_run(run_dir)
    if label is not None and not run.num_classes:
        raise GanZooError("--label needs a conditional run; this one is not")
    if run.num_classes and label is None:
        raise GanZooError(f"this run is conditional: give --label in 0..{run.num_classes - 1}")
    pool = n * 10 if best else n
    x = run.sample(pool, labels=label, seed=seed)
    if best:
        y = None if label is None else torch.full((pool,), label, dtype=torch.long)
        x = x[run.score(x, y).argsort(descending=True)[:n]]
    name = "sample" + ("_best" if best else "") + (f"_label{label}" if label is not None else "") + ".png"
    path = Path(out) if out else Path(run_dir) / name
    save_grid(x, path, nrow=grid_nrow(n),
              title=f"{run.spec.loss} on {run.spec.dataset}" + (f", label {label}" if label is not None else ""))
    click.echo(f"wrote {path}")


def _check_spec_file(run_dir):
    """A run folder's spec.json (and result.json) read and checked first: a malformed one
    is one line naming it. Returns the spec."""
    from pathlib import Path

    from gan_zoo.io import read_json
    from gan_zoo.runs import SPEC_JSON
    from gan_zoo.spec import RunSpec

    path = Path(run_dir) / SPEC_JSON
    if not path.is_file():
        raise GanZooError(f"{run_dir} is not a run folder (no {SPEC_JSON})")
    spec = RunSpec.from_dict(read_json(path), source=str(path))
    from gan_zoo.runs import RESULT_JSON, read_result_file

    if (Path(run_dir) / RESULT_JSON).is_file():
        read_result_file(run_dir)  # checked too, before the folder is locked
    return spec


def _check_picture_format(path: str) -> None:
    """A picture path whose suffix matplotlib cannot write: one line listing the formats."""
    from matplotlib.figure import Figure

    formats = sorted(Figure().canvas.get_supported_filetypes())
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    if suffix not in formats:
        raise GanZooError(f"--out {path}: unknown picture format {suffix or '(no suffix)'!r}; "
                          f"valid: {', '.join(formats)}")


@cli.command("eval")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--n", type=click.IntRange(min=1), default=None,
              help="Generated samples to score [default: the dataset's protocol count: MNIST "
                   "10,000 (Lucic et al. 2018), Stacked MNIST 26,000, mixtures 2,500].")
@data_root_option
@feature_extractor_option
@inception_weights_option
def eval_command(run_dir, n, data_root, feature_extractor, inception_weights):
    """Score a trained run: FID, IS, KID, precision/recall, MiFID and mode coverage.

    Writes RUN_DIR/metrics.json and prints the figures; refuses a folder that another
    gan-zoo command is writing.
    """
    from pathlib import Path

    from gan_zoo.io import write_json_atomic
    from gan_zoo.metrics import EvalOptions, score_run
    from gan_zoo.runs import METRICS_JSON

    run_dir = Path(run_dir)
    spec = _check_spec_file(run_dir)
    options = EvalOptions(samples=n, feature_extractor=feature_extractor,
                          inception_weights=inception_weights, samples_reason="gan-zoo eval --n")
    from gan_zoo.metrics.settings import check_sample_count

    if n is not None:  # as bench's --eval-samples: enough to score, and what fits in memory
        check_sample_count(n, spec.dataset, "--n")
    options.check(spec.dataset)  # an extractor that cannot score this run: one line now
    with _writer_of(run_dir, "run folder"):  # a training or another eval there: one line
        metrics = score_run(run_dir, options, data_root=data_root)
        write_json_atomic(run_dir / METRICS_JSON, metrics)
    for key, value in metrics.items():
        if value is not None:
            click.echo(f"{key:18s} {value:.6g}" if isinstance(value, float) else f"{key:18s} {value}")
    click.echo(f"wrote {run_dir / METRICS_JSON}")


@cli.command("regularizers")
def regularizers_command():
    """List the regularizers and training tricks with their parameters."""
    from gan_zoo.regularizers import get_regularizer, list_regularizers

    for name in list_regularizers():
        reg = get_regularizer(name)
        params = ", ".join(f"{name}.{k}={v}" for k, v in reg.p.items()) or "no parameters"
        click.echo(f"{name}")
        click.echo(f"  {reg.summary}" + ("  [label trick: needs an objective with targets]" if reg.label_trick else ""))
        click.echo(f"  parameters: {params}")
        click.echo(f"  source: {reg.source}")


@cli.command("datasets")
def datasets_command():
    """List the datasets with their shape and fixed backbone."""
    from gan_zoo.data import dataset_info, list_datasets

    for name in list_datasets():
        info = dataset_info(name)
        click.echo(f"{name:15s} {info.kind:6s} shape {'x'.join(map(str, info.shape)):8s} "
                   f"classes {info.num_classes:4d}  backbone {info.default_backbone}")
    click.echo(f"{'folder:PATH':15s} image  any folder of images, resized and centre-cropped to 64x64 (dcgan64)")


def _attach() -> None:
    from gan_zoo.bench.commands import bench_command, report_command

    cli.add_command(bench_command)
    cli.add_command(report_command)
    from gan_zoo.search.command import search_command

    cli.add_command(search_command)


_attach()


def main() -> None:
    cli.main()


if __name__ == "__main__":
    main()
