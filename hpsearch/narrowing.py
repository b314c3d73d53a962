"""Coarse to fine: from the best trials of a run to a narrower space around them.

Narrowing happens in unit space, with the transforms of the space module and no branching on
the scale, so a log parameter narrows by decades and a 1−β parameter by its averaging window.
For each numeric parameter: the interval the top trials span, widened by ``margin`` × its
width on each side (by ``margin`` × the parent's width where they coincide), clipped to the
parent's bounds, mapped back. Integers round outward; a choice keeps the values seen among the
top trials; a parameter left with a single value becomes fixed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hpsearch.record import TrialRecord
from hpsearch.space import ChoiceParam, NumericParam, Param, Space


@dataclass(frozen=True)
class Zoomed:
    space: Space
    fixed: dict[str, Any] = field(default_factory=dict)  # parameters narrowed to one value


def narrow(space: Space, top: Sequence[Mapping[str, Any]], margin: float) -> Zoomed:
    """The space around ``top`` (the best trials' params); see the module docstring."""
    if not top:
        raise ValueError("narrowing needs at least one trial")
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    params: list[Param] = []
    fixed: dict[str, Any] = {}
    for p in space:
        values = [t[p.name] for t in top]
        narrowed = (
            _narrow_choice(p, values)
            if isinstance(p, ChoiceParam)
            else _narrow_numeric(p, values, margin)
        )
        if isinstance(narrowed, (NumericParam, ChoiceParam)):
            params.append(narrowed)
        else:
            fixed[p.name] = narrowed
    return Zoomed(Space(tuple(params)), fixed)


def _narrow_choice(p: ChoiceParam, values: Sequence[Any]) -> ChoiceParam | Any:
    kept = tuple(c for c in p.choices if any(type(c) is type(v) and c == v for v in values))
    return kept[0] if len(kept) == 1 else ChoiceParam(p.name, kept)


def _narrow_numeric(p: NumericParam, values: Sequence[float], margin: float):
    units = [p.to_unit(v) for v in values]
    lo, hi = min(units), max(units)
    pad = margin * ((hi - lo) if hi > lo else 1.0)
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


def zoom_step(
    config: Any,
    records: Sequence[TrialRecord],
    round_: int,
    *,
    top: int | None = None,
    top_fraction: float | None = None,
    margin: float | None = None,
    trials: int | None = None,
) -> ZoomStep | None:
    """The config of round ``round_``: the space narrowed around the best of ``records``
    (``top`` of them, or ``top_fraction``; else ``zoom.top``), widened by ``margin`` (else
    ``zoom.margin``), ``trials`` trials (else ``zoom.trials``), single-valued parameters fixed;
    its own seed (new trials), the parent's data seed (same data). None without an ok trial.
    """
    import dataclasses

    from hpsearch.sampling import round_seed

    if top is None and top_fraction is None:
        top = config.zoom.top
    anchors = config.search.goal.top(records, top, top_fraction)
    if not anchors:
        return None
    z = narrow(config.space, [r.params for r in anchors], _or(margin, config.zoom.margin))
    new = dataclasses.replace(
        config,
        seed=round_seed(config.seed, round_),
        data=dataclasses.replace(config.data, seed=config.data_seed),  # same data every round
        model={**config.model, **z.fixed},
        space=z.space,
        search=dataclasses.replace(config.search, trials=_or(trials, config.zoom.trials)),
    )
    return ZoomStep(new, anchors, z.fixed)


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value
