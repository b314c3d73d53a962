"""Search strategies: how a search chooses its rounds (``base.Strategy``).

- ``random``: one round over the whole space.
- ``zoom``: the course's coarse to fine — a random round, then ``zoom.rounds`` rounds, each
  inside the one before, around its best trials.
- ``budget``: ``search.budget`` evaluations spent by hpsearch's own optimiser — a coarse
  round, then small rounds in a region that moves, grows and shrinks like a trust region.

``strategy_for(config)`` is the one place that picks; adding a strategy is a module here and
a line in ``STRATEGIES``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hpsearch.strategies.base import Done, Proposal, Strategy
from hpsearch.strategies.budget import BudgetStrategy
from hpsearch.strategies.random import RandomStrategy
from hpsearch.strategies.zoom import ZoomStrategy

if TYPE_CHECKING:
    from hpsearch.config import Config

STRATEGIES = (BudgetStrategy, ZoomStrategy, RandomStrategy)  # the first that applies


def strategy_for(config: Config) -> Strategy:
    """The strategy of a search with this config."""
    kind = next(k for k in STRATEGIES if k.applies(config))
    return kind(config)


__all__ = ["Done", "Proposal", "Strategy", "ZoomStrategy", "strategy_for"]
