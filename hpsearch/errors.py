"""Errors a user can cause and fix: each one becomes a one-line message and exit code 2."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hpsearch import exits
from hpsearch.visible import visible


class UserError(Exception):
    """Bad input from the user: printed as one line, exit code 2, never a traceback."""

    exit_code = exits.USAGE


class NoOkTrial(UserError):
    """A command that works from a run's ok trials (zoom, retest, importance, train --from)
    found none: exit code 1, like a search in which every trial failed."""

    exit_code = exits.NO_RESULT


class RunError(UserError):
    """A run directory that cannot be used: missing, unreadable, corrupt, held by another."""


class StorageError(RunError):
    """Writing a run failed (a full disk, a vanished directory): the run stops, and what was
    already written stays readable and resumable."""


class ConfigError(UserError):
    """A problem in a config file, located by file, line and key path.

    Rendered as ``file:line: key.path: message``; parts that are unknown are left out.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        key: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.key = key
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        key = f"{self.key}: " if self.key else ""
        return one_line(f"{where}{key}{self.message}")


def one_line(text: str) -> str:
    """Control and invisible characters (a key that holds a newline, a bidi control) shown
    escaped: a message stays one line, as it is."""
    return visible(text)


class DataError(UserError):
    """A problem in a dataset: a missing file, a bad cell, too few rows for the split.

    Rendered as ``file:line: message``; parts that are unknown are left out.
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        if not self.file:
            return self.message
        where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        return f"{where}{self.message}"


def suggest(word: str, options: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` or a list of the options, for an unknown name."""
    import difflib

    options = list(options)
    close = difflib.get_close_matches(str(word), options, n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    return f"; expected one of: {', '.join(options)}"


def show(value: Any) -> str:
    """A value as the user would recognise it in a message."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"'{value}' (a string)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)
