"""Coarse to fine: from the best trials of a lineage to a narrower space around them.

Narrowing happens in unit space, with the transforms of the space module and no branching on
the scale, so a log parameter narrows by decades and a 1−β parameter by its averaging window.
For each numeric parameter: the interval the top trials span, widened on each side, clipped to
the bounds, mapped back. Integers round outward; a choice keeps the values seen among the top
trials; a parameter left with a single value becomes fixed.

A zoom round (``zoom_step``) narrows the lineage's first space — not its parent's — around the
best trials of every round so far, widened by a *radius* in that space's unit coordinates that
adapts like a trust region: ``zoom.margin`` (0.35) for the first round; unchanged after a
round that improved the best so far, × 0.7 after one that did not; back to ``zoom.margin``
once it falls under 0.005 (a region that collapsed starts again, around the best). Each
numeric parameter stretches the radius by how widely the best 20 % of the trials spread in
it relative to the others (0.5–2 ×): long along a valley, short across it. The settings come
from bench/search_quality.py (docs/benchmarks.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hpsearch.record import TrialRecord
from hpsearch.space import ChoiceParam, Condition, NumericParam, Param, Space, can_meet


@dataclass(frozen=True)
class Zoomed:
    space: Space
    fixed: dict[str, Any] = field(default_factory=dict)  # parameters narrowed to one value


SHRINK = 0.7  # the radius after a round that did not improve the best so far
RESTART_BELOW = 0.005  # a radius this small has collapsed: start again at zoom.margin


def narrow(
    space: Space,
    top: Sequence[Mapping[str, Any]],
    margin: float,
    absolute: bool = False,
    pads: Mapping[str, float] | None = None,
) -> Zoomed:
    """The space around ``top`` (the best trials' params); see the module docstring. The
    widening is ``margin`` × the span of ``top`` (× the whole range where they coincide), or
    with ``absolute``, ``margin`` of the whole range (``pads``: a parameter's own, instead)."""
    if not top:
        raise ValueError("narrowing needs at least one trial")
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    params: list[Param] = []
    fixed: dict[str, Any] = {}
    for p in space:
        values = [t[p.name] for t in top if p.name in t]
        if not values:  # a conditional parameter inactive in every anchor: left whole
            params.append(p)
            continue
        narrowed = (
            _narrow_choice(p, values)
            if isinstance(p, ChoiceParam)
            else _narrow_numeric(p, values, (pads or {}).get(p.name, margin), absolute)
        )
        if isinstance(narrowed, (NumericParam, ChoiceParam)):
            params.append(narrowed)
        elif space.condition(p.name):  # one value, still only where its condition holds
            params.append(ChoiceParam(p.name, (narrowed,)))
        else:
            fixed[p.name] = narrowed
    return Zoomed(conditioned(tuple(params), space.conditions, fixed), fixed)


def conditioned(
    params: Sequence[Param], conditions: Sequence[tuple[str, Condition]], fixed: Mapping[str, Any]
) -> Space:
    """The narrowed parameters with their conditions: a clause on a fixed parameter is
    dropped when the fixed value meets it, and a parameter whose condition can no longer hold
    (a fixed value or a narrowed range rules it out, or it depends on such a parameter) is
    dropped from the space."""
    kept = {p.name: p for p in params}
    pending = {name: condition for name, condition in conditions if name in kept}
    changed = True
    while changed:
        changed = False
        for name, condition in list(pending.items()):
            clauses = []
            for other, need in condition:
                if other in fixed:
                    possible = need.holds(fixed[other])
                    if possible:
                        continue  # always true now
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


def _narrow_choice(p: ChoiceParam, values: Sequence[Any]) -> ChoiceParam | Any:
    kept = tuple(c for c in p.choices if any(type(c) is type(v) and c == v for v in values))
    return kept[0] if len(kept) == 1 else ChoiceParam(p.name, kept)


def _narrow_numeric(p: NumericParam, values: Sequence[float], margin: float, absolute: bool):
    units = [p.to_unit(v) for v in values]
    lo, hi = min(units), max(units)
    pad = margin if absolute else margin * ((hi - lo) if hi > lo else 1.0)
    low, high = _value_at(p, max(0.0, lo - pad)), _value_at(p, min(1.0, hi + pad))
    if p.integer:
        # Round outward: the integers whose rounding cells hold the ends.
        low, high = math.floor(low + 0.5), math.floor(high + 0.5)
    # The top trials stay inside whatever the floating-point round trip did.
    low = max(p.low, min(low, *values))
    high = min(p.high, max(high, *values))
    if p.integer:
        low, high = int(low), int(high)
    if low >= high:
        return low
    return NumericParam(p.name, p.scale, low, high, p.integer)


def _value_at(p: NumericParam, u: float) -> float:
    """The continuous value at unit coordinate ``u`` (before integer rounding)."""
    pad = 0.5 if p.integer else 0.0
    start, stop = p.scale.forward(p.low - pad), p.scale.forward(p.high + pad)
    return float(p.scale.inverse(start + u * (stop - start)))


def width(p: Param, parent: Param) -> float:
    """How much of the parent's range ``p`` keeps, in the parent's unit space (0..1)."""
    if isinstance(parent, ChoiceParam):
        kept = len(p.choices) if isinstance(p, ChoiceParam) else 1
        return kept / len(parent.choices)
    if not isinstance(p, NumericParam):
        return 0.0
    return abs(parent.to_unit(p.high) - parent.to_unit(p.low)) / abs(
        parent.to_unit(parent.high) - parent.to_unit(parent.low)
    )


@dataclass(frozen=True)
class ZoomStep:
    """The next round: its config, the trials it was narrowed around, the parameters it
    fixed (narrowed to one value)."""

    config: Any  # hpsearch.config.Config
    anchors: list[TrialRecord]
    fixed: dict[str, Any]
    radius: float = 0.0  # the widening, in the first run's unit coordinates


def radius(lineage: Sequence[tuple[Any, Sequence[TrialRecord]]], start: float) -> float:
    """The next round's radius, replayed from the lineage's rounds (root first): ``start``
    for the first zoom round, then as the module docstring says."""
    goal = lineage[0][0].search.goal
    best = goal.best(lineage[0][1])
    r = start
    for _config, records in lineage[1:]:
        found = goal.best(records)
        improved = found is not None and (
            best is None or goal.direction.better(goal.value(found), goal.value(best))
        )
        if improved:
            best = found
        else:
            r *= SHRINK
            if r < RESTART_BELOW:
                r = start
    return r


def zoom_step(
    lineage: Sequence[tuple[Any, Sequence[TrialRecord]]],
    round_: int,
    *,
    top: int | None = None,
    top_fraction: float | None = None,
    margin: float | None = None,
    trials: int | None = None,
) -> ZoomStep | None:
    """The config of round ``round_`` from the lineage so far (each round's config and
    records, the first run first): the first run's space narrowed around the best trials of
    all rounds (``top`` of them, or ``top_fraction``; else ``zoom.top``), widened by the
    adaptive radius (``margin``: that radius instead), ``trials`` trials (else ``zoom.trials``),
    single-valued parameters fixed; its own seed (new trials), the data's seed kept. None
    without an ok trial."""
    import dataclasses

    from hpsearch.sampling import round_seed

    root, config = lineage[0][0], lineage[-1][0]
    records = [_whole(c, root, r) for c, rs in lineage for r in rs]
    if top is None and top_fraction is None:
        top = config.zoom.top
    anchors = config.search.goal.top(records, top, top_fraction)
    if not anchors:
        return None
    pad = margin if margin is not None else radius(lineage, config.zoom.margin)
    pads = shaped(root.space, config.search.goal.rank(records), pad)
    z = narrow(root.space, [r.params for r in anchors], pad, absolute=True, pads=pads)
    zoom = config.zoom
    if config.search.budget is not None:  # the schedule's rounds belong to the budget
        zoom = dataclasses.replace(zoom, rounds=0)
    new = dataclasses.replace(
        config,
        zoom=zoom,
        seed=round_seed(config.seed, round_),
        data=dataclasses.replace(config.data, seed=config.data_seed),  # same data every round
        model={**root.model, **z.fixed},  # what this round fixes, from the first run's
        space=z.space,
        # A round has no budget of its own: the coarse run's sets every round's trials.
        search=dataclasses.replace(
            config.search, trials=_or(trials, config.zoom.trials), budget=None
        ),
    )
    return ZoomStep(new, anchors, z.fixed, pad)


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


def _whole(config: Any, root: Any, record: TrialRecord) -> TrialRecord:
    """A record with the values its round had fixed put back, so that it is a point of the
    first run's space."""
    import dataclasses

    fixed = {
        n: config.model[n] for n in root.space.names if n not in record.params and n in config.model
    }
    if not fixed:
        return record
    return dataclasses.replace(record, params={**fixed, **record.params})


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value
