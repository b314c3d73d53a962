"""The rules a config value obeys, declared once, checked by one routine.

A rule's ``check(value)`` returns the value to keep (a float for a number) or raises
``Broken`` with the message: ``must be >= 1, got 0``. The config parser adds file, line and
key; ``Config.with_overrides`` and the command line's option callbacks use the same rules, so
``--jobs 0`` and ``run: {jobs: 0}`` are refused with the same words.

Each section is a table of key → rule (``SECTIONS``); what cannot be said per key (which keys
a data source takes, a scheduler only with dask) is checked by the parser after the table.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from hpsearch.errors import show, suggest
from hpsearch.rounds import MAX_TRIALS


class Broken(ValueError):
    """A value breaks its rule; the message says how (``must be ..., got ...``)."""


def got(value: Any) -> str:
    """The value found, as a message shows it; a number in quotes gets a word of advice."""
    if isinstance(value, str) and looks_numeric(value):
        return f"'{value}' (a string; write the number without quotes)"
    return show(value)


def looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def is_number(value: Any) -> bool:
    """A real number, NumPy's too (``np.float64``, ``np.int64``); never a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def is_integer(value: Any) -> bool:
    """An integer, NumPy's too (``np.int64``); never a bool (nor ``np.bool_``)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


@dataclass(frozen=True)
class Integer:
    low: int | None = None
    wording: str | None = None  # e.g. "a positive integer": one message for every failure
    high: int | None = None
    why: str = ""  # said after a value above ``high``

    def check(self, value: Any) -> int:
        if not is_integer(value):
            raise Broken(f"must be {self.wording or 'an integer'}, got {got(value)}")
        value = int(value)
        if self.low is not None and value < self.low:
            if self.wording:
                raise Broken(f"must be {self.wording}, got {value}")
            raise Broken(f"must be >= {self.low}, got {value}")
        if self.high is not None and value > self.high:
            raise Broken(f"must be at most {self.high:,}{self.why}, got {value}")
        return value


@dataclass(frozen=True)
class Number:
    """A finite number; ``low``: at least; ``above``: more than; ``inside``: strictly between."""

    low: float | None = None
    above: float | None = None
    inside: tuple[float, float] | None = None
    unit: str = ""  # " seconds"
    below: float | None = None
    why: str = ""  # said after a value at or above ``below``

    def check(self, value: Any) -> float:
        if not is_number(value):
            raise Broken(f"must be a number, got {got(value)}")
        if not math.isfinite(value):
            raise Broken(f"must be a finite number, got {value}")
        if self.low is not None and value < self.low:
            raise Broken(f"must be >= {self.low:g}, got {value}")
        if self.above is not None and value <= self.above:
            raise Broken(f"must be > {self.above:g}{self.unit}, got {value}")
        if self.below is not None and value >= self.below:
            raise Broken(f"must be < {self.below:g}{self.why}, got {value}")
        if self.inside is not None and not self.inside[0] < value < self.inside[1]:
            low, high = self.inside
            raise Broken(f"must be between {low:g} and {high:g}, got {float(value)}")
        return float(value)


@dataclass(frozen=True)
class OneOf:
    options: Sequence[str]
    what: str = "value"  # "unknown backend 'x'"

    def check(self, value: Any) -> str:
        if isinstance(value, str) and value in self.options:
            return value
        if isinstance(value, str):
            shown = f"'{value}'" if self.what != "value" else show(value)
            raise Broken(f"unknown {self.what} {shown}{suggest(value, self.options)}")
        raise Broken(
            f"unknown {self.what} {show(value)}; expected one of: {', '.join(self.options)}"
        )


@dataclass(frozen=True)
class Text:
    """A non-empty string, described as ``what``; ``pattern`` it must match (``spelled``
    says how, with ``{value}`` for the value found)."""

    what: str
    pattern: re.Pattern[str] | None = None
    spelled: str = ""
    strip: bool = False

    def check(self, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise Broken(f"must be {self.what}, got {show(value)}")
        if self.strip:
            value = value.strip()
        if self.pattern is not None and not self.pattern.match(value):
            raise Broken(self.spelled.format(value=value))
        return value


@dataclass(frozen=True)
class Jobs:
    def check(self, value: Any) -> int:
        if not is_integer(value) or not (value == -1 or value >= 1):
            raise Broken(f"must be -1 (every core) or a positive integer, got {got(value)}")
        return int(value)


@dataclass(frozen=True)
class Flag:
    def check(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise Broken(f"must be true or false, got {got(value)}")
        return value


_DEVICE = re.compile(r"^[A-Za-z0-9_.:/-]+$")


@dataclass(frozen=True)
class Devices:
    """A list of device names (strings or integers: GPU 0, 1, "cuda:2", a MIG id), or one
    comma-separated string of them (the ``--devices`` flag): at least one, none twice."""

    def check(self, value: Any) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise Broken(f"must be a list of device names, e.g. [0, 1], got {got(value)}")
        if not items:
            raise Broken("must list at least one device, e.g. [0, 1], got an empty list")
        names: list[str] = []
        for item in items:
            if not (isinstance(item, str) or is_integer(item)):
                raise Broken(f"each device must be a name or a number, got {got(item)}")
            name = item.strip() if isinstance(item, str) else str(int(item))
            if not _DEVICE.match(name):
                raise Broken(f"a device name is letters, digits and _ . : / -, got {got(item)}")
            if name in names:
                raise Broken(f"device {name!r} is listed twice")
            names.append(name)
        return tuple(names)


DEVICES = Devices()
# What CUDA_VISIBLE_DEVICES takes: an index, or a GPU or MIG UUID (GPU-8c1b…, MIG-…/1/0).
_CUDA_DEVICE = re.compile(r"^(\d+|(GPU|MIG)-[A-Za-z0-9_./-]+)$")


def cuda_devices_problem(value: str) -> str | None:
    """Why the ``--devices`` list ``value`` is not CUDA devices (``cuda:0``, ``gpu0``, ``-1``
    would reach no GPU through CUDA_VISIBLE_DEVICES), or None."""
    for item in value.split(","):
        name = item.strip()
        if not _CUDA_DEVICE.match(name):
            return (
                f"'{name}' is not a CUDA device index; write 0,1 (or GPU-/MIG- UUIDs), or pass "
                "--devices-raw to hand the values over as they are"
            )
    return None


PER_DEVICE = Integer(low=1, wording="a positive integer (trials at once on one device)")


def devices_problem(
    devices: tuple[str, ...] | None, per_device: int, jobs: int
) -> tuple[str, str] | None:
    """(key, message) when run.per_device or run.jobs do not fit the devices."""
    if devices is None:
        if per_device != 1:
            return "per_device", "applies with run.devices only (the devices to share out)"
        return None
    slots = len(devices) * per_device
    if jobs != -1 and jobs > slots:
        return (
            "jobs",
            f"must be at most the {slots} device slots ({len(devices)} devices × per_device "
            f"{per_device}), got {jobs}; leave it out (or -1) for one worker per slot",
        )
    return None


class Rule(Protocol):
    """What checks one config value: its value as the config keeps it, or ``Broken``."""

    def check(self, value: Any) -> Any: ...


def problem(rule: Rule, value: Any) -> str | None:
    """What is wrong with ``value`` under ``rule``, or None."""
    try:
        rule.check(value)
    except Broken as broken:
        return str(broken)
    return None


# -- rules used in more than one place ----------------------------------------------------------

NAME = Text(
    "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
    re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"),
    "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit, got '{value}'",
)
PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SECONDS = Number(above=0, unit=" seconds")
JOBS = Jobs()
SEED = Integer(low=0)
DIRECTIONS = ("maximize", "minimize")


def backend_rule() -> OneOf:
    from hpsearch.backends import BACKENDS

    return OneOf(BACKENDS, what="backend")


def name_problem(value: Any) -> str | None:
    return problem(NAME, value)


def jobs_problem(value: Any) -> str | None:
    return problem(JOBS, value)


def backend_problem(value: Any) -> str | None:
    return problem(backend_rule(), value)


def scheduler_problem(backend: str) -> str:
    """A Dask scheduler given for a run whose backend is not dask."""
    return f"applies to the dask backend only; this run's backend is '{backend}'"


# -- the sections: key -> rule -----------------------------------------------------------------

OBJECTIVE: dict[str, Rule] = {
    "python": Text(
        "a non-empty string",
        re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$"),
        "must be \"package.module:function\", got '{value}'",
        strip=True,
    ),
    "command": Text("a non-empty string"),
    "timeout": SECONDS,
    "workdir": Text("a directory path"),
}
_TOO_MANY = " (trials of one search)"
ZOOM: dict[str, Rule] = {
    "top": Integer(low=1, high=MAX_TRIALS),
    # Below 0.5, a zoom round always narrows (it pads what the top trials leave free).
    "margin": Number(low=0, below=0.5, why=" (0.5 or more pads a zoom round to the whole range)"),
    "trials": Integer(low=1, high=MAX_TRIALS, why=_TOO_MANY),
    "rounds": Integer(low=0, high=10_000),
}


EARLY_STOP: dict[str, Rule] = {
    "method": OneOf(("halving", "hyperband", "none"), what="early-stopping method"),
    "min_epochs": Integer(low=1, wording="a positive integer"),
    "eta": Integer(low=2),
    "max_epochs": Integer(low=1, wording="a positive integer"),
    "keep_checkpoints": Flag(),
}


def early_stop_problem(config: Any) -> tuple[str, str] | None:
    """(key, message) for early-stopping settings that cannot work together, or None."""
    es = config.early_stop
    if not es.on:
        return None
    if config.objective.is_builtin:
        if es.max_epochs is not None:
            return (
                "max_epochs",
                "does not apply to the built-in trainer: it trains to model.epochs in full",
            )
        if "epochs" in config.space:
            return (
                "method",
                "needs a fixed number of epochs, but space.epochs is searched; "
                "fix model.epochs (the epochs of full training) instead",
            )
        where = "model.epochs"
    elif es.max_epochs is None:
        return (
            "max_epochs",
            f"required for a {config.objective.kind} objective: the epochs a trial trains "
            "when it is not stopped early",
        )
    else:
        where = "early_stop.max_epochs"
    full = config.full_budget
    if full is not None and es.min_epochs > full:
        return (
            "min_epochs",
            f"must be at most the epochs of full training, {where} = {full}, got {es.min_epochs}",
        )
    return None


def run_rules() -> dict[str, Rule]:
    return {
        "jobs": JOBS,
        "backend": backend_rule(),
        "runs_dir": Text("a directory path"),
        "trial_timeout": SECONDS,
        "scheduler": Text("a scheduler address such as 'tcp://10.0.0.5:8786'"),
        "devices": DEVICES,
        "per_device": PER_DEVICE,
        "joblib_backend": Text(
            "a joblib backend name such as 'loky', 'threading' or 'dask'",
            re.compile(r"^[A-Za-z0-9_.-]+$"),
            "must be a joblib backend name such as 'loky', got '{value}'",
        ),
    }


# Generated data; the keys each source takes are in hpsearch.data.sources.
DATA: dict[str, Rule] = {
    "classes": Integer(low=2),
    "samples": Integer(low=10),
    "features": Integer(low=1),
    "noise": Number(low=0),
    "val_fraction": Number(inside=(0, 1)),
    "seed": SEED,
    "path": Text("a file path"),
    "val_path": Text("a file path"),
}
