"""A user's Python function as an objective: ``function(params, seed[, report=...])``,
imported in each worker from the config's directory."""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from hpsearch import interrupts
from hpsearch.objectives.base import (
    BudgetReached,
    Curves,
    Diverged,
    Fixing,
    Outcome,
    Report,
    TimedOut,
    at_budget,
    interpret,
    is_real,
)

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


def takes(function: Callable[..., Any], name: str) -> bool:
    """Whether ``function`` takes keyword ``name`` (or any keyword)."""
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    return name in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


def takes_report(function: Callable[..., Any]) -> bool:
    return takes(function, "report")


def requires(function: Callable[..., Any], name: str) -> bool:
    """Whether ``function`` has a parameter ``name`` without a default."""
    try:
        parameter = inspect.signature(function).parameters.get(name)
    except (TypeError, ValueError):
        return False
    return parameter is not None and parameter.default is inspect.Parameter.empty


PASSED = "params, seed, report=, budget=, checkpoint_dir=, device="


def check_signature(
    function: Callable[..., Any], budget: bool = False, devices: bool = False
) -> str | None:
    """Why ``function(params, seed[, report=...])`` cannot be called, or None (with
    ``budget``, the ``budget=`` and ``checkpoint_dir=`` it takes are passed too; with
    ``devices``, the ``device=`` it takes)."""
    try:
        kwargs: dict[str, Any] = {"report": None} if takes_report(function) else {}
        if budget and takes(function, "budget"):
            kwargs["budget"] = 1
            if takes(function, "checkpoint_dir"):
                kwargs["checkpoint_dir"] = ""
        if devices and takes(function, "device"):
            kwargs["device"] = "0"
        inspect.signature(function).bind({}, 0, **kwargs)
    except TypeError as exc:
        missing = re.search(r"missing a required (?:keyword-only )?argument: '(\w+)'", str(exc))
        if missing is None:
            return f"cannot be called as function(params, seed): {exc}"
        return f"({_where(function)}): {_unfilled(missing.group(1))}"
    except ValueError:
        return None  # no signature to check (a builtin): trust it
    return None


def _unfilled(name: str) -> str:
    """Why hpsearch cannot fill the required argument ``name``, and what to do."""
    has = f"argument '{name}' has no default"
    if name == "device":
        return f"{has} and device= is passed only with run.devices; give it a default"
    if name in ("budget", "checkpoint_dir"):
        return (
            f"{has} and nothing gives it without early stopping: set model.epochs (the epochs "
            "of full training, given as budget=) or give it a default"
        )
    return f"{has} and is not one hpsearch passes ({PASSED}); give it a default"


def _where(function: Callable[..., Any]) -> str:
    """``train() at objective.py:12``: where the user's function is defined."""
    name = getattr(function, "__qualname__", None) or type(function).__name__
    code = getattr(function, "__code__", None)
    try:
        source = inspect.getsourcefile(function)
    except TypeError:
        source = None
    if source is None or code is None:
        return f"{name}()"
    return f"{name}() at {os.path.basename(source)}:{code.co_firstlineno}"


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
class PythonObjective(Fixing):
    """A user's function ``function(params, seed[, report=...])`` from ``objective.python``."""

    spec: str
    workdir: str
    fixed: Mapping[str, Any]
    metric: str
    full_budget: int | None = None  # early stopping: the budget of a trial trained fully

    dataset = None  # it loads its own data (not a field)

    def prepare(self) -> None:
        """Import the function now (a worker does it on arrival, outside any trial's time)."""
        load_function(self.spec, self.workdir)

    def __call__(
        self,
        params: Mapping[str, Any],
        seed: int,
        timeout: float | None,
        index: int = 0,
        observer: Report | None = None,
        budget: int | None = None,
        checkpoint_dir: str | None = None,
        device: str | None = None,
    ) -> Outcome:
        if budget is None and self.full_budget is not None:
            # Trained fully outside a search (a re-test, one model): the full budget, and a
            # checkpoint directory of its own for as long as it trains.
            import tempfile

            with tempfile.TemporaryDirectory(prefix="hpsearch-checkpoint-") as scratch:
                outcome = self(
                    params,
                    seed,
                    timeout,
                    index,
                    observer,
                    self.full_budget,
                    checkpoint_dir or scratch,
                    device,
                )
            return at_budget(outcome, self.full_budget, self.metric)
        function = load_function(self.spec, self.workdir)
        deadline = None if timeout is None else time.perf_counter() + timeout
        kwargs: dict[str, Any] = {}
        if budget is not None and takes(function, "budget"):
            kwargs["budget"] = budget
            if takes(function, "checkpoint_dir"):
                kwargs["checkpoint_dir"] = checkpoint_dir
        if device is not None and takes(function, "device"):
            kwargs["device"] = device
        # A function that knows no budget is stopped by report() at the budget's epoch.
        report = Curves(deadline, observer, None if "budget" in kwargs else budget)
        if takes_report(function):
            kwargs["report"] = report
        try:
            # A print() in the objective must not land in `--json` output on stdout.
            with interrupts.alarm(timeout, TimedOut), _stdout_to_stderr():
                value = function({**self.fixed, **params}, seed, **kwargs)
        except BudgetReached:
            return _reached(report, self.metric)
        except Diverged as exc:
            return Outcome("diverged", epochs=report.epochs, curves=report.curves, error=str(exc))
        except TimedOut:
            return Outcome(
                "timeout",
                epochs=report.epochs,
                curves=report.curves,
                error=f"took longer than {timeout:g} s",
            )
        status, metrics, error = interpret(value, self.metric)
        curves = report.curves if report.epochs else None
        outcome = Outcome(status, metrics, report.epochs, curves, error)
        outcome.bare_number = is_real(value) and self.metric not in report.curves
        return outcome


def _reached(report: Curves, metric: str) -> Outcome:
    """The outcome of a function stopped at its budget: the metrics it last reported."""
    curves = report.curves
    metrics = {k: v[-1] for k, v in curves.items() if k != "epoch" and v and v[-1] is not None}
    if metric not in metrics:
        return Outcome(
            "failed",
            epochs=report.epochs,
            curves=curves,
            error=f"no '{metric}' reported: stopped at its budget, but report() never gave it",
        )
    return Outcome("ok", {k: float(v) for k, v in metrics.items()}, report.epochs, curves)


def budget_problem(function: Callable[..., Any]) -> str | None:
    """Why early stopping cannot work with ``function``, or None."""
    if takes(function, "budget") or takes_report(function):
        return None
    return (
        "takes neither budget= nor report=: early stopping cannot tell it how many epochs "
        "to train; add a budget=None keyword (the epochs to reach) or report="
    )
