"""A search read back from its logs: its ``History`` (rounds and final records)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hpsearch.config import Config
from hpsearch.errors import RunError
from hpsearch.files import BadLine, read_log
from hpsearch.history import History, NotInRounds
from hpsearch.record import RecordProblem, TrialRecord
from hpsearch.space import Space
from hpsearch.store.core import RunStore


def read_history(
    store: RunStore, config: Config, records: Sequence[TrialRecord], repair: bool = False
) -> History:
    """The search's history from its logs. A run made by hpsearch 0.1 has no rounds log: it
    is one round over the whole space (and, with ``repair``, gets its rounds log now)."""
    history = _read_history(store, config, records, repair)
    history.prior = tuple(load_warm(store, config.space))
    return history


def load_warm(store: RunStore, space: Space) -> list[TrialRecord]:
    """The trials a warm start copied in (none without one); a bad line is a RunError
    naming file, line and field."""

    def parse(item: dict[str, Any]) -> TrialRecord:
        try:
            return TrialRecord.from_json(item, space)
        except RecordProblem as problem:
            raise BadLine(str(problem)) from None

    read = read_log(
        store.path / "warm.jsonl",
        parse,
        what="warm-start trial",
        fix="delete that line (the model starts without it)",
    )
    return [record for _, record in read.items]


def _read_history(
    store: RunStore, config: Config, records: Sequence[TrialRecord], repair: bool
) -> History:
    log = store.path / "rounds.jsonl"
    rounds = store.load_rounds(config.space, repair=repair) if store.has_rounds else []
    if rounds:
        try:
            return History(config, rounds, records)
        except NotInRounds as exc:
            if exc.owner is None and exc.record.trial >= rounds[-1].stop:
                raise RunError(
                    f"{log}: lacks the round of trial {exc.record.trial} (round "
                    f"{exc.record.round} in trials.jsonl): it was cut short; restore it (the "
                    "trials are kept)"
                ) from None
            raise RunError(
                f"{store.path / 'trials.jsonl'}: {exc}; fix the round in that trial's line, or "
                "delete the line"
            ) from None
    later = sorted({r.round for r in records if r.round})
    if later:  # trials of rounds after the first, and no rounds log to say what they were
        what = "is missing" if not store.has_rounds else "is empty"
        raise RunError(
            f"{log}: {what}, but trials of round {later[0]} are on disk: restore it (the "
            "trials are kept)"
        )
    planned = store.summary().get("trials_planned")
    count = max([config.search.trials, *[r.trial + 1 for r in records]])
    if isinstance(planned, int) and planned > count:
        count = planned
    history = History.single(config, records, count)
    if repair:
        store.append_round(history.rounds[0])
    return history
