"""A search's rounds: each a *region* of the search's space and the trials drawn in it.

A ``Region`` is a sub-space of the search's space (the *root* space): each numeric parameter a
narrower range, each choice a subset, and the parameters it narrowed to one value ``fixed``.
A ``Round`` is one batch of the search: its region, its trials (global indices ``first`` ..
``first + trials - 1``) and the seed they are drawn from. Trial ``i`` of a round is drawn from
``(seed, i - first)`` in the region, then the fixed values are put in: every trial's params are
a point of the root space, whatever round it came from.

Rounds are kept in the run's ``rounds.jsonl`` (``hpsearch.store``), each written before its
first trial; ``Round.from_json`` checks a line read back against the root space.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hpsearch.files import BadLine
from hpsearch.record import is_int, is_number, kind_of
from hpsearch.sampling import Trial, sample_trial
from hpsearch.space import ChoiceParam, Condition, NumericParam, Param, Space, can_meet

INACTIVE = "inactive (its condition can no longer hold)"
# A search of more trials than this would outlive anyone waiting for it: a config asking for
# it is refused at once (config.rules), and so is a rounds log that says so.
MAX_TRIALS = 10**9


@dataclass(frozen=True)
class Region:
    """What a round searches: ``space`` (parameters of the root space, narrowed) and ``fixed``
    (root parameters narrowed to one value). A root parameter in neither is inactive: its
    condition can no longer hold there."""

    space: Space
    fixed: Mapping[str, Any] = field(default_factory=dict)

    def contains(self, params: Mapping[str, Any]) -> bool:
        """Whether a trial's params (a point of the root space) lie inside the region."""
        for name, value in params.items():
            if name in self.fixed:
                if not ChoiceParam(name, (self.fixed[name],)).contains(value):
                    return False
                continue
            p = self.space.get(name)
            if p is None or not p.contains(value):
                return False
        return True

    def share(self, root: Space) -> float:
        """The mean share of the root's ranges (choices) the region keeps, 0..1."""
        widths = [
            width(self.space[p.name], p)
            if p.name in self.space
            else (
                1 / len(p.choices) if isinstance(p, ChoiceParam) and p.name in self.fixed else 0.0
            )
            for p in root
        ]
        return sum(widths) / len(widths) if widths else 0.0

    def describe(self, root: Space) -> dict[str, str]:
        """Each root parameter: its range here, the value it is fixed at, or inactive."""
        out = {}
        for p in root:
            if p.name in self.space:
                out[p.name] = self.space[p.name].describe()
            elif p.name in self.fixed:
                out[p.name] = f"fixed at {p.format(self.fixed[p.name])}"
            else:
                out[p.name] = INACTIVE
        return out

    def to_json(self) -> dict[str, Any]:
        ranges: dict[str, Any] = {}
        for p in self.space:
            if isinstance(p, ChoiceParam):
                ranges[p.name] = {"choice": list(p.choices)}
            else:
                ranges[p.name] = {"min": p.low, "max": p.high}
        return {"ranges": ranges, "fixed": dict(self.fixed)}

    @classmethod
    def from_json(cls, data: Any, root: Space) -> Region:
        """A region read back, checked against the root space (``BadLine`` names the field)."""
        if not isinstance(data, Mapping) or not isinstance(data.get("ranges"), Mapping):
            raise BadLine(f"field 'region.ranges': expected an object, got {kind_of(data)}")
        fixed = data.get("fixed", {})
        if not isinstance(fixed, Mapping):
            raise BadLine(f"field 'region.fixed': expected an object, got {kind_of(fixed)}")
        params: list[Param] = []
        ranges = data["ranges"]
        for name, spec in ranges.items():
            p = root.get(name)
            if p is None:
                raise BadLine(f"field 'region.ranges.{name}': not a parameter of the search")
            params.append(_param_from_json(p, spec))
        for name, value in fixed.items():
            p = root.get(name)
            if p is None or name in ranges or not p.contains(value):
                raise BadLine(f"field 'region.fixed.{name}': {value!r:.40} is not a value of it")
        for p in root:
            if p.name not in ranges and p.name not in fixed and not root.condition(p.name):
                raise BadLine(f"field 'region.ranges': no range or value for '{p.name}'")
        ordered = sorted(params, key=lambda q: root.names.index(q.name))
        return cls(conditioned(ordered, root.conditions, fixed), dict(fixed))


def _param_from_json(p: Param, spec: Any) -> Param:
    where = f"field 'region.ranges.{p.name}'"
    if isinstance(spec, Mapping) and isinstance(spec.get("choice"), list) and spec["choice"]:
        values = spec["choice"]
        if not all(p.contains(v) for v in values):
            raise BadLine(f"{where}: a choice outside the search's space ({p.describe()})")
        return ChoiceParam(p.name, tuple(values))
    if not isinstance(p, NumericParam) or not isinstance(spec, Mapping):
        raise BadLine(f"{where}: expected {{min, max}} or {{choice: [...]}}, got {kind_of(spec)}")
    low: Any = spec.get("min")
    high: Any = spec.get("max")
    if not (is_number(low) and is_number(high) and p.low <= low < high <= p.high):
        raise BadLine(f"{where}: expected min < max inside {p.describe()}, got {low!r}, {high!r}")
    if p.integer and not (float(low).is_integer() and float(high).is_integer()):
        raise BadLine(f"{where}: expected whole numbers, got {low!r}, {high!r}")
    if p.integer:
        low, high = int(low), int(high)
    return NumericParam(p.name, p.scale, low, high, p.integer)


def conditioned(
    params: Sequence[Param], conditions: Sequence[tuple[str, Condition]], fixed: Mapping[str, Any]
) -> Space:
    """Narrowed parameters with their conditions: a clause on a fixed parameter is dropped
    when the fixed value meets it, and a parameter whose condition can no longer hold (a fixed
    value or a narrowed range rules it out, or it depends on such a parameter) is dropped."""
    kept = {p.name: p for p in params}
    pending = {name: condition for name, condition in conditions if name in kept}
    changed = True
    while changed:
        changed = False
        for name, condition in list(pending.items()):
            clauses = []
            for other, need in condition:
                if other in fixed:
                    if need.holds(fixed[other]):
                        continue  # always true now
                    possible = False
                else:
                    possible = other in kept and can_meet(kept[other], [need])
                if not possible:
                    del kept[name], pending[name]
                    changed = True
                    break
                clauses.append((other, need))
            else:
                pending[name] = tuple(clauses)
    return Space(
        tuple(p for p in params if p.name in kept),
        tuple((name, c) for name, c in pending.items() if c),
    )


def width(p: Param, parent: Param) -> float:
    """How much of the parent's range ``p`` keeps, in the parent's unit space (0..1)."""
    if isinstance(parent, ChoiceParam):
        kept = len(p.choices) if isinstance(p, ChoiceParam) else 1
        return kept / len(parent.choices)
    if not isinstance(p, NumericParam):
        return 1 / max(int(parent.high) - int(parent.low) + 1, 1) if parent.integer else 0.0
    full = abs(parent.to_unit(parent.high) - parent.to_unit(parent.low))
    return abs(parent.to_unit(p.high) - parent.to_unit(p.low)) / full if full else 1.0


@dataclass(frozen=True)
class Round:
    """One round of a search. ``strategy`` proposed it (random, zoom or budget), from the
    search's plan (``origin`` plan) or asked for by ``hpsearch zoom`` (``origin`` zoom);
    ``anchors`` are the trials its region was cut around, ``notes`` say per parameter how,
    ``summary`` says in words what the round does."""

    number: int
    first: int
    trials: int
    seed: int
    region: Region
    strategy: str = "random"
    origin: str = "plan"
    anchors: tuple[int, ...] = ()
    radius: float | None = None
    notes: Mapping[str, str] = field(default_factory=dict)
    summary: str = ""
    grown_from: int | None = None  # the trials it had before `resume --trials` grew it
    # The points a model picked for its first trials (model-guided rounds); a trial past
    # them (a round grown by `resume --trials`) is drawn in the region.
    points: tuple[Mapping[str, Any], ...] = ()

    @property
    def stop(self) -> int:
        """One past its last trial's index."""
        return self.first + self.trials

    @property
    def indices(self) -> range:
        return range(self.first, self.stop)

    def draw(self, root: Space, index: int) -> Trial:
        """Trial ``index`` (global) of this round: drawn in the region from ``(seed, index -
        first)``, its fixed values put in, in the root space's order."""
        trial = sample_trial(self.region.space, self.seed, index - self.first)
        if index - self.first < len(self.points):
            trial = dataclasses.replace(trial, params=dict(self.points[index - self.first]))
        params = {**trial.params, **self.region.fixed}
        ordered = {n: params[n] for n in root.names if n in params}
        return dataclasses.replace(trial, index=index, params=ordered, round=self.number)

    def grown(self, trials: int, points: Sequence[Mapping[str, Any]] = ()) -> Round:
        """This round with ``trials`` trials: its picked points cut to them, or ``points``
        (the picks of the grown round, which begin with this one's)."""
        kept = tuple(points) or self.points
        return dataclasses.replace(
            self, trials=trials, grown_from=self.trials, points=kept[:trials]
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "round": self.number,
            "first": self.first,
            "trials": self.trials,
            "seed": self.seed,
            "strategy": self.strategy,
            "origin": self.origin,
            "summary": self.summary,
            "region": self.region.to_json(),
            "anchors": list(self.anchors),
            "radius": self.radius,
            "notes": dict(self.notes),
        }
        if self.grown_from is not None:
            out["grown_from"] = self.grown_from
        if self.points:
            out["points"] = [dict(p) for p in self.points]
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any], root: Space) -> Round:
        """A line of rounds.jsonl, checked (``BadLine`` names the first wrong field)."""
        for key, check, expected in (
            ("round", lambda v: is_int(v) and v >= 0, "a round number"),
            ("first", lambda v: is_int(v) and 0 <= v <= 100 * MAX_TRIALS, "a trial number"),
            ("trials", lambda v: is_int(v) and 1 <= v <= MAX_TRIALS, "a number of trials"),
            ("seed", lambda v: is_int(v) and v >= 0, "a seed (an integer >= 0)"),
        ):
            if not check(data.get(key)):
                raise BadLine(f"field '{key}': expected {expected}, got {kind_of(data.get(key))}")
        texts = {k: data.get(k, "") for k in ("strategy", "origin", "summary")}
        for key, value in texts.items():
            if not isinstance(value, str):
                raise BadLine(f"field '{key}': expected a string, got {kind_of(value)}")
        anchors = data.get("anchors") or []
        if not isinstance(anchors, list) or not all(is_int(a) and a >= 0 for a in anchors):
            raise BadLine(f"field 'anchors': expected a list of trial numbers, got {anchors!r:.40}")
        radius = data.get("radius")
        if radius is not None and not (is_number(radius) and radius >= 0):
            raise BadLine(f"field 'radius': expected a number >= 0 or null, got {kind_of(radius)}")
        notes = data.get("notes") or {}
        if not isinstance(notes, Mapping) or not all(isinstance(v, str) for v in notes.values()):
            raise BadLine(f"field 'notes': expected an object of strings, got {kind_of(notes)}")
        grown_from = data.get("grown_from")
        if grown_from is not None and not (is_int(grown_from) and grown_from >= 1):
            raise BadLine(f"field 'grown_from': expected a number of trials, got {grown_from!r}")
        region = Region.from_json(data.get("region"), root)
        points = _points_from_json(data.get("points"), root, region, data["trials"])
        return cls(
            number=data["round"],
            first=data["first"],
            trials=data["trials"],
            seed=data["seed"],
            region=region,
            points=points,
            strategy=texts["strategy"] or "random",
            origin=texts["origin"] or "plan",
            anchors=tuple(anchors),
            radius=float(radius) if radius is not None else None,
            notes={str(k): v for k, v in notes.items()},
            summary=texts["summary"],
            grown_from=grown_from,
        )


def _points_from_json(
    data: Any, root: Space, region: Region, trials: int
) -> tuple[dict[str, Any], ...]:
    """A round's picked points read back: each a point of the region, every parameter its
    conditions make active and no other (``BadLine`` names the first wrong one)."""
    if data is None:
        return ()
    if not isinstance(data, list) or len(data) > trials:
        raise BadLine(f"field 'points': expected a list of at most {trials} points")
    out = []
    for i, point in enumerate(data):
        where = f"field 'points[{i}]'"
        if not isinstance(point, Mapping) or not all(isinstance(k, str) for k in point):
            raise BadLine(f"{where}: expected an object of parameter values, got {kind_of(point)}")
        if not region.contains(point):
            raise BadLine(f"{where}: not a point of the round's region")
        problem = root.misfit(point)
        if problem is not None:
            raise BadLine(f"{where}: {problem}")
        out.append({n: point[n] for n in root.names if n in point})
    return tuple(out)


def first_round(root: Space, seed: int, trials: int, strategy: str, summary: str) -> Round:
    """Round 0: the whole space, trial i drawn from ``(seed, i)``."""
    return Round(0, 0, trials, seed, Region(root, {}), strategy, summary=summary)


def check_sequence(rounds: Sequence[Round]) -> str | None:
    """What is wrong with the order of rounds read back (each numbered one more than the
    one before, its trials right after that one's), or None."""
    for before, after in itertools.pairwise(rounds):
        if after.number != before.number + 1 or after.first != before.stop:
            return (
                f"round {after.number} (trials from {after.first}) does not follow round "
                f"{before.number} (trials {before.first}-{before.stop - 1})"
            )
    if rounds and (rounds[0].number != 0 or rounds[0].first != 0):
        return "the first round is not round 0 starting at trial 0"
    return None
