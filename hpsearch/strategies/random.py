"""Random search: one round over the whole space (``search.trials`` trials)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hpsearch.strategies.base import Proposal, whole_space

if TYPE_CHECKING:
    from hpsearch.config import Config
    from hpsearch.history import History


class RandomStrategy:
    name = "random"

    def __init__(self, config: Config) -> None:
        self.config = config

    @staticmethod
    def applies(config: Config) -> bool:
        return True

    def first(self) -> Proposal:
        return whole_space(self.config, self.config.search.trials, self.name, "the whole space")

    def next(self, history: History) -> Proposal | None:
        return None

    def planned(self, history: History) -> int:
        return history.planned
