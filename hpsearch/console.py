"""The console that tables are printed on, and tables that fit it without cutting a value.

Off a terminal (a pipe, a file, a CI log) there is no width to fit: a table is printed at its
natural width, every column and every value whole, each row on one line. On a terminal narrower
than a table, whole columns are hidden (the ones a table names as optional, from the right) and
named in a line under it; a value is never cut to ``…`` and a run id never wrapped. Only free
text (a description) wraps, within its column.
"""

from __future__ import annotations

import copy
import dataclasses
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console, ConsoleOptions, RenderableType
from rich.table import Table
from rich.text import Text

from hpsearch.visible import visible_lines

# "No limit": wider than any table or line hpsearch prints; rich pads nothing to the console
# width (tables are as wide as their content), so a large number costs nothing.
NATURAL = 100_000

HINT = "widen the terminal, or pipe the output to less -S"


class PlainConsole(Console):
    """A console on which every string is plain text, in a table, a line or a live display:
    never markup (``[/bold]``, ``[link=…]``) nor an emoji code (``:thumbs_up:``), and its
    invisible characters (a bidi control, a zero-width space, a terminal's escape) shown
    escaped (``hpsearch.visible``). What it prints holds values from configs and runs
    (choice values, error messages, names), which are shown as typed; hpsearch's own styles
    are ``style=`` arguments and ``Text`` objects (``styled``). rich turns every string it
    renders into text here, measuring included."""

    def render_str(self, text: str, **options: Any) -> Text:
        options.update(markup=False, emoji=False)
        return super().render_str(visible_lines(text), **options)


def styled(*parts: str | tuple[str, str]) -> Text:
    """A line of ``parts``, each a string or a (string, style) pair, shown as on a
    ``PlainConsole``: no markup, invisible characters escaped."""
    return Text.assemble(
        *(visible_lines(p) if isinstance(p, str) else (visible_lines(p[0]), p[1]) for p in parts)
    )


def make_console(stderr: bool = False) -> Console:
    """A console on stdout (or stderr, under ``--json``) as wide as it should be.

    - The stream is a terminal: rich's width, that is ``COLUMNS`` if set, else the terminal's.
    - Otherwise (a pipe, a file, a CI log): no limit, whatever ``COLUMNS`` says. rich would use
      ``COLUMNS``, the width of a terminal on stdin, or 80. ``COLUMNS`` describes a terminal
      and is more often inherited than chosen: GNU readline exports it (80 when there is no
      terminal) to every child of a Python process that loaded it, pytest or a REPL among them.

    "A terminal" means the stream itself is a tty: ``FORCE_COLOR`` or ``TTY_COMPATIBLE`` make
    rich write colours to a CI log, but do not give it a width to fit.
    """
    stream = sys.stderr if stderr else sys.stdout
    width = None if _isatty(stream) else NATURAL
    console = PlainConsole(stderr=stderr, highlight=False, markup=False, emoji=False, width=width)
    console.on_broken_pipe = _broken_pipe  # type: ignore[method-assign]
    return console


def _broken_pipe() -> None:
    """rich would exit 1 when the reader of the output goes away (``| head``); a command
    treats it as an interruption instead (``hpsearch.interrupts``)."""
    import errno

    raise BrokenPipeError(errno.EPIPE, "the reader of the output went away")


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):  # no isatty, or closed
        return False


class Fitted:
    """``table`` at the console's width, no value cut: if it does not fit whole, its
    ``optional`` columns (headers, hidden in that order) are left out one by one until it does,
    and a line under it names them and ``hint``s how to see them.

    "Fits" means every ``no_wrap`` column at its full width and every other column (free text)
    at no less than its ``min_width`` and its longest word; such columns wrap, the widest first.
    The choice is made at each render, so a live display follows a resized terminal. A table
    that does not fit even without its optional columns (a terminal narrower than rank, trial
    and metric) is left to rich, which squeezes it.
    """

    def __init__(self, table: Table, optional: Sequence[str], hint: str = HINT):
        self.table, self.optional, self.hint = table, list(optional), hint

    def __rich_console__(
        self, console: Console, options: ConsoleOptions
    ) -> Iterable[RenderableType]:
        hidden: list[str] = []
        table = self.table
        try:
            for name in self.optional:
                if _fits(console, options, table):
                    break
                hidden.append(name)
                table = _without(self.table, hidden)
            table = _narrowed(console, options, table)
        except (AttributeError, TypeError):  # a rich whose private layout API changed
            hidden, table = [], self.table
        yield table
        if hidden:
            yield styled(f"hidden: {', '.join(hidden)} — {self.hint}")


def rightmost(table: Table, keep: int) -> list[str]:
    """The headers of ``table``'s columns after the first ``keep``, rightmost first."""
    return [str(c.header) for c in table.columns[keep:]][::-1]


# rich lays a table out in private methods; these lean on two of them (``_measure_column``:
# a column's cells and header with padding, within min_width; ``_get_padding_width``) and on
# the position ``_index`` it keeps in each column. rich >= 13 has all three.


def _ranges(console: Console, options: ConsoleOptions, table: Table) -> list[tuple[int, int]]:
    """Each column's narrowest width without cutting a value, and its natural width."""
    wide = options.update_width(NATURAL)
    ranges = []
    for column in table.columns:
        measured = table._measure_column(console, wide, column)
        ranges.append((measured.maximum if column.no_wrap else measured.minimum, measured.maximum))
    return ranges


def _fits(console: Console, options: ConsoleOptions, table: Table) -> bool:
    needed = sum(n for n, _ in _ranges(console, options, table))
    return needed + table._extra_width <= options.max_width  # rich's borders: none here


def _without(table: Table, hidden: Sequence[str]) -> Table:
    """A copy of ``table`` without the columns headed ``hidden``."""
    kept = [c for c in table.columns if str(c.header) not in hidden]
    fitted = copy.copy(table)
    # rich pads a column by its position (the edges differ): renumber what is left.
    fitted.columns = [dataclasses.replace(c, _index=i) for i, c in enumerate(kept)]
    return fitted


def _narrowed(console: Console, options: ConsoleOptions, table: Table) -> Table:
    """``table`` with its wrapping columns given fixed widths that fit ``options.max_width``:
    the widest narrowed first, none below what it needs. (rich's own squeeze ignores
    ``min_width`` while narrowing, then restores it, and the console crops the line.)"""
    ranges = _ranges(console, options, table)
    widths = [natural for _, natural in ranges]
    excess = sum(widths) + table._extra_width - options.max_width
    if excess <= 0:
        return table
    for _ in range(excess):
        narrowable = [i for i, (needed, _) in enumerate(ranges) if widths[i] > needed]
        if not narrowable:
            return table
        widths[max(narrowable, key=lambda i: widths[i])] -= 1
    fitted = copy.copy(table)
    fitted.columns = [
        c if c.no_wrap else dataclasses.replace(c, width=w - table._get_padding_width(c._index))
        for c, w in zip(table.columns, widths, strict=True)
    ]
    return fitted
