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


def top_records(
    records: Sequence[Mapping[str, Any]],
    metric: str,
    direction: str,
    top: int | None,
    top_fraction: float | None,
) -> list[Mapping[str, Any]]:
    """The best ``ok`` records: ``top`` of them, or ``top_fraction`` of the ok ones (≥ 1)."""
    from hpsearch.store import rank

    ok = [
        r
        for r in rank(records, metric, direction)
        if r["status"] == "ok" and r.get("metrics", {}).get(metric) is not None
    ]
    count = top if top is not None else max(1, math.ceil((top_fraction or 0) * len(ok)))
    return ok[:count]


def child_seed(seed: int, round_: int) -> int:
    """Each round samples its own trials: a seed derived from the root seed and the round."""
    import numpy as np

    return int(np.random.SeedSequence([seed, round_]).generate_state(1)[0])


def zoomed_config(
    config, top: Sequence[Mapping[str, Any]], margin: float, trials: int, round_: int
):
    """The config of the next round: the narrowed space, single-valued parameters fixed.
    Its own seed (new trials), the parent's data seed (same data)."""
    import dataclasses

    z = narrow(config.space, [r["params"] for r in top], margin)
    return dataclasses.replace(
        config,
        seed=child_seed(config.seed, round_),
        data=dataclasses.replace(config.data, seed=config.data_seed),  # same data every round
        model={**config.model, **z.fixed},
        space=z.space,
        search=dataclasses.replace(config.search, trials=trials),
    )
