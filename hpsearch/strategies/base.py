"""What a search strategy is: given the search so far, the next round, or none.

A strategy answers one question (Optuna's samplers answer the same one): ``first()`` is the
round a search starts with, ``next(history)`` the round after the ones in ``history`` — its
region, trials and seed — or None when the search is done; ``planned(history)`` how many
trials the search will have run in all, for the progress bar. It never touches files: the
session writes the round to the run before its first trial.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from hpsearch.rounds import Region

if TYPE_CHECKING:
    from hpsearch.config import Config
    from hpsearch.history import History


@dataclass(frozen=True)
class Proposal:
    """A round a strategy proposes: its region, how many trials, the seed they are drawn
    from, the trials its region was cut around and, in words, why."""

    region: Region
    trials: int
    seed: int
    strategy: str
    summary: str
    anchors: tuple[int, ...] = ()
    radius: float | None = None
    notes: Mapping[str, str] = field(default_factory=dict)
    points: tuple[Mapping[str, Any], ...] = ()  # the trials a model picked, else drawn


class Strategy(Protocol):
    name: str

    def first(self) -> Proposal: ...

    def next(self, history: History) -> Proposal | None: ...

    def planned(self, history: History) -> int: ...


class Done(Exception):
    """Why a strategy proposes nothing more, when the user should hear it (no ok trial to
    zoom around, nothing left to narrow)."""


def whole_space(config: Config, trials: int, name: str, summary: str) -> Proposal:
    """Round 0 of any strategy: the whole space, trial i drawn from ``(seed, i)``."""
    return Proposal(Region(config.space, {}), trials, config.seed, name, summary)
