"""The ``hpsearch`` command: parse the arguments, call the Python API, present the result.

- ``space``: validate, sample, params (a config and the built-in trainer, nothing run)
- ``init``: init (a starter config)
- ``search``: run, resume, zoom
- ``results``: show, list, compare, importance, plot
- ``single``: train (one model), retest
- ``watch``: watch (a run in progress, from another shell)
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from hpsearch.cli import (  # noqa: F401 - they register commands
    init,
    results,
    search,
    single,
    space,
    watch,
)
from hpsearch.cli.common import app
from hpsearch.version import __version__

__all__ = ["app", "main"]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hpsearch {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Random hyperparameter search on the right scales, coarse-to-fine."""


def main() -> None:
    """Console-script entry point: a usage error is one line on stderr, exit code 2."""
    from hpsearch import exits, interrupts
    from hpsearch.errors import UserError, one_line

    command = typer.main.get_command(app)
    try:
        code = command.main(args=sys.argv[1:], prog_name="hpsearch", standalone_mode=False)
    except KeyboardInterrupt as exc:
        sys.exit(interrupts.exit_code(exc))
    except BrokenPipeError:  # `hpsearch list | head -1`: the reader has what it wanted
        sys.exit(interrupts.output_closed().exit_code)
    except UserError as exc:  # a safety net: commands catch these themselves
        typer.echo(f"error: {one_line(str(exc))}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:
        # click's usage errors (a bad option value, a missing argument, an unknown command):
        # they carry format_message() and exit_code.
        if not hasattr(exc, "format_message") or not hasattr(exc, "exit_code"):
            raise
        if type(exc).__name__ == "NoArgsIsHelpError" and getattr(exc, "ctx", None):
            typer.echo(exc.ctx.get_help())  # type: ignore[attr-defined]  # click's errors
            sys.exit(exits.OK)
        hint = ""
        if getattr(exc, "ctx", None) is not None:
            hint = f" (see: {exc.ctx.command_path} --help)"  # type: ignore[attr-defined]
        typer.echo(f"error: {exc.format_message()}{hint}", err=True)
        sys.exit(exits.USAGE)  # click's usage errors are 2 as well
    sys.exit(code if isinstance(code, int) else exits.OK)
