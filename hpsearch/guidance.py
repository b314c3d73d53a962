"""Model-guided picks: which points of a region a round trains, chosen by a model of the search.

Random sampling stays the source of points: a round draws many candidates in its region, a
quarter uniformly, the rest around the trials the model rates best (each numeric coordinate
moved by a normal step shaped by the model's length scales, or by the spread of the best
trials, which follows a rotated valley), and a choice kept or redrawn. A Gaussian process
(``hpsearch.surrogate``) fitted to every trial so far, ranked as ``Goal.rank`` ranks them
(fully trained by their metric, then stopped, then failed), scores the candidates by
expected improvement over its best prediction plus ``XI`` (a margin that keeps a round
looking beyond the best so far; docs/benchmarks.md has the variants measured), and the
round takes them one by one, each time believing the last pick scored as predicted so that
a batch spreads out.

One trial in ``EXPLORE`` is a plain uniform draw of the region instead (every value of a
choice stays drawn with a floor probability, whatever the model thinks of it).

Everything is a pure function of the trials so far and the round's seed: the round's points
are computed once, in the driver, and written to the run with the round.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpsearch.record import TrialRecord
from hpsearch.results import Goal
from hpsearch.rounds import Region
from hpsearch.space import ChoiceParam, NumericParam, Space
from hpsearch.surrogate import (
    INACTIVE,
    GaussianProcess,
    encode,
    expected_improvement,
    normal_scores,
)

# Settings from bench/hpobench.py and bench/search_quality.py (docs/benchmarks.md).
CANDIDATES = 2000  # drawn per round
UNIFORM_SHARE = 0.25  # of the candidates drawn uniformly in the region
EXPLORE = 0.1  # of a round's trials drawn uniformly in the region, not picked by the model
BRANCH = 0.15  # of a round's trials the best candidate with a choice value the leader lacks
KEEP_CHOICE = 0.8  # a local candidate keeps its base's choice values this often
XI = 0.2  # improvement counted above the best prediction plus this (normal scores): explore
BASES = 5  # local candidates are drawn around the model's best this many trials
MIN_TRIALS = 3  # fewer trials than this: no model
_STREAM = 2**31 + 24  # the candidates' spawn key: one number, never a trial's (i, k)


@dataclass(frozen=True)
class Model:
    """The model of a search's trials, in the root space."""

    root: Space
    records: tuple[TrialRecord, ...]
    gp: GaussianProcess
    points: np.ndarray  # the records' params, encoded (the model may hold a subset of them)

    @classmethod
    def of(
        cls,
        root: Space,
        records: Sequence[TrialRecord],
        goal: Goal,
        prior: Sequence[TrialRecord] = (),
    ) -> Model | None:
        """The model of ``records``, and of ``prior`` (another run's trials: a warm start);
        None when fewer than ``MIN_TRIALS`` have a metric, or none of this search's was
        trained fully."""
        ordered = sorted(records, key=lambda r: r.trial)
        every = [*ordered, *sorted(prior, key=lambda r: r.trial)]
        ranked = sum(_measured(r, goal) for r in every)  # stopped early, it still says something
        if ranked < MIN_TRIALS or not any(goal.value(r) is not None for r in ordered):
            return None
        scores = normal_scores([-k for k in _rank_keys(every, goal)])
        x = np.vstack([encode(root, r.params) for r in every])
        return cls(root, tuple(ordered), GaussianProcess.fit(x, scores), x[: len(ordered)])

    def predicted_best(self, goal: Goal, count: int = 1) -> list[TrialRecord]:
        """The trials with a metric whose predicted score is the highest: where the model
        thinks the best lies, less fooled by one lucky evaluation than the best value."""
        mean, _ = self.gp.predict(self.points)  # this search's trials
        order = np.argsort(-mean, kind="stable")
        return [self.records[i] for i in order if goal.value(self.records[i]) is not None][:count]

    def pick(self, region: Region, count: int, seed: int, goal: Goal) -> list[dict[str, Any]]:
        """``count`` points of ``region`` (each a point of the root space) for the next round.
        The first k of them are the same whatever ``count`` (each trial draws its own random
        decisions): a round grown by ``resume --trials`` keeps its picks and adds the next."""
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_STREAM,)))
        rated = self.predicted_best(goal, len(self.records))
        good = [r.params for r in rated[: max(3, math.ceil(0.2 * len(rated)))]]
        bases = good[:BASES] + _value_bests(self.root, rated, good[:BASES])
        candidates = _candidates(self.root, region, rng, bases, good, self.gp)
        encoded = candidates.encoded()
        active = candidates.active()
        gp = self.gp
        best = float(np.max(gp.predict(gp.x)[0])) + XI
        taken: list[dict[str, Any]] = []
        free = np.ones(candidates.size, dtype=bool)
        for i in range(count):
            own = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_STREAM, i)))
            if own.random() < EXPLORE:
                taken.append(_uniform(self.root, region, own))
                continue
            mean, sd = gp.predict(encoded)
            gain = expected_improvement(mean, sd, best)
            allowed = free.copy()
            branch = _branch(region, rated[0].params, own)
            if branch is not None:
                allowed &= candidates.has(branch[0], branch[1], active)
                gain = mean + sd  # behind the leader, EI is all but zero: rank by optimism
            if not allowed.any():
                allowed = free
            j = int(np.argmax(np.where(allowed, gain, -np.inf)))
            free[j] = False
            taken.append(candidates.point(j, active))
            if i + 1 < count:
                gp = gp.believing(encoded[j])
        return taken


def model_of(records: Sequence[TrialRecord], prior: Sequence[TrialRecord]) -> str:
    """``a model of 40 trials`` (``and 60 of a warm start``), for a round's summary."""
    warm = f" and {len(prior)} of a warm start" if prior else ""
    return f"a model of {len(records)} trials{warm}"


def _branch(
    region: Region, leader: Mapping[str, Any], rng: np.random.Generator
) -> tuple[str, Any] | None:
    """With probability ``BRANCH``, a choice and one of its values other than the leader's,
    whose best candidate the trial takes (a floor under every value of a choice, spent where
    the model rates that value best); else None."""
    choices = [q for q in region.space if isinstance(q, ChoiceParam) and len(q.choices) > 1]
    floor, which, value = rng.random(3)
    if floor >= BRANCH or not choices:
        return None
    q = choices[int(which * len(choices))]
    lead = ChoiceParam(q.name, (leader[q.name],)).contains if q.name in leader else None
    others = [c for c in q.choices if not (lead and lead(c))] or list(q.choices)
    return q.name, others[int(value * len(others))]


def _value_bests(
    root: Space, rated: Sequence[TrialRecord], taken: Sequence[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """For each value of each choice, the trial the model rates best among those that use
    it (unless already taken): local candidates around the best sgd trial as well as the
    best Adam one, whichever leads, so that a value behind now is searched where it is good."""
    out: list[Mapping[str, Any]] = []
    for p in root:
        if not isinstance(p, ChoiceParam):
            continue
        for value in p.choices:  # compared as the choice compares them: true is not 1
            same = ChoiceParam(p.name, (value,)).contains
            best = next(
                (r.params for r in rated if p.name in r.params and same(r.params[p.name])), None
            )
            if best is not None and all(best is not t for t in [*taken, *out]):
                out.append(best)
    return out


def _measured(record: TrialRecord, goal: Goal) -> bool:
    """Whether a trial reported the metric (fully trained, or stopped early)."""
    value = record.value(goal.metric) if record.ok else record.metrics.get(goal.metric)
    return isinstance(value, (int, float)) and math.isfinite(value)


def _rank_keys(records: Sequence[TrialRecord], goal: Goal) -> list[float]:
    """A number per record, smaller better, in ``Goal.rank``'s order; equal records equal."""
    ranked = goal.rank(records)  # records of two runs may share a trial number: keyed by id
    keys: dict[int, float] = {}
    previous: tuple | None = None
    position = -1.0
    for r in ranked:
        value = goal.value(r)
        stopped = r.metrics.get(goal.metric) if r.status == "stopped" else None
        key: tuple
        if value is not None:
            key = (0, value)
        elif isinstance(stopped, (int, float)) and math.isfinite(stopped):
            key = (1, r.epochs or 0, stopped)
        else:
            key = (2,)
        if key != previous:
            position += 1
            previous = key
        keys[id(r)] = position
    return [keys[id(r)] for r in records]


def _uniform(root: Space, region: Region, rng: np.random.Generator) -> dict[str, Any]:
    params = {**region.space.sample(rng), **region.fixed}
    return {n: params[n] for n in root.names if n in params}


class _Columns:
    """Candidates as columns: each root parameter's values (a choice's as indices into its
    choices) and whether each candidate has it active: fast to draw, move and encode."""

    def __init__(self, root: Space, region: Region, size: int, rng: np.random.Generator) -> None:
        self.root, self.size = root, size
        self.values: dict[str, np.ndarray] = {}
        for p in root:  # a uniform draw of the region, every parameter (active or not)
            q = region.space.get(p.name)
            if p.name in region.fixed:
                self.values[p.name] = np.full(size, _column_value(p, region.fixed[p.name]))
            elif isinstance(q, ChoiceParam):
                assert isinstance(p, ChoiceParam)
                picks = rng.integers(0, len(q.choices), size)
                self.values[p.name] = np.array([p.index(c) for c in q.choices])[picks]
            elif isinstance(q, NumericParam):
                self.values[p.name] = np.asarray(q.from_unit(rng.random(size)), dtype=float)
            else:  # inactive in the whole region
                self.values[p.name] = np.full(size, _column_value(p, _first(p)))

    def active(self) -> dict[str, np.ndarray]:
        known: dict[str, np.ndarray] = {}
        conditions = dict(self.root.conditions)

        def of(name: str) -> np.ndarray:
            if name not in known:
                known[name] = np.zeros(self.size, dtype=bool)  # a cycle ends inactive
                mask = np.ones(self.size, dtype=bool)
                for other, need in conditions.get(name, ()):
                    mask &= of(other) & self._holds(other, need)
                known[name] = mask
            return known[name]

        return {p.name: of(p.name) for p in self.root}

    def _holds(self, name: str, need: Any) -> np.ndarray:
        p, column = self.root[name], self.values[name]
        if isinstance(p, ChoiceParam):
            table = np.array([need.holds(c) for c in p.choices])
            return table[column.astype(int)]
        return np.array([need.holds(int(v) if p.integer else float(v)) for v in column])

    def encoded(self) -> np.ndarray:
        active, blocks = self.active(), []
        for p in self.root:
            column, on = self.values[p.name], active[p.name]
            if isinstance(p, ChoiceParam):
                block = (column.astype(int)[:, None] == np.arange(len(p.choices))).astype(float)
            else:
                block = np.clip(np.asarray(p.to_unit(column), dtype=float), 0.0, 1.0)[:, None]
            blocks.append(np.where(on[:, None], block, INACTIVE))
        return np.hstack(blocks) if blocks else np.zeros((self.size, 0))

    def has(self, name: str, value: Any, active: Mapping[str, np.ndarray]) -> np.ndarray:
        """Which candidates have ``name`` active and set to ``value``."""
        p = self.root[name]
        assert isinstance(p, ChoiceParam)
        return active[name] & (self.values[name].astype(int) == p.index(value))

    def point(self, i: int, active: Mapping[str, np.ndarray]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for p in self.root:
            if not active[p.name][i]:
                continue
            v = self.values[p.name][i]
            if isinstance(p, ChoiceParam):
                out[p.name] = p.choices[int(v)]
            else:
                out[p.name] = int(v) if p.integer else float(v)
        return out


def _column_value(p: Any, value: Any) -> float:
    return float(p.index(value)) if isinstance(p, ChoiceParam) else float(value)


def _first(p: Any) -> Any:
    return p.choices[0] if isinstance(p, ChoiceParam) else p.low


def _candidates(
    root: Space,
    region: Region,
    rng: np.random.Generator,
    bases: Sequence[Mapping[str, Any]],
    good: Sequence[Mapping[str, Any]],
    gp: GaussianProcess,
) -> _Columns:
    """``CANDIDATES`` points of the region: uniform ones, and moves from ``bases``."""
    columns = _Columns(root, region, CANDIDATES, rng)
    if not bases:
        return columns
    local = np.arange(round(UNIFORM_SHARE * CANDIDATES), CANDIDATES)
    base_of = local % len(bases)
    numeric = [p for p in region.space if isinstance(p, NumericParam)]
    steps = _length_steps(root, numeric, gp)
    shape = _spread(root, numeric, good)
    moves = rng.normal(size=(len(local), len(numeric))) * steps
    if shape is not None:
        shaped = rng.normal(size=(len(local), len(numeric))) @ shape.T
        moves[1::2] = shaped[1::2]  # every other local candidate follows the best trials' spread
    for j, p in enumerate(numeric):
        whole = root[p.name]
        assert isinstance(whole, NumericParam)
        has = np.array([p.name in b for b in bases])[base_of]
        start = np.array([float(whole.to_unit(b[p.name])) if p.name in b else 0.0 for b in bases])
        u = np.clip(start[base_of] + moves[:, j], 0.0, 1.0)
        moved = np.clip(np.asarray(whole.from_unit(u), dtype=float), p.low, p.high)
        column = columns.values[p.name]
        column[local] = np.where(has, moved, column[local])
    for q in region.space:
        if not isinstance(q, ChoiceParam):
            continue
        whole = root[q.name]
        assert isinstance(whole, ChoiceParam)
        index = np.array(
            [whole.index(b[q.name]) if q.contains(b.get(q.name, object())) else -1 for b in bases]
        )
        keep = (index[base_of] >= 0) & (rng.random(len(local)) < KEEP_CHOICE)
        column = columns.values[q.name]
        column[local] = np.where(keep, index[base_of], column[local])
    return columns


def _length_steps(root: Space, numeric: Sequence[NumericParam], gp: GaussianProcess) -> np.ndarray:
    """Each numeric parameter's step: 0.1 of its range, × its length scale against their
    geometric mean (0.25–4 ×): short where the score changes fast."""
    from hpsearch.surrogate import numeric_units

    at = {p.name: i for i, p in numeric_units(root)}
    lengths = np.array([gp.lengths[at[p.name]] for p in numeric]) if numeric else np.ones(0)
    if not len(lengths):
        return lengths
    relative = np.clip(lengths / math.exp(float(np.mean(np.log(lengths)))), 0.25, 4.0)
    return 0.1 * relative


def _spread(
    root: Space, numeric: Sequence[NumericParam], bases: Sequence[Mapping[str, Any]]
) -> np.ndarray | None:
    """A matrix whose normal steps have the covariance of the best trials (in unit space):
    long along the valley they lie in, short across it. None when they are too few."""
    rows = [
        [float(root[p.name].to_unit(b[p.name])) for p in numeric]
        for b in bases
        if all(p.name in b for p in numeric)
    ]
    if len(rows) < max(3, len(numeric) // 2) or not numeric:
        return None
    cov = np.cov(np.asarray(rows).T).reshape(len(numeric), len(numeric))
    cov = cov + 1e-4 * np.eye(len(numeric))
    return np.linalg.cholesky(cov)
