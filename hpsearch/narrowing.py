"""Cutting a region around the best trials, in unit coordinates.

Every cut happens in unit space, with the transforms of the space module and no branching on
the scale, so a log parameter narrows by decades and a 1−β parameter by its averaging window.
Two cuts, one per kind of round:

- ``zoom_region`` — the course's coarse to fine: a region *inside its parent* around the
  anchors (the top K trials). Each numeric parameter becomes the interval the anchors span,
  padded on each side by ``margin`` × what they leave free of the parent's range: narrower
  than the parent unless the anchors span it (then it is kept, and the note says so).
  Integers round outward (then lose an end if that gave the whole range back); a choice keeps
  the values the anchors use; a parameter left with one value is fixed.
- ``trust_region`` — the budget's optimiser: a region of the *whole* space around the
  anchors, padded by a radius of its own per parameter (``hpsearch.strategies.budget``); it
  may move and grow from one round to the next.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from hpsearch.rounds import Region, conditioned, width
from hpsearch.space import ChoiceParam, NumericParam, Param, Space

KEEP_SPAN = 0.9  # anchors spanning this much of a range: narrowing would gain next to nothing


def zoom_region(
    parent: Region, anchors: Sequence[Mapping[str, Any]], margin: float, label: str
) -> tuple[Region, dict[str, str]]:
    """The region inside ``parent`` around ``anchors`` (trials' params, inside ``parent``),
    and a note per parameter saying how it was cut (``label`` names the anchors: "the top
    5"). ``margin`` must be below 0.5 for every range to narrow."""
    if not anchors:
        raise ValueError("a zoom needs at least one anchor")
    params: list[Param] = []
    fixed = dict(parent.fixed)
    notes: dict[str, str] = {}
    for q in parent.space:
        values = [a[q.name] for a in anchors if q.name in a]
        if not values:
            params.append(q)
            notes[q.name] = f"kept: inactive in {label}"
            continue
        if isinstance(q, ChoiceParam):
            new, notes[q.name] = _zoom_choice(q, values, label)
        else:
            new, notes[q.name] = _zoom_numeric(q, values, margin, label)
        if isinstance(new, (NumericParam, ChoiceParam)):
            params.append(new)
        elif parent.space.condition(q.name):  # one value, still only where its condition holds
            params.append(ChoiceParam(q.name, (new,)))
        else:
            fixed[q.name] = new
    region = Region(conditioned(params, parent.space.conditions, fixed), fixed)
    for q in parent.space:
        if q.name not in region.space and q.name not in fixed:
            notes[q.name] = "its condition can no longer hold here"
    return region, notes


def _zoom_choice(q: ChoiceParam, values: Sequence[Any], label: str) -> tuple[Any, str]:
    kept = tuple(c for c in q.choices if any(ChoiceParam(q.name, (v,)).contains(c) for v in values))
    if len(kept) == 1:
        have = {1: "has", 2: "both have"}.get(len(values), "all have")
        return kept[0], f"{label} {have} {q.format(kept[0])}"
    if len(kept) == len(q.choices):
        return q, f"kept: {label} use every value"
    return ChoiceParam(q.name, kept), f"the values {label} use"


def _zoom_numeric(
    q: NumericParam, values: Sequence[float], margin: float, label: str
) -> tuple[Any, str]:
    units = [float(q.to_unit(v)) for v in values]
    lo, hi = min(units), max(units)
    span = hi - lo
    if span >= KEEP_SPAN:
        return q, f"kept: {label} span {span:.0%} of the range"
    pad = margin * (1.0 - span)
    low, high = _value_at(q, max(0.0, lo - pad)), _value_at(q, min(1.0, hi + pad))
    if q.integer:
        low, high = math.floor(low + 0.5), math.floor(high + 0.5)  # round outward
    low = max(q.low, min(low, *values))  # inside the parent, around the anchors, whatever
    high = min(q.high, max(high, *values))  # the floating-point round trip did
    if q.integer:
        low, high = int(low), int(high)
        if (low, high) == (int(q.low), int(q.high)):  # rounding gave the whole range back:
            if min(values) == low and max(values) == high:
                return q, f"kept: {label} hold both of its ends"
            if max(values) < high and high - max(values) >= min(values) - low:
                high -= 1  # drop the end farther from the anchors (one they do not hold)
            else:
                low += 1
    if low >= high:
        return low, f"{label} {'narrows' if len(values) == 1 else 'narrow'} it to one value"
    new = NumericParam(q.name, q.scale, low, high, q.integer)
    return new, f"{width(new, q):.0%} of the range, around {label}"


def trust_region(
    root: Space,
    anchors: Sequence[Mapping[str, Any]],
    pads: Mapping[str, float],
    pad: float,
    keep_choices: bool = False,
) -> Region:
    """The region of ``root`` around ``anchors``: each numeric parameter the anchors' span
    ± its pad (``pads``, else ``pad``) of the whole range, clipped to it; a choice the values
    the anchors use (every value with ``keep_choices``); a parameter left with one value
    fixed."""
    params: list[Param] = []
    fixed: dict[str, Any] = {}
    for p in root:
        values = [a[p.name] for a in anchors if p.name in a]
        if not values:  # a conditional parameter inactive in every anchor: left whole
            params.append(p)
            continue
        if isinstance(p, ChoiceParam) and keep_choices:
            params.append(p)
            continue
        narrowed = (
            _zoom_choice(p, values, "")[0]
            if isinstance(p, ChoiceParam)
            else _pad_numeric(p, values, pads.get(p.name, pad))
        )
        if isinstance(narrowed, (NumericParam, ChoiceParam)):
            params.append(narrowed)
        elif root.condition(p.name):
            params.append(ChoiceParam(p.name, (narrowed,)))
        else:
            fixed[p.name] = narrowed
    return Region(conditioned(params, root.conditions, fixed), fixed)


def _pad_numeric(p: NumericParam, values: Sequence[float], pad: float) -> Any:
    units = [float(p.to_unit(v)) for v in values]
    low, high = _value_at(p, max(0.0, min(units) - pad)), _value_at(p, min(1.0, max(units) + pad))
    if p.integer:
        low, high = math.floor(low + 0.5), math.floor(high + 0.5)  # round outward
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
