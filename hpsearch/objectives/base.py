"""What every objective shares: the outcome it reports, the ``report`` callback, and the
function that runs a trial without ever raising.

An objective is a picklable callable ``objective(params, seed, timeout, index, report) ->
Outcome`` that holds only plain data, so it travels to worker processes and Dask workers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import numbers
import os
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from hpsearch.record import TrialRecord
from hpsearch.sampling import Trial

Report = Callable[..., Any]  # report(epoch, **metrics), after every epoch


@dataclass
class Outcome:
    """What an objective reports. ``status``: ok | diverged | failed | timeout.
    ``interrupted``: stopped by Ctrl-C with what it had learned (one-model training)."""

    status: str
    metrics: dict[str, float] = field(default_factory=dict)
    epochs: int | None = None
    curves: dict[str, list[float]] | None = None
    error: str | None = None
    interrupted: bool = False
    traceback: str | None = None  # a failure's whole traceback (capped), for show --trial
    bare_number: bool = False  # the metric came as a bare number, its name never reported


class Objective(Protocol):
    @property
    def fixed(self) -> Mapping[str, Any]: ...

    @property
    def dataset(self) -> Any: ...  # the data it trains on (data.Dataset); None: its own

    def __call__(
        self,
        params: Mapping[str, Any],
        seed: int,
        timeout: float | None,
        index: int = 0,
        report: Report | None = None,
        /,
        *,
        budget: int | None = None,  # early stopping: the epoch to reach
        checkpoint_dir: str | None = None,  # and where to keep what it needs to continue
        device: str | None = None,  # device slots: its device
    ) -> Outcome: ...

    def prepare(self) -> None: ...


class Fixing:
    """Shared by the objectives: the ``fixed`` settings (a trial's params override them)."""

    fixed: Mapping[str, Any]

    def prepare(self) -> None:
        """Work a worker does once, when the objective arrives (none by default)."""


class Diverged(Exception):
    """Raised by ``report`` when a reported value is not finite: ends the trial."""


class TimedOut(BaseException):
    """Raised in a trial that ran past its timeout (a BaseException, so that a user's
    ``except Exception`` cannot swallow it)."""


class BudgetReached(BaseException):
    """Raised by ``report`` at the epoch an early-stopping budget asks for, in an objective
    that does not take ``budget=``: the trial ends there with what it reported."""


def interpret(value: Any, metric: str) -> tuple[str, dict[str, float], str | None]:
    """A Python objective's return value -> (status, metrics, error).

    A number is the metric; a dict must hold the metric (its other numeric entries are kept).
    NaN, None, a string, a dict without the metric: ``failed``. ±inf: ``diverged`` — the
    objective blew up (a loss of inf), it is ranked with the failures.
    """
    if isinstance(value, Mapping):
        if metric not in value:
            return (
                "failed",
                {},
                (
                    f"returned a dict without '{metric}' (keys: "
                    f"{', '.join(map(str, value)) or 'none'})"
                ),
            )
        metrics = {
            str(k): float(v) for k, v in value.items() if is_real(v) and math.isfinite(float(v))
        }
        value = value[metric]
    else:
        metrics = {}
    if not is_real(value):
        return (
            "failed",
            {},
            (
                f"returned {type(value).__name__} {value!r:.60}; expected a "
                f"number or a dict with '{metric}'"
            ),
        )
    number = float(value)
    if math.isnan(number):
        return "failed", {}, f"returned NaN for '{metric}'"
    if math.isinf(number):
        return "diverged", {}, f"returned {number} for '{metric}'"
    metrics[metric] = number
    return "ok", metrics, None


def misses_metric(record: TrialRecord, metric: str) -> bool:
    """Whether a trial failed only because its objective did not report ``metric``."""
    error = record.error or ""
    return record.status == "failed" and (
        error.startswith(f"returned a dict without '{metric}'")
        or error.startswith(f"no '{metric}' in its output")
        or error.startswith(f"no '{metric}' reported")
    )


def is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class Curves:
    """``report(epoch, **metrics)`` for an objective: records a learning curve, stops the
    trial when a value is not finite (``diverged``) or the timeout has passed, and passes
    each epoch on to ``observer`` (a live display) if there is one."""

    def __init__(
        self, deadline: float | None, observer: Report | None = None, budget: int | None = None
    ) -> None:
        self.curves: dict[str, list[Any]] = {"epoch": []}
        self.deadline = deadline
        self.observer = observer
        self.budget = budget  # raise BudgetReached once this epoch is reported

    def __call__(self, epoch: int, **metrics: Any) -> None:
        if not is_real(epoch) or not math.isfinite(float(epoch)):
            raise TypeError(
                f"report(): epoch must be a number, got {type(epoch).__name__} {epoch!r:.40}"
            )
        self.curves["epoch"].append(epoch)
        length = len(self.curves["epoch"])
        for key, value in metrics.items():
            if key not in self.curves:  # a metric reported for the first time: pad its past
                self.curves[key] = [None] * (length - 1)
            self.curves[key].append(float(value) if is_real(value) else None)
        if len(metrics) + 1 < len(self.curves):  # a metric reported before, not this time
            for column in self.curves.values():
                if len(column) < length:
                    column.append(None)
        if self.observer is not None:
            self.observer(epoch, **{k: v for k, v in metrics.items() if is_real(v)})
        bad = [k for k, v in metrics.items() if is_real(v) and not math.isfinite(float(v))]
        if bad:
            raise Diverged(f"{bad[0]} became {metrics[bad[0]]} at epoch {epoch}")
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise TimedOut
        if self.budget is not None and epoch >= self.budget:
            raise BudgetReached

    @property
    def epochs(self) -> int | None:
        return len(self.curves["epoch"]) or None


def _cwd() -> str | None:
    try:
        return os.getcwd()
    except OSError:
        return None


def run_trial(objective: Objective, trial: Trial, timeout: float | None = None) -> TrialRecord:
    """Run one trial and return its record. Never raises (but for Ctrl-C): an exception or a
    ``sys.exit()`` becomes a ``failed`` record with its type and message. Writes no files."""
    started_at = time.time()
    outcome, seconds = trial_outcome(objective, trial, timeout)
    return dataclasses.replace(
        record_for(trial, outcome, seconds), started_at=started_at, worker=worker_name()
    )


def worker_name() -> str:
    """Where a trial runs, as the report's timeline names it: ``host:pid``, and the thread
    for a thread of a process (the threading backend, a Dask worker's threads)."""
    import socket
    import threading

    name = f"{socket.gethostname()}:{os.getpid()}"
    thread = threading.current_thread()
    return name if thread is threading.main_thread() else f"{name}/{thread.name}"


def trial_outcome(
    objective: Objective, trial: Trial, timeout: float | None = None, report: Report | None = None
) -> tuple[Outcome, float]:
    """What ``run_trial`` does, without making the record: the outcome and the seconds it
    took. ``report``: a live observer of each epoch (one-model training)."""
    started = time.perf_counter()
    cwd = _cwd()
    extra: dict[str, Any] = (
        {}
        if trial.budget is None
        else {
            "budget": trial.budget,
            "checkpoint_dir": trial.checkpoint_dir,
        }
    )
    if trial.device is not None:
        extra["device"] = trial.device
    try:
        outcome = objective(trial.params, trial.seed, timeout, trial.index, report, **extra)
        if not isinstance(outcome, Outcome):
            raise TypeError(f"the objective returned {type(outcome).__name__}, not an Outcome")
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # sys.exit(), CancelledError...: they end the trial, not the run
        outcome = failed_by(exc)
    finally:
        if cwd is not None and _cwd() != cwd:
            with contextlib.suppress(OSError):
                os.chdir(cwd)  # an objective that changed directory changes it for itself only
    elapsed = time.perf_counter() - started
    if trial.budget is not None:
        outcome = at_budget(outcome, trial.budget, getattr(objective, "metric", None))
    if timeout is not None and outcome.status == "ok" and elapsed > timeout * 1.05 + 0.05:
        # Where no alarm can interrupt it (a thread: threading or Dask), an overrun still
        # counts as one.
        outcome = Outcome(
            "timeout",
            epochs=outcome.epochs,
            curves=outcome.curves,
            error=f"took {elapsed:.3g} s, longer than {timeout:g} s",
        )
    return outcome, time.perf_counter() - started


def failed_by(exc: BaseException) -> Outcome:
    """The outcome of a trial that raised: its type, message and where in the user's code
    (``(at objective.py:23 in train)``), and its whole traceback, capped."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {users_frame(frames)})" if frames else ""
    start = exc.__traceback__
    while start is not None and start.tb_next is not None and _ours(start.tb_frame):
        start = start.tb_next  # hpsearch's frames that called the objective say nothing
    whole = "".join(traceback.format_exception(type(exc), exc, start))
    return Outcome("failed", error=f"{type(exc).__name__}: {exc}{where}", traceback=capped(whole))


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # hpsearch itself


def _ours(frame: Any) -> bool:
    return os.path.abspath(frame.f_code.co_filename).startswith(os.path.join(_PACKAGE, ""))


@functools.cache
def _library_dirs() -> tuple[str, ...]:
    import sysconfig

    paths = sysconfig.get_paths()
    found = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    return tuple(os.path.join(os.path.abspath(p), "") for p in found | {_PACKAGE})


def users_frame(frames: list[traceback.FrameSummary] | traceback.StackSummary) -> str:
    """``file.py:LINE in function`` of the deepest frame in the user's own code: not in
    hpsearch, the standard library or installed packages (the innermost frame if none)."""

    def library(filename: str) -> bool:
        path = os.path.abspath(filename)
        parts = path.split(os.sep)
        return (
            filename.startswith("<")  # <frozen ...>, <string>
            or "site-packages" in parts
            or "dist-packages" in parts
            or path.startswith(_library_dirs())
        )

    users = [f for f in frames if not library(f.filename)]
    frame = (users or list(frames))[-1]
    return f"{os.path.basename(frame.filename)}:{frame.lineno} in {frame.name}"


TRACEBACK_LIMIT = 20_000  # bytes of a traceback kept in a trial's record


ERROR_LIMIT = 2_000  # characters of a failure's one-line reason (its traceback keeps more)


def shortened(text: str, limit: int = ERROR_LIMIT) -> str:
    """A reason of at most about ``limit`` characters: its start, and its end (where it was
    raised), around how much was left out. The leaderboard and every table show it whole."""
    if len(text) <= limit:
        return text
    half = (limit - 40) // 2
    return f"{text[:half]} … {len(text) - 2 * half} characters left out … {text[-half:]}"


def capped(text: str, limit: int = TRACEBACK_LIMIT) -> str:
    """``text`` if it fits in ``limit`` bytes (UTF-8), else its head and tail around a line
    that says how much was left out: where it began and how it ended both stay."""
    data = text.encode("utf-8", errors="replace")
    if len(data) <= limit:
        return text
    half = (limit - 100) // 2
    # A character cut in two at either edge is dropped.
    head = data[:half].decode("utf-8", errors="ignore")
    tail = data[-half:].decode("utf-8", errors="ignore")
    left_out = len(text) - len(head) - len(tail)
    return f"{head}\n… {left_out} characters left out …\n{tail}"


def at_budget(outcome: Outcome, budget: int, metric: str | None = None) -> Outcome:
    """An outcome as it stood at epoch ``budget``: an objective that trained past it (it
    ignores ``budget``) is judged by its curve at that epoch, as if it had stopped there —
    by ``metric``'s value there, with the rules of a returned value (missing or NaN:
    ``failed``, ±inf: ``diverged``)."""
    curves = outcome.curves
    if outcome.status == "timeout" or outcome.interrupted:
        return outcome
    if not curves or not curves.get("epoch"):  # it reported no epochs: it trained the budget
        if outcome.status != "ok" or outcome.epochs is not None:
            return outcome
        return dataclasses.replace(outcome, epochs=budget)
    epochs = curves["epoch"]
    if epochs[-1] is None:
        return outcome
    if epochs[-1] <= budget:  # the epoch it reached (it may have reported only the new ones)
        return dataclasses.replace(outcome, epochs=int(epochs[-1]))
    # Past its budget: what happened later (a failure included) is not this rung's business.
    keep = [i for i, e in enumerate(epochs) if e is not None and e <= budget]
    if not keep:
        return outcome
    last = keep[-1]
    cut = {k: v[: last + 1] for k, v in curves.items()}
    reached = int(epochs[last])
    values = {k: v[last] for k, v in curves.items() if k != "epoch" and is_real(v[last])}
    if metric is None:
        metric = next(iter(values), "")
    if metric not in values:
        error = (
            f"no '{metric}' reported at epoch {reached}, its budget: it trained past its "
            "budget and its curve there lacks the metric"
        )
        return Outcome("failed", epochs=reached, curves=cut, error=error)
    status, metrics, reason = interpret(values, metric)
    return Outcome(status, metrics, reached, cut, reason)


def record_for(trial: Trial, outcome: Outcome, seconds: float | None = None) -> TrialRecord:
    """A trial's record: what it was (index, params, seed) and what came of it."""
    return TrialRecord(
        trial=trial.index,
        params=dict(trial.params),
        seed=trial.seed,
        status=outcome.status,
        metrics=dict(outcome.metrics),
        epochs=outcome.epochs,
        seconds=None if seconds is None else round(seconds, 4),
        error=None if outcome.error is None else shortened(outcome.error),
        curves=outcome.curves,
        round=trial.round,
        traceback=outcome.traceback,
        bare_number=outcome.bare_number,
    )
