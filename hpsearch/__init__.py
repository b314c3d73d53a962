"""hpsearch: random hyperparameter search on the right scales, coarse-to-fine.

The Python API does everything the command line does::

    import hpsearch

    run = hpsearch.run("configs/quickstart.yaml", trials=20, jobs=2)  # progress on stderr
    run.best                      # the best TrialRecord
    run.leaderboard()             # rows (a pandas DataFrame when pandas is installed)
    zoomed = hpsearch.zoom(run)   # the next round, narrowed around the best
    hpsearch.retest(zoomed, top=3, seeds=5).summary["retest"]
    for look in hpsearch.watch("latest"):  # a run going on elsewhere, until it ends
        print(look.done, look.planned, look.best)

Names are imported on first use, so ``import hpsearch`` (and ``hpsearch --help``) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hpsearch.version import __version__

_API = {
    # name: module it lives in
    "run": "hpsearch.progress",  # the API's, showing progress on stderr (quiet=True: none)
    "resume": "hpsearch.progress",
    "zoom": "hpsearch.progress",
    "retest": "hpsearch.api",
    "train": "hpsearch.api",
    "check": "hpsearch.api",
    "hyperparameters": "hpsearch.api",
    "init": "hpsearch.api",
    "sample": "hpsearch.api",
    "start_run": "hpsearch.api",
    "start_resume": "hpsearch.api",
    "plan_zoom": "hpsearch.api",
    "plan_retest": "hpsearch.api",
    "plan_train": "hpsearch.api",
    "ZoomPlan": "hpsearch.api",
    "load_run": "hpsearch.runs",
    "list_runs": "hpsearch.runs",
    "compare": "hpsearch.runs",
    "Run": "hpsearch.runs",
    "watch": "hpsearch.watching",
    "snapshot": "hpsearch.watching",
    "load_config": "hpsearch.config",
    "Config": "hpsearch.config",
    "TrialRecord": "hpsearch.record",
    "Goal": "hpsearch.results",
    "Direction": "hpsearch.results",
    "UserError": "hpsearch.errors",
    "ConfigError": "hpsearch.errors",
    "RunError": "hpsearch.errors",
    "NoOkTrial": "hpsearch.errors",
    "events": "hpsearch.events",
}

__all__ = [  # what `from hpsearch import *` and editors see; each is in _API
    "Config",
    "ConfigError",
    "Direction",
    "Goal",
    "NoOkTrial",
    "Run",
    "RunError",
    "TrialRecord",
    "UserError",
    "ZoomPlan",
    "__version__",
    "check",
    "compare",
    "events",
    "hyperparameters",
    "init",
    "list_runs",
    "load_config",
    "load_run",
    "plan_retest",
    "plan_train",
    "plan_zoom",
    "resume",
    "retest",
    "run",
    "sample",
    "snapshot",
    "start_resume",
    "start_run",
    "train",
    "watch",
    "zoom",
]

if TYPE_CHECKING:  # the names, for type checkers and editors
    from hpsearch import events
    from hpsearch.api import (
        ZoomPlan,
        check,
        hyperparameters,
        init,
        plan_retest,
        plan_train,
        plan_zoom,
        retest,
        sample,
        start_resume,
        start_run,
        train,
    )
    from hpsearch.config import Config, load_config
    from hpsearch.errors import ConfigError, NoOkTrial, RunError, UserError
    from hpsearch.progress import resume, run, zoom
    from hpsearch.record import TrialRecord
    from hpsearch.results import Direction, Goal
    from hpsearch.runs import Run, compare, list_runs, load_run
    from hpsearch.watching import snapshot, watch


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'hpsearch' has no attribute '{name}'")
    import importlib

    loaded = importlib.import_module(module)
    value = loaded if name == "events" else getattr(loaded, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
