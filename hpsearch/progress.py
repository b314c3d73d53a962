"""``hpsearch.run``, ``resume`` and ``zoom`` as a notebook or a terminal calls them: the API's
functions (``hpsearch.api``, which print nothing), showing the search as the command line
does, on stderr: the live display on a terminal, a line per trial elsewhere (a notebook, a
pipe, CI). ``quiet=True``: nothing. The API sits below the terminal's modules; this wires
them together above both."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from hpsearch import api
from hpsearch.events import Subscriber

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def on_stderr() -> Iterator[Subscriber]:
    """The command line's display of a search, on stderr: stdout stays the caller's."""
    from hpsearch.console import make_console
    from hpsearch.display import SearchDisplay, choose_mode

    out = make_console(stderr=True)
    with SearchDisplay(out, choose_mode(out, quiet=False)) as display:
        yield display


def _shown(function: Callable[P, R]) -> Callable[P, R]:
    """``function`` with the terminal's display as its default ``progress``."""

    @functools.wraps(function)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        kwargs.setdefault("progress", on_stderr)
        return function(*args, **kwargs)

    return call


run = _shown(api.run)
resume = _shown(api.resume)
zoom = _shown(api.zoom)
