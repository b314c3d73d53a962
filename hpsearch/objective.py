"""What a trial runs, and the worker function that runs it without ever raising.

An objective is a picklable callable ``objective(params, seed, timeout) -> Outcome``. The
built-in one trains the NumPy network; any other (a benchmark function, later a user's Python
callable or command) plugs in the same way.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from hpsearch.sampling import Trial


@dataclass
class Outcome:
    """What an objective reports. ``status``: ok | diverged | failed | timeout."""

    status: str
    metrics: dict[str, float] = field(default_factory=dict)
    epochs: int | None = None
    curves: dict[str, list[float]] | None = None
    error: str | None = None


class Objective(Protocol):
    def __call__(self, params: Mapping[str, Any], seed: int, timeout: float | None) -> Outcome: ...


@dataclass(frozen=True)
class TrainerObjective:
    """Train the built-in network: fixed settings overridden by the trial's values."""

    dataset: Any  # hpsearch.data.Dataset
    fixed: Mapping[str, Any]
    metric: str = "val_accuracy"

    def __call__(self, params: Mapping[str, Any], seed: int, timeout: float | None) -> Outcome:
        from hpsearch.trainer import train

        best_by = self.metric if self.metric.startswith("val_") else "val_accuracy"
        result = train(
            {**self.fixed, **params}, self.dataset, seed, best_by=best_by, timeout=timeout
        )
        return Outcome(result.status, result.metrics, result.epochs, result.curves, result.reason)


def run_trial(objective: Objective, trial: Trial, timeout: float | None = None) -> dict[str, Any]:
    """Run one trial and return its record. Never raises (but for Ctrl-C): an exception
    becomes a ``failed`` record with its type and message. Never prints or writes files."""
    started = time.perf_counter()
    try:
        outcome = objective(trial.params, trial.seed, timeout)
        if not isinstance(outcome, Outcome):
            raise TypeError(f"the objective returned {type(outcome).__name__}, not an Outcome")
    except Exception as exc:
        frames = traceback.extract_tb(exc.__traceback__)
        where = (
            f" (at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno})" if frames else ""
        )
        outcome = Outcome("failed", error=f"{type(exc).__name__}: {exc}{where}")
    return {
        "trial": trial.index,
        "params": dict(trial.params),
        "seed": trial.seed,
        "status": outcome.status,
        "metrics": dict(outcome.metrics),
        "epochs": outcome.epochs,
        "seconds": round(time.perf_counter() - started, 4),
        "error": outcome.error,
        "curves": outcome.curves,
    }
