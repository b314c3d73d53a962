"""The Python API: everything the command line does, as functions (``import hpsearch``).

Each command has a function that runs it and returns a ``Run`` (``run``, ``resume``,
``zoom``, ``retest``, ``train``), and below it the two steps the command line takes itself
(``start_run`` / ``plan_zoom`` / ... then ``.run(subscriber)``), so that a display can follow
the events. Every option is a typed keyword (a misspelt one is a TypeError before anything is
written). Bad input raises a ``UserError`` (``ConfigError``, ``RunError``, ...) whose message
is the CLI's one line. Ctrl-C keeps every finished trial, marks the run ``interrupted`` and
raises ``KeyboardInterrupt``; ``resume`` goes on from there.
"""

from hpsearch.api.common import ConfigLike, RunLike
from hpsearch.api.searching import resume, run, start_resume, start_run, zoom
from hpsearch.api.single import (
    check,
    hyperparameters,
    init,
    plan_retest,
    plan_train,
    retest,
    sample,
    train,
)
from hpsearch.api.zooming import ZoomPlan, plan_zoom
from hpsearch.runs import Run, compare, list_runs, load_run, load_search
from hpsearch.watching import Snapshot, snapshot, watch

__all__ = [
    "ConfigLike",
    "Run",
    "RunLike",
    "Snapshot",
    "ZoomPlan",
    "check",
    "compare",
    "hyperparameters",
    "init",
    "list_runs",
    "load_run",
    "load_search",
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
