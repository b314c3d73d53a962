"""``search.budget``: N evaluations spent by hpsearch's own optimiser.

The schedule (``hpsearch.schedule``) gives the coarse round and up to 15 small rounds. With
the model (``search.guide: model``, the default) each round after the coarse one searches the
whole space and the model picks its trials (``hpsearch.guidance``): candidates near the
trials it rates best at every step size, and wide ones, so a round narrows as far as the
expected improvement says. Without it (``guide: random``, or while fewer than 3 trials have
a metric), each round is a region of the *whole* space (``narrowing.trust_region``)
around the best trial of the search so far, padded by a radius that adapts like a trust
region: 0.35 of each range for the first, the same after a round that improved the best so
far, × 0.7 after one that did not, and back to 0.35 once it has collapsed below 0.005 (a
restart around the best). Each numeric parameter stretches
the radius by how widely the best 20 % of the trials spread in it against the others
(0.5–2 ×): long along a valley, short across it. So a region may move and grow from one
round to the next; its summary says so in words. The settings come from
bench/search_quality.py (docs/benchmarks.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from hpsearch.guidance import Model, model_of
from hpsearch.narrowing import trust_region
from hpsearch.record import TrialRecord
from hpsearch.results import Goal
from hpsearch.rounds import Region
from hpsearch.sampling import round_seed
from hpsearch.schedule import of_config
from hpsearch.space import NumericParam, Space
from hpsearch.strategies.base import Done, Proposal, whole_space

if TYPE_CHECKING:
    from hpsearch.config import Config
    from hpsearch.history import History

# From bench/search_quality.py (docs/benchmarks.md); not zoom.top / zoom.margin, which shape
# the course's zoom rounds.
ANCHORS = 1  # the region is cut around the best trial so far
START = 0.35  # the first round's radius, in each range's unit coordinates
SHRINK = 0.7  # the radius after a round that did not improve the best so far
RESTART_BELOW = 0.005  # a radius this small has collapsed: start again at START
SAME_SIZE = 0.02  # a region within 2 % of the last one's size "keeps its size"


class BudgetStrategy:
    name = "budget"

    def __init__(self, config: Config) -> None:
        assert config.search.budget is not None
        self.config = config
        self.schedule = of_config(config)  # as config.yaml holds it

    @staticmethod
    def applies(config: Config) -> bool:
        return config.search.budget is not None

    def first(self) -> Proposal:
        plan = self.schedule
        summary = f"the whole space: {plan.coarse} of {plan.budget} evaluations"
        return whole_space(self.config, plan.coarse, self.name, summary)

    def next(self, history: History) -> Proposal | None:
        step = len(history.plan_rounds())  # the schedule's round to run next
        if step > len(self.schedule.rounds) or not len(self.config.space):
            return None
        return self.propose(history, self.schedule.trials_of(step))

    def planned(self, history: History) -> int:
        extra = sum(r.trials for r in history.rounds if r.origin != "plan")
        return self.schedule.budget + extra

    def propose(self, history: History, trials: int) -> Proposal:
        config, goal = self.config, history.goal
        records = history.records
        seed = round_seed(history.rounds[-1].seed, len(history.rounds))
        if config.search.guide == "model":
            model = Model.of(config.space, records, goal, history.prior)
            if model is not None:
                return self.guided(model, history, trials, seed)
        anchors = goal.top(records, ANCHORS)
        if not anchors:
            raise Done("no ok trial to zoom on")
        per_round = [history.records_of(r.number) for r in history.rounds]
        pad, why = radius(per_round, goal, START)
        pads = shaped(config.space, goal.rank(records), pad)
        region = trust_region(config.space, [a.params for a in anchors], pads, pad)
        before = history.rounds[-1].region.share(config.space)
        after = region.share(config.space)
        if after > before * (1 + SAME_SIZE):
            size = f"grows to {after:.0%} of the space"
        elif after < before * (1 - SAME_SIZE):
            size = f"shrinks to {after:.0%} of the space"
        else:
            size = f"keeps its size, {after:.0%} of the space"
        best, last = anchors[0], history.rounds[-1].number
        reason = {
            "start": f"around the best, trial {best.trial}",
            "improved": f"around a new best, trial {best.trial}",
            "kept": f"around trial {best.trial}: round {last} found no better one",
            "restart": f"around trial {best.trial}, at radius {pad:g} again: it had collapsed",
        }[why]
        return Proposal(
            region=region,
            trials=trials,
            seed=seed,
            strategy=self.name,
            summary=f"region {size}, {reason}",
            anchors=tuple(a.trial for a in anchors),
            radius=pad,
        )

    def guided(self, model: Model, history: History, trials: int, seed: int) -> Proposal:
        """A round of the whole space whose trials the model picks: its candidates
        concentrate near the trials it rates best, at every step size, so the round is as
        fine or as wide as the model's expected improvement says (no radius to tune)."""
        region = Region(self.config.space, {})
        best = model.predicted_best(history.goal, 1)[0]
        points = tuple(model.pick(region, trials, seed, history.goal))
        return Proposal(
            region=region,
            trials=trials,
            seed=seed,
            strategy=self.name,
            summary=(
                f"the whole space, around the model's best, trial {best.trial}; {trials} "
                f"picked by {model_of(history.records, history.prior)}"
            ),
            anchors=(best.trial,),
            points=points,
        )


def radius(rounds: Sequence[Sequence[TrialRecord]], goal: Goal, start: float) -> tuple[float, str]:
    """The next round's radius, replayed from the rounds' records (the first round first),
    and why it is what it is: ``start`` (the first zoom round), ``improved`` (kept after a
    round that improved the best so far), ``kept`` (× 0.7 after one that did not) or
    ``restart`` (it fell under ``RESTART_BELOW``)."""
    best = goal.best(rounds[0])
    r, why = start, "start"
    for records in rounds[1:]:
        found = goal.best(records)
        value = goal.value(found) if found is not None else None
        improved = value is not None and (
            best is None or goal.direction.better(value, goal.value(best) or 0.0)
        )
        if improved:
            best, why = found, "improved"
        else:
            r *= SHRINK
            why = "kept"
            if r < RESTART_BELOW:
                r, why = start, "restart"
    return r, why


def shaped(space: Space, ranked: Sequence[TrialRecord], pad: float) -> dict[str, float]:
    """Each numeric parameter's own radius: ``pad`` × how widely the best 20 % of the trials
    (at least 3) spread in it against the others, clipped to 0.5–2 × ``pad`` — a region
    longer along a valley than across it."""
    numeric = [p for p in space if isinstance(p, NumericParam)]
    best = [r for r in ranked if r.ok][: max(3, math.ceil(0.2 * len(ranked)))]
    if len(best) < 3 or not numeric:
        return {}
    spread = {}
    for p in numeric:
        units = [p.to_unit(r.params[p.name]) for r in best if p.name in r.params]
        if len(units) < 3:  # a conditional parameter active in too few: no stretch of its own
            continue
        mean = sum(units) / len(units)
        spread[p.name] = math.sqrt(sum((u - mean) ** 2 for u in units) / len(units))
    if not spread:
        return {}
    average = sum(spread.values()) / len(spread)
    if average <= 0:
        return {}
    return {name: pad * min(max(value / average, 0.5), 2.0) for name, value in spread.items()}
