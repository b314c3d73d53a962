"""The course's coarse to fine: sample the whole space, then zoom in where the best trials are
and sample more densely there, ``zoom.rounds`` times (``--rounds``), or once more whenever
``hpsearch zoom RUN`` asks.

Each zoom round's region lies inside the round before's and holds its anchors: the best
``zoom.top`` trials among all the search's trials inside that region (``hpsearch.narrowing.
zoom_region`` cuts it). Every numeric parameter the anchors do not span narrows; the notes
say why one was kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hpsearch.guidance import Model, model_of
from hpsearch.narrowing import zoom_region
from hpsearch.sampling import round_seed
from hpsearch.strategies.base import Done, Proposal, whole_space

if TYPE_CHECKING:
    from hpsearch.config import Config
    from hpsearch.history import History


class ZoomStrategy:
    name = "zoom"

    def __init__(self, config: Config) -> None:
        self.config = config

    @staticmethod
    def applies(config: Config) -> bool:
        return config.search.budget is None and config.zoom.rounds > 0

    def first(self) -> Proposal:
        rounds = self.config.zoom.rounds
        summary = f"the whole space, then {rounds} zoom round{'s' if rounds != 1 else ''}"
        return whole_space(self.config, self.config.search.trials, self.name, summary)

    def next(self, history: History) -> Proposal | None:
        if len(history.plan_rounds()) > self.config.zoom.rounds:
            return None
        return self.propose(history)

    def planned(self, history: History) -> int:
        left = max(self.config.zoom.rounds + 1 - len(history.plan_rounds()), 0)
        return history.planned + left * self.config.zoom.trials

    def propose(
        self,
        history: History,
        *,
        top: int | None = None,
        top_fraction: float | None = None,
        margin: float | None = None,
        trials: int | None = None,
    ) -> Proposal:
        """The round after ``history``'s last: inside its region, around the best trials
        there. Raises ``Done`` with the reason when there is nothing to zoom on."""
        zoom = self.config.zoom
        parent = history.rounds[-1].region
        if not len(parent.space):
            raise Done("nothing to narrow: every parameter is fixed")
        inside = [r for r in history.records if parent.contains(r.params)]
        if top is None and top_fraction is None:
            top = zoom.top
        anchors = history.goal.top(inside, top, top_fraction)
        if not anchors:
            raise Done("no ok trial to zoom on")
        label = "the best trial" if len(anchors) == 1 else f"the top {len(anchors)}"
        region, notes = zoom_region(
            parent, [a.params for a in anchors], zoom.margin if margin is None else margin, label
        )
        number = len(history.rounds)
        where = "the search's" if number == 1 else f"round {number - 1}'s"
        count = zoom.trials if trials is None else trials
        seed = round_seed(history.rounds[-1].seed, number)
        summary = f"zoom inside {where} region around {label} of its {len(inside)} trials"
        points: tuple = ()
        if self.config.search.guide == "model" and len(region.space):
            model = Model.of(self.config.space, history.records, history.goal, history.prior)
            if model is not None:
                points = tuple(model.pick(region, count, seed, history.goal))
                summary += f"; {count} picked by {model_of(history.records, history.prior)}"
        return Proposal(
            region=region,
            trials=count,
            seed=seed,
            strategy=self.name,
            summary=summary,
            anchors=tuple(a.trial for a in anchors),
            notes=notes,
            points=points,
        )
