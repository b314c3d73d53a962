"""The API's arguments, checked before a function does anything: a keyword it does not take
(with the one it may have meant), and every value by the rule of the command line's flag
(``hpsearch.config.options``) or, for what only the API takes (a config object, a callback),
by the rules here. A NumPy number is passed on as Python's."""

from __future__ import annotations

import difflib
import functools
import inspect
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from hpsearch.config import Config
from hpsearch.config.options import OPTIONS, Option, checked
from hpsearch.config.rules import Broken, Flag, got
from hpsearch.config.search import SEARCH
from hpsearch.errors import ConfigError
from hpsearch.runs import Run

P = ParamSpec("P")
R = TypeVar("R")


class ArgumentError(ConfigError, TypeError):
    """A call the function cannot take (an unknown keyword, too many arguments): a
    ``TypeError`` as Python's own, with the CLI's one line."""


@dataclass(frozen=True)
class Kind:
    """One of ``kinds`` (``what``: how the message names them)."""

    kinds: tuple[type, ...]
    what: str

    def check(self, value: Any) -> Any:
        if isinstance(value, self.kinds) and not (isinstance(value, str) and not value.strip()):
            return value
        raise Broken(f"must be {self.what}, got {got(value)}")


@dataclass(frozen=True)
class Function:
    what: str

    def check(self, value: Any) -> Any:
        if callable(value):
            return value
        raise Broken(f"must be a function, {self.what}, got {got(value)}")


@dataclass(frozen=True)
class ObjectiveKind:
    """``objective``: an object of the ``hpsearch.objectives.Objective`` protocol (anything
    else, a bare function too, would fail every trial of a run made for it)."""

    def check(self, value: Any) -> Any:
        parts = all(hasattr(value, name) for name in ("fixed", "dataset"))
        if callable(value) and parts and callable(getattr(value, "prepare", None)):
            return value
        raise Broken(
            "must be an hpsearch.objectives.Objective (called with params and seed, with "
            f"fixed, dataset and prepare()), got {got(value)}"
        )


@dataclass(frozen=True)
class Statuses:
    """``retry``: "failed,timeout", or a list of statuses."""

    def check(self, value: Any) -> tuple[str, ...]:
        from hpsearch.growing import retry_statuses

        listed = isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
        if not (isinstance(value, str) or listed):
            raise Broken(
                f"must be statuses such as 'failed,timeout' (or a list of them), got {got(value)}"
            )
        try:
            return retry_statuses(value)
        except ConfigError as exc:
            raise Broken(exc.message) from None


_RUN = Kind((str, os.PathLike, Run), "a run directory, a run id or 'latest', or an hpsearch.Run")

RULES: dict[str, Option] = {
    **OPTIONS,
    "config": Option(
        "config", Kind((str, os.PathLike, Config), "a config file (a path) or an hpsearch.Config")
    ),
    "run": Option("run", _RUN),
    "from_run": Option("from_run", _RUN),
    "warm_start": Option("--warm-start", _RUN),
    "metrics": Option("metrics", SEARCH["metrics"]),
    "time_budget": Option("--time-budget", SEARCH["time_budget"]),
    "constraints": Option("constraints", SEARCH["constraints"]),
    "settings": Option("settings", Kind((Mapping,), "a mapping of parameter names to values")),
    "retry": Option("--retry", Statuses()),
    "objective": Option("objective", ObjectiveKind()),
    "on_event": Option("on_event", Function("called with each event")),
    "report": Option("report", Function("called with (epoch, **metrics) after each epoch")),
    "progress": Option("progress", Function("giving the display of a search")),
    "quiet": Option("quiet", Flag()),
    "devices_raw": Option("--devices-raw", Flag()),
}


def checked_arguments(
    **special: Option,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A function with its arguments checked first: the call's shape, then each value by its
    rule (``special``: the function's own, e.g. zoom's ``trials``); None, where it is the
    default, is left to the default."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        signature = inspect.signature(function)
        public = f"hpsearch.{function.__name__}()"
        rules = {**RULES, **special}

        @functools.wraps(function)
        def call(*args: P.args, **kwargs: P.kwargs) -> R:
            bound = _bound(signature, public, args, kwargs)
            for name, value in bound.arguments.items():
                option = rules.get(name)
                default = signature.parameters[name].default
                if option is None or (value is None and default is None):
                    continue
                bound.arguments[name] = checked(option, value)
            return function(*bound.args, **bound.kwargs)

        return call

    return decorate


def _bound(
    signature: inspect.Signature, public: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> inspect.BoundArguments:
    names = list(signature.parameters)
    for keyword in kwargs:
        if keyword not in signature.parameters:
            close = difflib.get_close_matches(keyword, names, n=1, cutoff=0.6)
            meant = f" (did you mean '{close[0]}'?)" if close else ""
            raise ArgumentError(
                f"{public}: unknown keyword '{keyword}'{meant}; it takes: {', '.join(names)}"
            )
    try:
        return signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise ArgumentError(f"{public}: {exc}") from None
