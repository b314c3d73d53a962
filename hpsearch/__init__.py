"""hpsearch: random hyperparameter search on the right scales, coarse-to-fine.

The Python API does everything the command line does::

    import hpsearch

    run = hpsearch.run("configs/quickstart.yaml", trials=20, jobs=2)
    run.best                      # the best TrialRecord
    run.leaderboard()             # rows (a pandas DataFrame when pandas is installed)
    zoomed = hpsearch.zoom(run)   # the next round, narrowed around the best
    hpsearch.retest(zoomed, top=3, seeds=5).summary["retest"]

Names are imported on first use, so ``import hpsearch`` (and ``hpsearch --help``) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_API = {
    # name: module it lives in
    "run": "hpsearch.api",
    "resume": "hpsearch.api",
    "zoom": "hpsearch.api",
    "retest": "hpsearch.api",
    "train": "hpsearch.api",
    "check": "hpsearch.api",
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

__all__ = ["__version__", *_API]

if TYPE_CHECKING:  # the names, for type checkers and editors
    from hpsearch import events as events
    from hpsearch.api import (
        ZoomPlan as ZoomPlan,
    )
    from hpsearch.api import (
        check as check,
    )
    from hpsearch.api import (
        plan_retest as plan_retest,
    )
    from hpsearch.api import (
        plan_train as plan_train,
    )
    from hpsearch.api import (
        plan_zoom as plan_zoom,
    )
    from hpsearch.api import (
        resume as resume,
    )
    from hpsearch.api import (
        retest as retest,
    )
    from hpsearch.api import (
        run as run,
    )
    from hpsearch.api import (
        sample as sample,
    )
    from hpsearch.api import (
        start_resume as start_resume,
    )
    from hpsearch.api import (
        start_run as start_run,
    )
    from hpsearch.api import (
        train as train,
    )
    from hpsearch.api import (
        zoom as zoom,
    )
    from hpsearch.config import (
        Config as Config,
    )
    from hpsearch.config import (
        load_config as load_config,
    )
    from hpsearch.errors import (
        ConfigError as ConfigError,
    )
    from hpsearch.errors import (
        NoOkTrial as NoOkTrial,
    )
    from hpsearch.errors import (
        RunError as RunError,
    )
    from hpsearch.errors import (
        UserError as UserError,
    )
    from hpsearch.record import (
        TrialRecord as TrialRecord,
    )
    from hpsearch.results import (
        Direction as Direction,
    )
    from hpsearch.results import (
        Goal as Goal,
    )
    from hpsearch.runs import (
        Run as Run,
    )
    from hpsearch.runs import (
        compare as compare,
    )
    from hpsearch.runs import (
        list_runs as list_runs,
    )
    from hpsearch.runs import (
        load_run as load_run,
    )


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
