"""The ``gan-zoo`` command line: a thin click group over the library.

Every user mistake surfaces as one line on stderr, ``gan-zoo: error: ...``, and exit
code 2; no traceback. Commands live next to the code they drive and are attached here.
"""

from __future__ import annotations

import sys

import click

from gan_zoo import __version__
from gan_zoo.errors import GanZooError


class ZooGroup(click.Group):
    """A click group whose errors are one line: what was wrong and what is allowed."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
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
            _fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc), 2)
        # standalone mode would exit 0 after a successful command
        sys.exit(0)


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
        return
    for n in list_losses():
        obj = get_loss(n)
        click.echo(f"{n}")
        click.echo(f"  D: {obj.d_formula}")
        click.echo(f"  G: {obj.g_formula}")
        click.echo(f"  paper: {obj.paper}")


def main() -> None:
    cli.main()


if __name__ == "__main__":
    main()
