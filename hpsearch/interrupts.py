"""Signals, in one place: stopping a command cleanly (Ctrl-C, SIGTERM, a closed output pipe)
and a trial's alarm clock. No other module installs a signal handler.

While ``stop_on_signals()`` is active, SIGINT and SIGTERM raise ``Interrupted`` (a
KeyboardInterrupt that knows its signal) in the main thread, except inside ``protected()``
sections (writing the results), where the signal is held and raised as the section ends, so a
summary is never half-written and a signal is never lost. A command then exits with
128 + the signal's number, the shell's convention: 130 for Ctrl-C, 143 for SIGTERM, 141 when
the reader of its output went away (``hpsearch run ... | head``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator

from hpsearch import exits

SIGPIPE = 13  # signal.SIGPIPE where it exists


class Interrupted(KeyboardInterrupt):
    """The command was asked to stop by ``signum``."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return exits.signalled(self.signum)


def exit_code(exc: BaseException) -> int:
    return exc.exit_code if isinstance(exc, Interrupted) else last_exit_code()


_pending: list[int] = []
_depth = 0


_received: list[int] = []  # every signal received, for code that caught the interruption


def last_exit_code() -> int:
    """128 + the last signal received (130 if none was: a KeyboardInterrupt raised by hand)."""
    return exits.signalled(_received[-1] if _received else signal.SIGINT)


def _handler(signum: int, frame: object) -> None:
    _received.append(signum)
    if _depth:
        _pending.append(signum)
        return
    raise Interrupted(signum)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise ``Interrupted`` (held back inside ``protected()``). Only the
    main thread can take signals: elsewhere (a search run from a thread) this does nothing."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextlib.contextmanager
def protected(raise_after: bool = True) -> Iterator[None]:
    """A section a signal must not cut short; one that arrived meanwhile is raised after it
    (or, with ``raise_after=False``, once the search is over, dropped)."""
    global _depth
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
    if not _depth and _pending:
        signum = _pending[0]
        _pending.clear()
        if raise_after:
            raise Interrupted(signum)


def output_closed() -> Interrupted:
    """The reader of stdout went away: say so as an interruption, and send what is still
    printed to stdout nowhere (no second BrokenPipeError at exit)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return Interrupted(SIGPIPE)


@contextlib.contextmanager
def alarm(timeout: float | None, raised: type[BaseException]) -> Iterator[None]:
    """Raise ``raised`` in the code running after ``timeout`` seconds (SIGALRM; main thread
    only: worker processes, Dask workers and the sequential backend; elsewhere this does
    nothing, and a trial's own ``report`` calls check the time)."""
    import threading

    if timeout is None or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise raised

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
