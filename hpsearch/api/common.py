"""What the API's functions share: a config or a run as the caller names it, and the run a
finished command leaves (what stopped it raised once everything is on disk)."""

from __future__ import annotations

from pathlib import Path

from hpsearch.config import Config, load_config
from hpsearch.events import SearchOutcome
from hpsearch.panda import PandaOutcome
from hpsearch.retesting import RetestOutcome
from hpsearch.runs import Run, load_run

ConfigLike = str | Path | Config
RunLike = str | Path | Run


def as_config(config: ConfigLike) -> Config:
    return config if isinstance(config, Config) else load_config(config)


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
