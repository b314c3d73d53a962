"""The trial record: what one trial was (index, params, seed) and what came of it.

Every module passes trials around as ``TrialRecord``; ``trials.jsonl`` holds one
``to_json()`` per line, and ``from_json`` reads one back, checking each field, since the file
may have been edited by hand.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hpsearch.space import describe_condition

# stopped: early stopping ended it after a rung (its metric is the one it had there).
STATUSES = ("ok", "stopped", "diverged", "failed", "timeout")


class RecordProblem(ValueError):
    """A trial record read from disk is not one: the message names the field."""


@dataclass(frozen=True)
class TrialRecord:
    """One finished trial. ``status``: ok | stopped | diverged | failed | timeout."""

    trial: int
    params: Mapping[str, Any]
    seed: int | None
    status: str
    metrics: Mapping[str, float] = field(default_factory=dict)
    epochs: int | None = None
    seconds: float | None = None
    error: str | None = None
    round: int = 0  # the round of the search it was drawn in (0: the first, coarse one)
    traceback: str | None = None  # a failure's whole traceback (capped); ``error``: one line
    # The learning curve travels with the record from the worker to the store, which keeps it
    # in curves.jsonl; it is not part of trials.jsonl.
    curves: Mapping[str, list] | None = field(default=None, compare=False, repr=False)
    # Travels to the driver too, to be said once a search (not kept): the objective returned
    # a bare number, taken as the metric, whose name it never reported.
    bare_number: bool = field(default=False, compare=False, repr=False)
    # Where and when it trained (unix time, ``host:pid``), for the report's timeline of the
    # workers (timeline.jsonl): not part of trials.jsonl, whose lines stay reproducible.
    started_at: float | None = field(default=None, compare=False, repr=False)
    worker: str | None = field(default=None, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def value(self, metric: str) -> float | None:
        """The metric of an ok trial; None for a failure or a trial that did not report it."""
        return self.metrics.get(metric) if self.ok else None

    def to_json(self) -> dict[str, Any]:
        """The line of trials.jsonl (without the curve), in a fixed key order."""
        return {
            "trial": self.trial,
            "round": self.round,
            "params": dict(self.params),
            "seed": self.seed,
            "status": self.status,
            "metrics": dict(self.metrics),
            "epochs": self.epochs,
            "seconds": self.seconds,
            "error": self.error,
            # Only a failure that raised has one: other lines stay as they were.
            **({"traceback": self.traceback} if self.traceback is not None else {}),
        }

    @classmethod
    def from_json(cls, data: Any, space: Any = None) -> TrialRecord:
        """A record read from disk; ``RecordProblem`` names the first field that is wrong
        (given ``space``, a value outside it too)."""
        problem = _problem(data, space)
        if problem:
            raise RecordProblem(problem)
        return cls(
            trial=data["trial"],
            params=dict(data["params"]),
            seed=data.get("seed"),
            status=data["status"],
            metrics=dict(data["metrics"]),
            epochs=data.get("epochs"),
            seconds=data.get("seconds"),
            error=data.get("error"),
            round=data.get("round") or 0,  # runs made by 0.1 have one round and no field
            traceback=data.get("traceback"),
        )


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """A number a float can hold (no 10**400, NaN or infinity from a hand-edited file)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def kind_of(value: Any) -> str:
    """What a JSON value is, for a message: ``a string``, ``null``, ``an object``; a number
    as itself (``-1``, ``2.5``), since its kind alone would not say what is wrong."""
    if value is None:
        return "null"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)[:40]
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if is_number(value) else type(value).__name__
    )


def _problem(record: Any, space: Any) -> str | None:
    if not isinstance(record, Mapping):
        return f"not a trial record (expected a JSON object, got {kind_of(record)})"

    def bad(name: str, expected: str) -> str:
        return f"field '{name}': expected {expected}, got {kind_of(record.get(name))}"

    if not is_int(record.get("trial")) or record["trial"] < 0:
        return bad("trial", "a trial number")
    if record.get("round") is not None and not (is_int(record["round"]) and record["round"] >= 0):
        return bad("round", "a round number")
    if not isinstance(record.get("params"), dict):
        return bad("params", "an object of parameter values")
    if record.get("status") not in STATUSES:
        got = repr(record.get("status"))[:40]
        return f"field 'status': expected one of {', '.join(STATUSES)}, got {got}"
    metrics = record.get("metrics")
    if not isinstance(metrics, dict):
        return bad("metrics", "an object of numbers")
    for key, v in metrics.items():
        if not (v is None or is_number(v)):
            return f"field 'metrics.{key}': expected a finite number or null, got {kind_of(v)}"
    for name, check, expected in (
        ("seed", is_int, "an integer"),
        ("epochs", is_int, "an integer"),
        ("seconds", is_number, "a number"),
        ("error", lambda v: isinstance(v, str), "a string"),
        ("traceback", lambda v: isinstance(v, str), "a string"),
    ):
        if record.get(name) is not None and not check(record[name]):
            return bad(name, f"{expected} or null")
    if space is not None:
        params = record["params"]
        active = space.active(params) if space.conditions else params
        for p in space:
            if p.name in params and p.name not in active:
                return (
                    f"field 'params.{p.name}': a value where its condition does not hold "
                    f"(when: {describe_condition(space.condition(p.name))})"
                )
            if p.name not in params:
                if space.condition(p.name) and p.name not in space.active({**params, p.name: None}):
                    continue  # inactive: absent, as it should be
                return f"field 'params': no value for '{p.name}'"
            if not p.contains(record["params"][p.name]):
                return (
                    f"field 'params.{p.name}': {record['params'][p.name]!r:.40} is not in "
                    f"the run's space ({p.describe()})"
                )
    return None


TINY = 5e-5  # below this (but not 0), four decimals would read 0.0000 (or 0.0001)


def format_metric(value: Any) -> str:
    """A metric as every table and line shows it: four decimals (``0.9500``), a tiny one with
    its significant digits (``1.0e-06``, ``1.235e-07``); ``-`` for no (finite) number."""
    if not is_number(value):
        return "-"
    if value == 0 or abs(value) >= TINY:
        return f"{value:.4f}"
    mantissa, exponent = f"{value:.3e}".split("e")
    mantissa = mantissa.rstrip("0")
    if mantissa.endswith("."):
        mantissa += "0"
    return f"{mantissa}e{exponent}"
