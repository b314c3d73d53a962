"""A search read back from its logs: its ``History`` (rounds and final records)."""

from __future__ import annotations

from collections.abc import Sequence

from hpsearch.config import Config
from hpsearch.history import History
from hpsearch.record import TrialRecord
from hpsearch.store.core import RunStore


def read_history(
    store: RunStore, config: Config, records: Sequence[TrialRecord], repair: bool = False
) -> History:
    """The search's history from its logs. A run made by hpsearch 0.1 has no rounds log: it
    is one round over the whole space (and, with ``repair``, gets its rounds log now)."""
    if store.has_rounds:
        rounds = store.load_rounds(config.space, repair=repair)
        if rounds:
            return History(config, rounds, records)
    planned = store.summary().get("trials_planned")
    count = max([config.search.trials, *[r.trial + 1 for r in records]])
    if isinstance(planned, int) and planned > count:
        count = planned
    history = History.single(config, records, count)
    if repair:
        store.append_round(history.rounds[0])
    return history
