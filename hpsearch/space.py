"""Search spaces: each parameter maps a unit coordinate u in [0, 1] to a value and back.

A scale is a pair of transforms (``forward`` from a value to an axis on which sampling is
uniform, ``inverse`` back). A numeric parameter puts its bounds on that axis, so sampling,
zoom, plots and importance all work on unit coordinates and never branch on the scale:

- ``linear``: the value itself.
- ``log``: log10(value); a learning rate in 1e-4..1 gets the same share of trials per decade.
- ``one_minus_log``: log10(1 - value); a β in 0.9..0.999 gets the same share per decade of
  1 - β, i.e. of averaging window 1 / (1 - β): half the samples fall above 0.99.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Value = Any  # a parameter's value: int, float, or any scalar listed in a choice


@dataclass(frozen=True)
class Scale:
    """Base scale: the identity transform (linear)."""

    name: str = "linear"
    # Open interval of values the transform is defined on.
    domain: tuple[float, float] = (-math.inf, math.inf)
    allows_int: bool = True

    def forward(self, x: np.ndarray | float) -> np.ndarray | float:
        return x

    def inverse(self, t: np.ndarray | float) -> np.ndarray | float:
        return t

    def ticks(self, low: float, high: float) -> list[float]:
        """Readable reference values within [low, high], on this scale."""
        return [float(v) for v in np.linspace(low, high, 5)]

    def format(self, value: float) -> str:
        return f"{value:.4g}"


@dataclass(frozen=True)
class LogScale(Scale):
    name: str = "log"
    domain: tuple[float, float] = (0.0, math.inf)

    def forward(self, x: np.ndarray | float) -> np.ndarray | float:
        return np.log10(x)

    def inverse(self, t: np.ndarray | float) -> np.ndarray | float:
        return np.power(10.0, t)

    def ticks(self, low: float, high: float) -> list[float]:
        first, last = math.ceil(math.log10(low) - 1e-9), math.floor(math.log10(high) + 1e-9)
        return [10.0**k for k in range(first, last + 1)]

    def format(self, value: float) -> str:
        return f"{value:.1e}"


@dataclass(frozen=True)
class OneMinusLogScale(Scale):
    name: str = "one_minus_log"
    domain: tuple[float, float] = (0.0, 1.0)
    allows_int: bool = False

    def forward(self, x: np.ndarray | float) -> np.ndarray | float:
        return np.log10(1.0 - np.asarray(x, dtype=float))

    def inverse(self, t: np.ndarray | float) -> np.ndarray | float:
        return 1.0 - np.power(10.0, t)

    def ticks(self, low: float, high: float) -> list[float]:
        first = math.ceil(-math.log10(1.0 - low) - 1e-9)
        last = math.floor(-math.log10(1.0 - high) + 1e-9)
        return [1.0 - 10.0**-k for k in range(first, last + 1)]

    def format(self, value: float) -> str:
        # Two significant digits of 1 - β: 0.9987, 0.950, 0.99990.
        if value >= 1.0:
            return f"{value:g}"
        decimals = max(1, math.floor(-math.log10(1.0 - value)) + 2)
        return f"{value:.{decimals}f}"


SCALES: dict[str, Scale] = {s.name: s for s in (Scale(), LogScale(), OneMinusLogScale())}


@dataclass(frozen=True)
class NumericParam:
    """A number between ``low`` and ``high`` (both included) on a scale; optionally an integer."""

    name: str
    scale: Scale
    low: float
    high: float
    integer: bool = False

    @property
    def kind(self) -> str:
        return self.scale.name

    def _axis(self) -> tuple[float, float]:
        # Integers: widen by half a step so rounding gives the end values their fair share.
        pad = 0.5 if self.integer else 0.0
        return float(self.scale.forward(self.low - pad)), float(self.scale.forward(self.high + pad))

    def to_unit(self, value: float | np.ndarray) -> float | np.ndarray:
        start, stop = self._axis()
        u = (self.scale.forward(np.asarray(value, dtype=float)) - start) / (stop - start)
        return float(u) if np.ndim(u) == 0 else u

    def from_unit(self, u: float | np.ndarray) -> Value | np.ndarray:
        start, stop = self._axis()
        x = self.scale.inverse(start + np.asarray(u, dtype=float) * (stop - start))
        if self.integer:
            x = np.floor(x + 0.5)
        x = np.clip(x, self.low, self.high)
        if np.ndim(x) == 0:
            return int(x) if self.integer else float(x)
        return x.astype(int) if self.integer else x

    def contains(self, value: Value) -> bool:
        """A number of the right type inside the bounds (anything else: False)."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        try:
            if not math.isfinite(value):
                return False
        except OverflowError:  # an int beyond any float
            return False
        if self.integer and value != int(value):
            return False
        return self.low <= value <= self.high

    def format(self, value: Value) -> str:
        return str(int(value)) if self.integer else self.scale.format(float(value))

    def describe(self) -> str:
        """The range on its scale: ``1.0e-04–1.0e+00``."""
        return f"{self.format(self.low)}–{self.format(self.high)}"

    def to_dict(self) -> dict[str, Any]:
        low, high = (int(self.low), int(self.high)) if self.integer else (self.low, self.high)
        out: dict[str, Any] = {"scale": self.scale.name, "min": low, "max": high}
        if self.integer:
            out["type"] = "int"
        return out


def _key(value: Value) -> tuple[type, Value]:
    # True == 1 in Python; a choice of [1, true] must keep them apart.
    return (type(value), value)


@dataclass(frozen=True)
class ChoiceParam:
    """One of a list of values, each drawn equally often."""

    name: str
    choices: tuple[Value, ...]
    _positions: dict = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        # (type, value) -> position: a lookup in constant time, with true and 1 kept apart.
        positions: dict = {}
        for i, choice in enumerate(self.choices):
            positions.setdefault(_key(choice), i)
        object.__setattr__(self, "_positions", positions)

    @property
    def kind(self) -> str:
        return "choice"

    def index(self, value: Value) -> int:
        try:
            return self._positions[_key(value)]
        except (KeyError, TypeError):  # TypeError: an unhashable value is no choice
            raise ValueError(f"{value!r:.60} is not a choice of {self.name}") from None

    def to_unit(self, value: Value) -> float:
        return (self.index(value) + 0.5) / len(self.choices)

    def from_unit(self, u: float) -> Value:
        return self.choices[min(int(u * len(self.choices)), len(self.choices) - 1)]

    def contains(self, value: Value) -> bool:
        try:
            return _key(value) in self._positions
        except TypeError:
            return False

    def format(self, value: Value) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def describe(self) -> str:
        return "{" + ", ".join(self.format(c) for c in self.choices) + "}"

    def to_dict(self) -> dict[str, Any]:
        return {"choice": list(self.choices)}


Param = NumericParam | ChoiceParam


@dataclass(frozen=True)
class Requirement:
    """What a condition asks of one parameter: one of ``values``, or (an integer) between
    ``low`` and ``high``, both included (either may be None: no bound)."""

    values: tuple[Value, ...] | None = None
    low: float | None = None
    high: float | None = None

    def holds(self, value: Value) -> bool:
        if self.values is not None:
            return any(_key(value) == _key(v) for v in self.values)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def to_data(self) -> Any:
        if self.values is not None:
            return self.values[0] if len(self.values) == 1 else list(self.values)
        bounds = {"min": self.low, "max": self.high}
        return {k: v for k, v in bounds.items() if v is not None}

    def describe(self) -> str:
        if self.values is not None:
            shown = [str(v).lower() if isinstance(v, bool) else str(v) for v in self.values]
            return shown[0] if len(shown) == 1 else "{" + ", ".join(shown) + "}"
        if self.high is None:
            return f">= {self.low:g}"
        if self.low is None:
            return f"<= {self.high:g}"
        if self.low == self.high:
            return f"{self.low:g}"
        return f"{self.low:g}–{self.high:g}"


def can_meet(p: Param, needs: list[Requirement]) -> bool:
    """Whether one value of ``p`` meets every requirement in ``needs``."""
    if isinstance(p, ChoiceParam):
        return any(all(n.holds(c) for n in needs) for c in p.choices)
    low: float = int(p.low)
    high: float = int(p.high)
    for need in needs:
        if need.values is not None:
            return any(low <= v <= high and all(n.holds(v) for n in needs) for v in need.values)
        low = max(low, need.low) if need.low is not None else low
        high = min(high, need.high) if need.high is not None else high
    return low <= high


Condition = tuple[tuple[str, Requirement], ...]  # every (parameter, requirement) must hold


def describe_condition(condition: Condition) -> str:
    """``optimizer adam`` / ``optimizer {adam, rmsprop}, layers >= 2``."""
    return ", ".join(f"{name} {need.describe()}" for name, need in condition)


@dataclass(frozen=True)
class Space:
    """An ordered set of parameters; the order fixes which unit coordinate each one uses.

    ``conditions``: parameters that are active only when others have given values (``when:``
    in a config); an inactive parameter is absent from a trial's values. Every coordinate is
    drawn whatever the conditions, so a parameter's active values are the same in every trial
    whatever the other parameters' conditions."""

    params: tuple[Param, ...]
    conditions: tuple[tuple[str, Condition], ...] = ()

    def __iter__(self) -> Iterator[Param]:
        return iter(self.params)

    def __len__(self) -> int:
        return len(self.params)

    def __contains__(self, name: object) -> bool:
        return any(p.name == name for p in self.params)

    def __getitem__(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def get(self, name: str, default: Param | None = None) -> Param | None:
        return next((p for p in self.params if p.name == name), default)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def condition(self, name: str) -> Condition:
        """What parameter ``name`` needs to be active (empty: always active)."""
        return dict(self.conditions).get(name, ())

    def active(self, values: Mapping[str, Value]) -> dict[str, Value]:
        """``values`` without the parameters whose conditions do not hold (a condition on an
        inactive parameter does not hold), in the space's order."""
        if not self.conditions:
            return dict(values)
        conditions = dict(self.conditions)
        known: dict[str, bool] = {}

        def is_active(name: str) -> bool:
            if name not in known:
                known[name] = False  # a cycle (refused by the config parser) ends inactive
                known[name] = name in values and all(
                    is_active(other) and need.holds(values[other])
                    for other, need in conditions.get(name, ())
                )
            return known[name]

        return {name: value for name, value in values.items() if is_active(name)}

    def misfit(self, values: Mapping[str, Value]) -> str | None:
        """Why ``values`` is not a point of this space (each value inside its parameter,
        every parameter its conditions make active and no other), or None when it is."""
        for name, value in values.items():
            p = self.get(name)
            if p is None:
                return f"'{name}' is not a parameter of this search"
            if not p.contains(value):
                return f"its {name} {value!r:.30} lies outside {p.describe()}"
        if set(self.active(values)) != set(values):
            return "it sets a parameter its conditions leave inactive"
        for p in self.params:
            some = p.choices[0] if isinstance(p, ChoiceParam) else p.low
            if p.name not in values and p.name in self.active({**values, p.name: some}):
                return f"it has no value for '{p.name}'"
        return None

    def from_unit(self, units: Sequence[float]) -> dict[str, Value]:
        every = {p.name: p.from_unit(u) for p, u in zip(self.params, units, strict=True)}
        return self.active(every)

    def to_unit(self, values: Mapping[str, Value]) -> list[float]:
        return [float(p.to_unit(values[p.name])) for p in self.params]

    def sample(self, rng: np.random.Generator) -> dict[str, Value]:
        """One point, uniform in unit space: one draw per parameter, in order (inactive ones
        drawn too, then dropped)."""
        return self.from_unit(rng.random(len(self.params)).tolist())

    def to_dict(self) -> dict[str, dict[str, Any]]:
        out = {}
        for p in self.params:
            entry = p.to_dict()
            condition = self.condition(p.name)
            if condition:
                entry["when"] = {name: need.to_data() for name, need in condition}
            out[p.name] = entry
        return out
