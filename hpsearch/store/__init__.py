"""The run directory (``runs/<run-id>/``): created whole or not at all, appended to one line at
a time, read back defensively. ``core`` is the run itself, ``summary`` summary.json and the
marks of a run, ``rungs`` early stopping's log and checkpoints, ``attempts`` retried trials'
earlier records."""

from hpsearch.store.core import LoadedTrials, RunStore
from hpsearch.store.reading import read_history
from hpsearch.store.summary import (
    KINDS,
    MARKER,
    is_run_dir,
    new_run_id,
    now,
    run_kind,
    summary_problem,
    versions,
)

__all__ = [
    "KINDS",
    "MARKER",
    "LoadedTrials",
    "RunStore",
    "is_run_dir",
    "new_run_id",
    "now",
    "read_history",
    "run_kind",
    "summary_problem",
    "versions",
]
