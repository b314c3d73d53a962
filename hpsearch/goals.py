"""Several goals at once: ``search.metrics`` (two or more, each maximised or minimised) and
``search.constraints`` (``parameters <= 100000``). ``ParetoGoal`` ranks trials as ``Goal``
does for one metric, so every command, file, zoom, model and rung ranks them one way:

1. fully trained trials that meet every constraint, by their Pareto front (1: no other trial
   is at least as good on every metric and better on one), then by crowding distance (the
   front's ends and its sparse parts first), then by the first metric, then trial index;
2. fully trained trials that break a constraint, by how far (the sum of each constraint's
   excess over its bound, relative to the bound);
3. trials stopped early, the furthest trained first, each by the first metric;
4. failures, by index.

A metric is what the trial reported, or its record's ``seconds`` (training time) or
``epochs`` when it reported no metric of that name.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpsearch.pareto import crowding_distances, nondominated_ranks
from hpsearch.record import TrialRecord, is_number
from hpsearch.results import Direction, Goal

OPERATORS = ("<=", ">=", "<", ">")
_CONSTRAINT = re.compile(
    r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(<=|>=|<|>)\s*"
    r"([-+]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)
CONSTRAINT_FORM = "'METRIC OP NUMBER' (OP one of <=, <, >=, >), e.g. 'parameters <= 100000'"


COUNTS = ("parameters", "epochs")  # metrics that are whole numbers: shown without decimals


def shown(name: str, value: float | None) -> str:
    """A metric as tables show it: a count as a whole number, any other as every metric is."""
    from hpsearch.record import format_metric

    if name in COUNTS and value is not None and float(value).is_integer():
        return str(int(value))
    return format_metric(value)


def measure(record: TrialRecord, name: str) -> float | None:
    """``name`` of ``record``: a reported metric, else its seconds or epochs, else None."""
    value: object = record.metrics.get(name)
    if value is None and name == "seconds":
        value = record.seconds
    elif value is None and name == "epochs":
        value = record.epochs
    return float(value) if isinstance(value, (int, float)) and is_number(value) else None


@dataclass(frozen=True)
class Constraint:
    """``metric op bound``: what a trial must meet to be feasible."""

    metric: str
    op: str
    bound: float

    @classmethod
    def parse(cls, text: str) -> Constraint:
        """A constraint from its text; ``ValueError`` says what is wrong (never ``eval``)."""
        found = _CONSTRAINT.match(text) if isinstance(text, str) else None
        if found is None:
            raise ValueError(f"expected {CONSTRAINT_FORM}, got {text!r}")
        bound = float(found.group(3).replace("_", ""))
        if not math.isfinite(bound):
            raise ValueError(f"the bound must be a finite number, got {found.group(3)!r}")
        return cls(found.group(1), found.group(2), bound)

    def __str__(self) -> str:
        b = self.bound
        bound = str(int(b)) if b.is_integer() and abs(b) < 1e15 else repr(b)
        return f"{self.metric} {self.op} {bound}"

    def excess(self, record: TrialRecord) -> float:
        """How far ``record`` is past the bound, relative to it: 0 when met, inf when the
        metric is missing."""
        value = measure(record, self.metric)
        if value is None:
            return math.inf
        gap = value - self.bound if self.op in ("<=", "<") else self.bound - value
        scale = max(abs(self.bound), 1e-12)
        if gap > 0 or (gap == 0 and self.op in ("<", ">")):
            return max(gap, 0.0) / scale + 1e-12  # an equality against a strict bound
        return 0.0


@dataclass(frozen=True)
class ParetoGoal(Goal):
    """Several metrics (``objectives``; ``metric`` and ``direction`` are the first's, the one
    shown where one is) and the constraints a trial must meet. A ``Goal``: whatever ranks
    by one ranks by the other."""

    objectives: tuple[Goal, ...] = ()
    constraints: tuple[Constraint, ...] = ()

    @property
    def metrics(self) -> list[str]:
        return [g.metric for g in self.objectives]

    def objective(self, metric: str) -> Goal | None:
        return next((g for g in self.objectives if g.metric == metric), None)

    def value(self, record: TrialRecord) -> float | None:
        return record.value(self.metric)

    def point(self, record: TrialRecord) -> list[float] | None:
        """Every metric of an ok trial (each to minimise), or None if one is missing."""
        if not record.ok:
            return None
        out = []
        for g in self.objectives:
            v = measure(record, g.metric)
            if v is None:
                return None
            out.append(g.direction.sort_key(v))
        return out

    def violation(self, record: TrialRecord) -> float:
        return sum(c.excess(record) for c in self.constraints)

    def feasible(self, record: TrialRecord) -> bool:
        return self.violation(record) == 0.0

    def fronts(self, records: Sequence[TrialRecord]) -> list[int | None]:
        """Each record's Pareto front among the feasible fully trained ones (1: the front),
        None for the others."""
        front, _ = self._fronts(records, [self.point(r) for r in records])
        return [front.get(i) for i in range(len(records))]

    def _fronts(
        self, records: Sequence[TrialRecord], points: Sequence[list[float] | None]
    ) -> tuple[dict[int, int], dict[int, float]]:
        """(position → front, position → crowding distance) of the feasible ok records,
        computed in the order of their trial numbers: identical points share the ends of a
        front by that order, not by the order they came in (``rank`` is idempotent)."""
        chosen = sorted(
            (
                i
                for i, (r, p) in enumerate(zip(records, points, strict=True))
                if p is not None and self.feasible(r)
            ),
            key=lambda i: (records[i].trial, records[i].round, points[i]),
        )
        if not chosen:
            return {}, {}
        values = np.array([points[i] for i in chosen], dtype=float)
        ranks = nondominated_ranks(values)
        distances = crowding_distances(values, ranks)
        front = {i: int(r) for i, r in zip(chosen, ranks.tolist(), strict=True)}
        crowd = {i: float(d) for i, d in zip(chosen, distances.tolist(), strict=True)}
        return front, crowd

    def rank(self, records: Iterable[TrialRecord]) -> list[TrialRecord]:
        """Best first, as the module says; ties by trial index."""
        records = list(records)
        points = [self.point(r) for r in records]
        front, crowd = self._fronts(records, points)
        primary = self.objectives[0]

        def key(i: int) -> tuple:
            r = records[i]
            if i in front:
                first = measure(r, primary.metric)
                assert first is not None
                return (0, front[i], -crowd[i], primary.direction.sort_key(first), r.trial)
            if points[i] is not None or (r.ok and self.constraints):
                excess = self.violation(r) if points[i] is not None else math.inf
                return (1, excess, 0.0, 0.0, r.trial)
            value = r.metrics.get(primary.metric) if r.status == "stopped" else None
            if value is not None and is_number(value):
                return (2, -(r.epochs or 0), primary.direction.sort_key(value), 0.0, r.trial)
            return (3, 0, 0.0, 0.0, r.trial)

        return [records[i] for i in sorted(range(len(records)), key=key)]

    def front(self, records: Iterable[TrialRecord]) -> list[TrialRecord]:
        """The Pareto front of the feasible fully trained trials, in rank order."""
        ranked = self.rank(records)
        fronts = self.fronts(ranked)
        return [r for r, f in zip(ranked, fronts, strict=True) if f == 1]

    def best(self, records: Iterable[TrialRecord]) -> TrialRecord | None:
        """The front's trial best on the first metric (what "best" shows), or None: no trial
        trained fully, or none meets the constraints."""
        ranked = self.rank(records)
        first = ranked[0] if ranked else None
        return first if first and self.point(first) is not None and self.feasible(first) else None

    def top(
        self, records: Iterable[TrialRecord], count: int | None, fraction: float | None = None
    ) -> list[TrialRecord]:
        """The best fully trained trials by the ranking: ``count`` or ``fraction`` of them."""
        ok = [r for r in self.rank(records) if self.point(r) is not None]
        if count is None:
            count = max(1, math.ceil((fraction or 0) * len(ok)))
        return ok[:count]

    def extra_fields(self, ranked: Sequence[TrialRecord]) -> dict[str, Any]:
        """The summary's ``pareto_front``: each front trial's metrics, round and values."""
        return {
            "pareto_front": [
                {
                    "trial": r.trial,
                    "round": r.round,
                    "metrics": {m: measure(r, m) for m in self.metrics},
                    "params": dict(r.params),
                    "seed": r.seed,
                }
                for r in self.front(ranked)
            ]
        }


def unknown_threshold(goal: Goal, thresholds: Sequence[tuple[str | None, float]]) -> str:
    """Empty when every ``--fail-under`` names a metric of the search (or none); else why."""
    known = goal.objectives if isinstance(goal, ParetoGoal) and goal.objectives else (goal,)
    names = [k.metric for k in known]
    for name, _ in thresholds:
        if name is not None and name not in names:
            return f"{name} is not a metric of this search ({', '.join(names)})"
    return ""


def meeting(
    goal: Goal, records: Sequence[TrialRecord], thresholds: Sequence[tuple[str | None, float]]
) -> str:
    """Empty when one feasible fully trained trial meets every threshold (each metric as good
    as its value, or better); else what none meets, in words."""
    several = goal if isinstance(goal, ParetoGoal) else None
    known = several.objectives if several else (goal,)
    problem = unknown_threshold(goal, thresholds)
    if problem:
        return problem
    checks = [
        (next(k for k in known if k.metric == (name or goal.metric)), value)
        for name, value in thresholds
    ]
    for r in records:
        if not r.ok or (several and not several.feasible(r)):
            continue
        values = [measure(r, g.metric) for g, _ in checks]
        if all(
            v is not None and not g.misses(v, t) for v, (g, t) in zip(values, checks, strict=True)
        ):
            return ""
    wanted = ", ".join(
        f"{g.metric} {'>=' if g.direction is Direction.MAXIMIZE else '<='} {t:g}" for g, t in checks
    )
    return f"no trial has {wanted}"


def goal_of(metrics: Sequence[tuple[str, str]], constraints: Sequence[str] = ()) -> ParetoGoal:
    """A ``ParetoGoal`` from config values (already checked)."""
    objectives = tuple(Goal.of(m, d) for m, d in metrics)
    return ParetoGoal(
        objectives[0].metric,
        objectives[0].direction,
        objectives,
        tuple(Constraint.parse(c) for c in constraints),
    )


def front_line(metrics: Sequence[str], front: Sequence[Any]) -> str:
    """``Pareto front: 5 trials, val_accuracy 0.9325 … 0.9650, parameters 804 … 13084`` from
    a summary's ``pareto_front`` (read defensively: it may have been edited)."""
    spans = []
    for m in metrics:
        values = [
            p["metrics"][m]
            for p in front
            if isinstance(p, Mapping)
            and isinstance(p.get("metrics"), Mapping)
            and is_number(p["metrics"].get(m))
        ]
        if values:
            spans.append(f"{m} {shown(m, min(values))} … {shown(m, max(values))}")
    head = f"Pareto front: {len(front)} trial{'s' if len(front) != 1 else ''}"
    return ", ".join([head, *spans]) + " (leaderboard.csv: pareto_rank 1)"
