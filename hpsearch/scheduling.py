"""Which training of a round's trials runs next: the second seam of a search, beside the
strategy. ``FullTraining`` trains every trial fully; ``RungScheduler`` runs an early-stopping
rung plan (``hpsearch.halving``) over the round's trials. Either works with any strategy.

A scheduler yields the trainings to run (a ``Trial``, or ``WAIT`` while a rung waits for its
last results) and, for each result, says what it decides: the rung result to log (or None)
and the trials' final records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Protocol

from hpsearch.halving import Halving, Progress
from hpsearch.record import TrialRecord
from hpsearch.rungs import RungResult
from hpsearch.sampling import Trial

if TYPE_CHECKING:
    from hpsearch.config import Config
    from hpsearch.rounds import Round


class TrialScheduler(Protocol):
    count: int  # trainings it will ask for, at most

    def jobs(self) -> Iterator[Trial | object]: ...

    def accept(self, record: TrialRecord) -> tuple[RungResult | None, list[TrialRecord]]: ...

    def progress(self) -> Progress | None: ...


class FullTraining:
    """Each missing trial trained fully, in index order, drawn as a worker asks for it."""

    def __init__(self, missing: Iterable[int], count: int, draw: Callable[[int], Trial]) -> None:
        self.missing, self.draw = missing, draw
        self.count = count

    def jobs(self) -> Iterator[Trial | object]:
        return (self.draw(i) for i in self.missing)

    def accept(self, record: TrialRecord) -> tuple[RungResult | None, list[TrialRecord]]:
        return None, [record]

    def progress(self) -> Progress | None:
        return None


class RungScheduler:
    """Early stopping over one round: its rung plan's state rebuilt from the rung results on
    disk (``earlier``); ``finals`` are the final records those imply (a trial stopped or
    trained fully whose record the trials file may lack, after a kill)."""

    def __init__(
        self,
        config: Config,
        round_: Round,
        draw: Callable[[int], Trial],
        checkpoint_dir: Callable[[int], str | None],
        earlier: Iterable[RungResult],
    ) -> None:
        plan = config.rung_plan(round_.trials, round_.first)
        assert plan is not None
        self.halving = Halving(plan, config.search.goal, draw, checkpoint_dir)
        self.finals = self.halving.restore(earlier)
        self.count = plan.jobs if self.halving.queue else 0  # none: all final already

    def jobs(self) -> Iterator[Trial | object]:
        return self.halving.jobs()

    def accept(self, record: TrialRecord) -> tuple[RungResult | None, list[TrialRecord]]:
        return self.halving.accept(record)

    def progress(self) -> Progress | None:
        return self.halving.progress()


def scheduler_for(
    config: Config,
    round_: Round,
    missing: Iterable[int],
    to_go: int,
    draw: Callable[[int], Trial],
    checkpoint_dir: Callable[[int], str | None],
    earlier: Iterable[RungResult],
) -> FullTraining | RungScheduler:
    """Early stopping's rung scheduler when the config asks for it, else full training."""
    if config.rung_plan(round_.trials, round_.first) is None:
        return FullTraining(missing, to_go, draw)
    return RungScheduler(config, round_, draw, checkpoint_dir, earlier)
