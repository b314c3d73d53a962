"""What a trial runs, and the worker function that runs it without ever raising.

An objective is a picklable callable ``objective(params, seed, timeout, index) -> Outcome``:
the built-in trainer, a user's Python function (``objective.python``) or a shell command
(``objective.command``). Objects here hold only plain data, so they travel to worker
processes and Dask workers; a Python function is imported in the worker, from the config's
directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import inspect
import json
import math
import numbers
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
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
    def __call__(
        self, params: Mapping[str, Any], seed: int, timeout: float | None, index: int
    ) -> Outcome: ...


@dataclass(frozen=True)
class TrainerObjective:
    """Train the built-in network: fixed settings overridden by the trial's values."""

    dataset: Any  # hpsearch.data.Dataset
    fixed: Mapping[str, Any]
    metric: str = "val_accuracy"

    def __call__(
        self, params: Mapping[str, Any], seed: int, timeout: float | None, index: int = 0
    ) -> Outcome:
        from hpsearch.trainer import train

        best_by = self.metric if self.metric.startswith("val_") else "val_accuracy"
        result = train(
            {**self.fixed, **params}, self.dataset, seed, best_by=best_by, timeout=timeout
        )
        return Outcome(result.status, result.metrics, result.epochs, result.curves, result.reason)


class _Diverged(Exception):
    """Raised by ``report`` when a reported value is not finite: ends the trial."""


class _TimedOut(BaseException):
    """Raised in a trial that ran past its timeout (a BaseException, so that a user's
    ``except Exception`` cannot swallow it)."""


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
            str(k): float(v) for k, v in value.items() if _is_real(v) and math.isfinite(float(v))
        }
        value = value[metric]
    else:
        metrics = {}
    if not _is_real(value):
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


def misses_metric(record: Mapping[str, Any], metric: str) -> bool:
    """Whether a trial failed only because its objective did not report ``metric``."""
    error = record.get("error") or ""
    return record.get("status") == "failed" and (
        error.startswith(f"returned a dict without '{metric}'")
        or error.startswith(f"no '{metric}' in its output")
    )


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class Curves:
    """``report(epoch, **metrics)`` for an objective: records a learning curve, stops the
    trial when a value is not finite (``diverged``) or the timeout has passed."""

    def __init__(self, deadline: float | None) -> None:
        self.curves: dict[str, list[Any]] = {"epoch": []}
        self.deadline = deadline

    def __call__(self, epoch: int, **metrics: Any) -> None:
        if not _is_real(epoch) or not math.isfinite(float(epoch)):
            raise TypeError(
                f"report(): epoch must be a number, got {type(epoch).__name__} {epoch!r:.40}"
            )
        self.curves["epoch"].append(epoch)
        length = len(self.curves["epoch"])
        for key, value in metrics.items():
            if key not in self.curves:  # a metric reported for the first time: pad its past
                self.curves[key] = [None] * (length - 1)
            self.curves[key].append(float(value) if _is_real(value) else None)
        if len(metrics) + 1 < len(self.curves):  # a metric reported before, not this time
            for column in self.curves.values():
                if len(column) < length:
                    column.append(None)
        bad = [k for k, v in metrics.items() if _is_real(v) and not math.isfinite(float(v))]
        if bad:
            raise _Diverged(f"{bad[0]} became {metrics[bad[0]]} at epoch {epoch}")
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise _TimedOut

    @property
    def epochs(self) -> int | None:
        return len(self.curves["epoch"]) or None


_LOADED: dict[tuple[str, str], Callable[..., Any]] = {}


def load_function(spec: str, workdir: str) -> Callable[..., Any]:
    """Import ``package.module:function`` from ``workdir`` (cached per process).

    A module or package found in ``workdir`` is loaded from its file under a private name, so
    one named like a module already imported (``queue.py``, ``random.py``) neither replaces
    nor is replaced by it; anything else is imported as usual. ``workdir`` goes at the end of
    ``sys.path``, so the module's own imports of files beside it work without shadowing the
    standard library.
    """
    key = (spec, workdir)
    if key not in _LOADED:
        module_name, _, name = spec.partition(":")
        module = _import_user_module(module_name, workdir)
        function = getattr(module, name, None)
        if function is None:
            raise AttributeError(f"module '{module_name}' has no '{name}'")
        if not callable(function):
            raise TypeError(f"'{spec}' is a {type(function).__name__}, not a function")
        _LOADED[key] = function
    return _LOADED[key]


def _import_user_module(module_name: str, workdir: str) -> Any:
    import types

    if workdir not in sys.path:
        sys.path.append(workdir)
    parts = module_name.split(".")
    top = os.path.join(workdir, parts[0])
    is_file = len(parts) == 1 and os.path.isfile(top + ".py")
    if not is_file and not os.path.isdir(top):
        return importlib.import_module(module_name)  # installed, not beside the config
    digest = hashlib.sha1(os.path.abspath(workdir).encode()).hexdigest()[:10]
    private = f"_hpsearch_objective_{digest}_{parts[0]}"
    if private not in sys.modules:
        if is_file:
            module_spec = importlib.util.spec_from_file_location(private, top + ".py")
        elif os.path.isfile(os.path.join(top, "__init__.py")):
            module_spec = importlib.util.spec_from_file_location(
                private, os.path.join(top, "__init__.py"), submodule_search_locations=[top]
            )
        else:  # a namespace package: a directory without __init__.py
            namespace = types.ModuleType(private)
            namespace.__path__ = [top]
            sys.modules[private] = namespace
            module_spec = None
        if module_spec is not None:
            assert module_spec.loader is not None
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[private] = module
            try:
                module_spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[private]
                raise
    return importlib.import_module(".".join([private, *parts[1:]]))


def takes_report(function: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    return "report" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


def check_signature(function: Callable[..., Any]) -> str | None:
    """Why ``function(params, seed[, report=...])`` cannot be called, or None."""
    try:
        kwargs = {"report": None} if takes_report(function) else {}
        inspect.signature(function).bind({}, 0, **kwargs)
    except TypeError as exc:
        return f"cannot be called as function(params, seed): {exc}"
    except ValueError:
        return None  # no signature to check (a builtin): trust it
    return None


@contextmanager
def _alarm(timeout: float | None) -> Iterator[None]:
    """Interrupt the trial with _TimedOut after ``timeout`` seconds (main thread only: worker
    processes, Dask worker processes and the sequential backend; threads rely on ``report``).
    An objective that swallows it is killed with its worker process (``hpsearch.pool``)."""
    if timeout is None or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise _TimedOut

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


_QUIET = threading.local()


class _StdoutRouter:
    """Stands in for sys.stdout: writes from a thread running an objective go to stderr.
    (contextlib.redirect_stdout swaps stdout for every thread at once.)"""

    def __init__(self, target: Any) -> None:
        self._target = target

    def write(self, text: str) -> int:
        stream = sys.stderr if getattr(_QUIET, "on", False) else self._target
        return stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


_ROUTER_LOCK = threading.Lock()


@contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    with _ROUTER_LOCK:
        if not isinstance(sys.stdout, _StdoutRouter):
            sys.stdout = _StdoutRouter(sys.stdout)
    _QUIET.on = True
    try:
        yield
    finally:
        _QUIET.on = False


@dataclass(frozen=True)
class PythonObjective:
    """A user's function ``function(params, seed[, report=...])`` from ``objective.python``."""

    spec: str
    workdir: str
    fixed: Mapping[str, Any]
    metric: str

    def prepare(self) -> None:
        """Import the function now (a worker does it on arrival, outside any trial's time)."""
        load_function(self.spec, self.workdir)

    def __call__(
        self, params: Mapping[str, Any], seed: int, timeout: float | None, index: int = 0
    ) -> Outcome:
        function = load_function(self.spec, self.workdir)
        report = Curves(None if timeout is None else time.perf_counter() + timeout)
        kwargs = {"report": report} if takes_report(function) else {}
        try:
            # A print() in the objective must not land in `--json` output on stdout.
            with _alarm(timeout), _stdout_to_stderr():
                value = function({**self.fixed, **params}, seed, **kwargs)
        except _Diverged as exc:
            return Outcome("diverged", epochs=report.epochs, curves=report.curves, error=str(exc))
        except _TimedOut:
            return Outcome(
                "timeout",
                epochs=report.epochs,
                curves=report.curves,
                error=f"took longer than {timeout:g} s",
            )
        status, metrics, error = interpret(value, self.metric)
        curves = report.curves if report.epochs else None
        return Outcome(status, metrics, report.epochs, curves, error)


@dataclass(frozen=True)
class CommandObjective:
    """A shell command from ``objective.command``, ``{name}`` filled with shell-quoted values.

    The process runs in the config's directory with ``HPSEARCH_PARAMS_FILE`` (a JSON file of
    the values; also ``HPSEARCH_PARAMS``, the JSON itself, when it is under 32 KiB),
    ``HPSEARCH_SEED`` and ``HPSEARCH_TRIAL`` in its environment, in a session of its own. The
    trial ends when that process exits (or at the timeout): whatever it left running, in its
    group or in a session it started, is killed then. The metric is read from the last stdout
    line that is a JSON object holding it, or a ``metric=value`` line; JSON lines with an
    ``epoch`` make a curve.
    """

    template: str
    workdir: str
    fixed: Mapping[str, Any]
    metric: str

    def __call__(
        self, params: Mapping[str, Any], seed: int, timeout: float | None, index: int = 0
    ) -> Outcome:
        import tempfile

        from hpsearch import procs

        values = {**self.fixed, **params}
        fields = {**values, "seed": seed, "trial": index}
        command = self.template.format(**{k: shlex.quote(_as_text(v)) for k, v in fields.items()})
        text = json.dumps(values)
        token = procs.child_token()
        with tempfile.TemporaryDirectory(prefix="hpsearch-trial-") as scratch:
            params_file = os.path.join(scratch, "params.json")
            with open(params_file, "w", encoding="utf-8") as f:
                f.write(text)
            env = {
                **os.environ,
                "HPSEARCH_PARAMS_FILE": params_file,
                "HPSEARCH_SEED": str(seed),
                "HPSEARCH_TRIAL": str(index),
                procs.TOKEN: token,
            }
            env.pop("HPSEARCH_PARAMS", None)
            if len(text) < PARAMS_IN_ENV_LIMIT:  # the environment has a size limit
                env["HPSEARCH_PARAMS"] = text
            finished = _run_command(command, self.workdir, env, timeout, token)
        out, err, returncode, timed_out = finished
        curves = _curves(out)
        if timed_out:
            return Outcome(
                "timeout",
                epochs=_epochs(curves),
                curves=curves,
                error=f"took longer than {timeout:g} s; its processes were killed",
            )
        if returncode != 0:
            return Outcome(
                "failed",
                epochs=_epochs(curves),
                curves=curves,
                error=f"exit code {returncode}: {_tail(err)}",
            )
        value = _metric_from(out, self.metric)
        if value is None:
            printed = sorted({k for item in _json_lines(out) for k in item if k != "epoch"})
            return Outcome(
                "failed",
                epochs=_epochs(curves),
                curves=curves,
                error=f"no '{self.metric}' in its output: print a JSON object with "
                f"it, or {self.metric}=VALUE, as a line on stdout"
                + (f" (its JSON lines had: {', '.join(printed)})" if printed else ""),
            )
        status, metrics, error = interpret(value, self.metric)
        return Outcome(status, metrics, _epochs(curves), curves, error)


PARAMS_IN_ENV_LIMIT = 32 * 1024  # bytes of JSON; Linux refuses one variable over 128 KiB


def _run_command(
    command: str, workdir: str, env: dict[str, str], timeout: float | None, token: str
) -> tuple[str, str, int | None, bool]:
    """Run ``command``; return (stdout, stderr, exit code, timed out). Its output is read
    until it exits, not until every pipe closes: a background child that keeps stdout open
    neither holds the trial nor outlives it."""
    from hpsearch import procs

    process = subprocess.Popen(
        command,
        shell=True,
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    chunks: dict[str, list[bytes]] = {"out": [], "err": []}
    readers = [
        threading.Thread(target=_drain, args=(stream, chunks[key]), daemon=True)
        for key, stream in (("out", process.stdout), ("err", process.stderr))
    ]
    for reader in readers:
        reader.start()
    timed_out = False
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        # Whatever the command left behind ends with the trial (Ctrl-C included).
        procs.kill_group(process.pid)
        procs.kill_tagged([token])
        if process.returncode is None:
            process.wait()
        until = time.monotonic() + 0.5  # a child that hid its token may still hold a pipe
        for reader in readers:
            reader.join(timeout=max(until - time.monotonic(), 0.0))
    decode = lambda key: b"".join(chunks[key]).decode("utf-8", errors="replace")  # noqa: E731
    return decode("out"), decode("err"), process.returncode, timed_out


def _drain(stream: Any, into: list[bytes]) -> None:
    with contextlib.suppress(OSError, ValueError):
        for chunk in iter(lambda: stream.read1(65536), b""):
            into.append(chunk)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _tail(text: str, lines: int = 5, chars: int = 500) -> str:
    tail = " | ".join(line for line in text.strip().splitlines()[-lines:] if line.strip())
    return tail[-chars:] if tail else "(nothing on stderr)"


def _json_lines(out: str) -> Iterator[dict]:
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if isinstance(item, dict):
                yield item


def _metric_from(out: str, metric: str) -> Any:
    pattern = re.compile(rf"^\s*{re.escape(metric)}\s*[=:]\s*(\S+)\s*$")
    for line in reversed(out.splitlines()):
        stripped = line.strip()
        if stripped.startswith("{"):
            try:
                item = json.loads(stripped)
            except ValueError:
                continue
            if isinstance(item, dict) and metric in item and "epoch" not in item:
                return item
            continue
        match = pattern.match(line)
        if match:
            try:
                return float(match.group(1))
            except ValueError:
                return match.group(1)
    # A last resort: the final epoch line that carries the metric.
    for item in reversed(list(_json_lines(out))):
        if metric in item:
            return item
    return None


def _curves(out: str) -> dict[str, list[Any]] | None:
    report = Curves(None)
    for item in _json_lines(out):
        if "epoch" in item:
            epoch = item.pop("epoch")
            # A line with a bad epoch ("1", 1e999) is no curve point; it fails nothing.
            with contextlib.suppress(_Diverged, TypeError, ValueError, OverflowError):
                report(epoch, **{k: v for k, v in item.items() if _is_real(v)})
    return report.curves if report.epochs else None


def _epochs(curves: dict[str, list[Any]] | None) -> int | None:
    return len(curves["epoch"]) if curves else None


def _cwd() -> str | None:
    try:
        return os.getcwd()
    except OSError:
        return None


def run_trial(objective: Objective, trial: Trial, timeout: float | None = None) -> dict[str, Any]:
    """Run one trial and return its record. Never raises (but for Ctrl-C): an exception or a
    ``sys.exit()`` becomes a ``failed`` record with its type and message. Writes no files."""
    started = time.perf_counter()
    cwd = _cwd()
    try:
        outcome = objective(trial.params, trial.seed, timeout, trial.index)
        if not isinstance(outcome, Outcome):
            raise TypeError(f"the objective returned {type(outcome).__name__}, not an Outcome")
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # sys.exit(), CancelledError...: they end the trial, not the run
        frames = traceback.extract_tb(exc.__traceback__)
        where = (
            f" (at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno})" if frames else ""
        )
        outcome = Outcome("failed", error=f"{type(exc).__name__}: {exc}{where}")
    finally:
        if cwd is not None and _cwd() != cwd:
            with contextlib.suppress(OSError):
                os.chdir(cwd)  # an objective that changed directory changes it for itself only
    elapsed = time.perf_counter() - started
    if timeout is not None and outcome.status == "ok" and elapsed > timeout * 1.05 + 0.05:
        # Where no alarm can interrupt it (a thread: threading or Dask), an overrun still
        # counts as one.
        outcome = Outcome(
            "timeout",
            epochs=outcome.epochs,
            curves=outcome.curves,
            error=f"took {elapsed:.3g} s, longer than {timeout:g} s",
        )
    return record_for(trial, outcome, time.perf_counter() - started)


def record_for(trial: Trial, outcome: Outcome, seconds: float | None = None) -> dict[str, Any]:
    """A trial's record: what it was (index, params, seed) and what came of it."""
    return {
        "trial": trial.index,
        "params": dict(trial.params),
        "seed": trial.seed,
        "status": outcome.status,
        "metrics": dict(outcome.metrics),
        "epochs": outcome.epochs,
        "seconds": None if seconds is None else round(seconds, 4),
        "error": outcome.error,
        "curves": outcome.curves,
    }
