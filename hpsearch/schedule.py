"""A budget's schedule: N evaluations in all, split into a coarse round and zoom rounds.

The schedule (from ``bench/search_quality.py``, docs/benchmarks.md): 20 % of the budget for
the coarse run (at least one trial), then up to 15 zoom rounds sharing the rest evenly (the
earlier rounds take one more when it does not divide). The counts add up to the budget
exactly. With early stopping every round is at least ``smallest`` trials (a full bracket of
its rung plan, ``rungs.full_bracket``): the rungs are decided over that many trials, not over
three, so that most epochs go to the trials that earned them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

COARSE_SHARE = 0.2
ROUNDS = 15


@dataclass(frozen=True)
class Schedule:
    budget: int
    coarse: int
    rounds: tuple[int, ...]  # trials of zoom round 1, 2, ...

    def trials_of(self, round_: int) -> int:
        """Trials of round ``round_`` (0: the coarse run)."""
        return self.coarse if round_ == 0 else self.rounds[round_ - 1]

    def describe(self) -> str:
        sizes = sorted(set(self.rounds))
        per = " or ".join(map(str, sizes)) if sizes else "0"
        return (
            f"budget: {self.budget} evaluations: {self.coarse} coarse, then "
            f"{len(self.rounds)} zoom rounds of {per}"
        )


def schedule(budget: int, smallest: int = 1) -> Schedule:
    """The schedule of ``budget`` evaluations whose rounds have at least ``smallest`` trials
    (the last round fewer only when the budget cannot give it more)."""
    if budget < 1:
        raise ValueError(f"a budget is at least 1 evaluation, got {budget}")
    coarse = min(budget, max(1, smallest, round(COARSE_SHARE * budget)))
    rest = budget - coarse
    count = min(ROUNDS, rest // max(smallest, 1)) or (1 if rest else 0)
    return split(budget, coarse, count)


def split(budget: int, coarse: int, count: int) -> Schedule:
    """The schedule of ``budget`` evaluations with that coarse round and ``count`` rounds
    sharing the rest (as a run's config.yaml holds them: ``search.trials``, ``zoom.rounds``)."""
    rest = budget - coarse
    count = min(count, rest)
    rounds = tuple(rest // count + (1 if i < rest % count else 0) for i in range(count))
    return Schedule(budget, coarse, rounds)


def of_config(config: Any) -> Schedule:
    """The schedule a config's budget set (its coarse round and zoom rounds)."""
    return split(config.search.budget, config.search.trials, config.zoom.rounds)


def smallest_budget(coarse: int) -> int:
    """The smallest budget whose coarse round has at least ``coarse`` trials."""
    budget = max(1, coarse)
    while schedule(budget).coarse < coarse:
        budget += 1
    return budget


def small_budget_warning(
    budget: int, parameters: int, largest_choice: int, flag: str
) -> str | None:
    """A warning when the coarse round of ``budget`` cannot see every value of the largest
    choice, or has fewer trials than the parameters + 1 (too few to tell them apart); None
    when it can. ``flag``: how the user gave the budget (``--budget``, ``search.budget``)."""
    need = max(parameters + 1, largest_choice)
    coarse = schedule(budget).coarse
    if coarse >= need:
        return None
    space = f"{parameters} parameter{'s' if parameters != 1 else ''}"
    if largest_choice > 1:
        space += f", a choice of {largest_choice} values"
    why = "every value of the choice" if largest_choice > parameters + 1 else "the parameters + 1"
    return (
        f"warning: {flag} {budget} is small for this space ({space}): the coarse round sees "
        f"{coarse} trial{'s' if coarse != 1 else ''}; a budget of at least "
        f"{smallest_budget(need)} lets it see {need} ({why})"
    )


def space_budget_warning(budget: int, params: Iterable[Any], flag: str) -> str | None:
    """``small_budget_warning`` for a space's parameters (a choice has ``choices``)."""
    params = list(params)
    largest = max((len(getattr(p, "choices", ())) for p in params), default=0)
    return small_budget_warning(budget, len(params), largest, flag)
