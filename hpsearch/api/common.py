"""What the API's functions share: a config or a run as the caller names it, and the run a
finished command leaves (what stopped it raised once everything is on disk)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from hpsearch.config import Config, load_config
from hpsearch.events import Event, SearchOutcome, Subscriber
from hpsearch.panda import PandaOutcome
from hpsearch.retesting import RetestOutcome
from hpsearch.runs import Run, load_run
from hpsearch.session import SearchSession

ConfigLike = str | Path | Config
RunLike = str | Path | Run
# How a search is shown as it runs: a context manager giving a subscriber to its events
# (``hpsearch.run`` passes the terminal's, from ``hpsearch.progress``; the API prints nothing).
Progress = Callable[[], AbstractContextManager[Subscriber]]


def as_config(config: ConfigLike) -> Config:
    return config if isinstance(config, Config) else load_config(config)


def followed(
    session: SearchSession, on_event: Subscriber | None, quiet: bool, progress: Progress | None
) -> Run:
    """Run a search: shown by ``progress`` (unless ``quiet``), then ``on_event`` told each
    event; its run, once on disk (``finished``)."""
    if quiet or progress is None:
        return finished(session.run(on_event))
    with progress() as show:

        def both(event: Event) -> Any:
            show(event)
            if on_event is not None:
                on_event(event)

        return finished(session.run(both))


def finished(outcome: SearchOutcome | RetestOutcome | PandaOutcome) -> Run:
    """The run an API call made; what stopped it is raised once everything is on disk."""
    error = getattr(outcome, "error", None)
    if error is not None:
        raise error
    stopped = getattr(outcome, "stopped", None)
    if stopped is not None:
        raise stopped
    if outcome.status == "interrupted" and isinstance(outcome, PandaOutcome):
        raise KeyboardInterrupt
    return load_run(outcome.run_dir)
