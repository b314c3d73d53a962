"""``--warm-start RUN``: another search's trials, for the model of a new one to start from.

A run is compatible when it ranks by the same metric in the same direction; of its trials,
those whose params are a point of the new search's space are taken (the others are left
out), and at least one must be. They are copied into the new run's ``warm.jsonl`` when it is
made, so the search reads the same trials on every resume, whatever happens to RUN later.
They inform the model only: they are not trials of this search, never ranked or reported
as its best.
"""

from __future__ import annotations

from hpsearch.config import Config
from hpsearch.errors import ConfigError, UserError
from hpsearch.record import TrialRecord
from hpsearch.rundirs import resolve_run


def warm_records(config: Config, flag: str) -> tuple[str, list[TrialRecord]]:
    """The run named by ``config.search.warm_start`` (its id) and its trials this search's
    model can use. ``flag``: how the user named it, for the one-line errors."""
    ref = config.search.warm_start
    assert ref is not None
    try:
        store = resolve_run(ref, config.run.runs_dir, search_only=True)
        other = store.config()
        records = store.load_trials(space=other.space).records
    except UserError as exc:
        raise ConfigError(str(exc), key=flag) from None
    mine, theirs = config.search, other.search
    if (theirs.metric, theirs.direction) != (mine.metric, mine.direction):
        raise ConfigError(
            f"{ref} ranks by {theirs.metric} ({theirs.direction}), this search by "
            f"{mine.metric} ({mine.direction}): its trials cannot start this model",
            key=flag,
        )
    usable, first_problem = [], None
    for r in records:
        problem = config.space.misfit(r.params)
        if problem is None and (r.ok or r.status in ("failed", "diverged", "timeout")):
            usable.append(r)
        first_problem = first_problem or problem
    if not any(r.ok for r in usable):
        why = f" (trial {records[0].trial}: {first_problem})" if first_problem else ""
        raise ConfigError(
            f"{ref}: none of its {len(records)} trials is a finished point of this search's "
            f"space{why}",
            key=flag,
        )
    return store.run_id, usable
