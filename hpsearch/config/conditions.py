"""``when:`` in a config's space: the conditions that make a parameter active only where
others have given values, each checked (a known choice or integer parameter, a value it can
take), and all of them together (no cycle, every parameter able to be active)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hpsearch.config import rules
from hpsearch.errors import ConfigError, show, suggest
from hpsearch.space import (
    ChoiceParam,
    Condition,
    NumericParam,
    Param,
    Requirement,
    Space,
    can_meet,
)


class ConditionsParser:
    """The part of the parser that reads ``when:`` (``Parser`` brings ``fail``, ``check`` and
    ``known_keys``)."""

    def fail(self, path: tuple, message: str) -> ConfigError:  # pragma: no cover - Parser's
        raise NotImplementedError

    def check(self, rule: Any, value: Any, path: tuple) -> Any:  # pragma: no cover
        raise NotImplementedError

    def known_keys(self, value: Any, path: tuple, allowed: Any) -> None:  # pragma: no cover
        raise NotImplementedError

    def condition(self, space: Space, name: str, value: Any) -> Condition:
        """``when:`` of parameter ``name``: each key a choice or integer parameter of the
        space, each value one of its values, a list of them, or {min, max} for an integer."""
        path = ("space", name, "when")
        if not isinstance(value, dict) or not value:
            raise self.fail(
                path,
                "must name the parameters it depends on, e.g. {optimizer: adam}, "
                f"{{optimizer: [adam, rmsprop]}} or {{layers: {{min: 2}}}}, got {show(value)}",
            )
        requires = []
        for other, need in value.items():
            where = (*path, other)
            if other == name:
                raise self.fail(where, f"'{name}' cannot depend on itself")
            p = space.get(other) if isinstance(other, str) else None
            if p is None:
                raise self.fail(
                    where,
                    f"unknown hyperparameter '{other}'{suggest(str(other), space.names)}: a "
                    "condition names a choice or integer parameter of this space",
                )
            if isinstance(p, NumericParam) and not p.integer:
                raise self.fail(
                    where,
                    f"'{other}' is a real number ({p.describe()}): a condition names a choice "
                    "or integer parameter",
                )
            requires.append((other, self.requirement(p, need, where)))
        return tuple(requires)

    def requirement(self, p: Param, need: Any, where: tuple) -> Requirement:
        if isinstance(need, dict):
            if isinstance(p, ChoiceParam):
                raise self.fail(
                    where, f"'{p.name}' is a choice: list the values it needs, e.g. [a, b]"
                )
            self.known_keys(need, where, ["min", "max"])
            if not need:
                raise self.fail(where, "needs min, max or both, e.g. {min: 2}")
            low = (
                self.check(rules.Integer(), need["min"], (*where, "min")) if "min" in need else None
            )
            high = (
                self.check(rules.Integer(), need["max"], (*where, "max")) if "max" in need else None
            )
            if low is not None and high is not None and low > high:
                raise self.fail((*where, "min"), f"must be <= max ({high}), got {low}")
            if (low is not None and low > p.high) or (high is not None and high < p.low):
                raise self.fail(
                    where,
                    f"can never hold: {p.name} lies in {p.describe()} (an impossible condition)",
                )
            return Requirement(low=low, high=high)
        values = need if isinstance(need, list) else [need]
        if not values:
            raise self.fail(where, "must list at least one value")
        for index, item in enumerate(values):
            if not p.contains(item):
                at = (*where, index) if isinstance(need, list) else where
                raise self.fail(
                    at,
                    f"{show(item)} is not a value of {p.name} ({p.describe()}): the condition "
                    "could never hold",
                )
        return Requirement(values=tuple(values))

    def conditions_possible(self, space: Space) -> None:
        """No cycle, and every parameter can be active: the requirements its chain of
        conditions puts on each parameter can be met together."""
        conditions = dict(space.conditions)
        for start in conditions:
            needs: dict[str, list[Requirement]] = {}
            cycle = _collect(conditions, [start], needs)
            if cycle:
                raise self.fail(
                    ("space", start, "when"), f"conditions form a cycle: {' → '.join(cycle)}"
                )
            for other, listed in needs.items():
                if not can_meet(space[other], listed):
                    wanted = " and ".join(n.describe() for n in listed)
                    raise self.fail(
                        ("space", start, "when"),
                        f"can never hold: it needs {other} to be {wanted} through the "
                        "parameters it depends on (an impossible condition)",
                    )


def _collect(
    conditions: Mapping[str, Condition], trail: list[str], needs: dict[str, list[Requirement]]
) -> list[str] | None:
    """Every requirement the chain of conditions from ``trail[-1]`` puts on each parameter,
    into ``needs``; the cycle, if the chain has one."""
    for other, need in conditions.get(trail[-1], ()):
        needs.setdefault(other, []).append(need)
        if other in trail:
            return [*trail[trail.index(other) :], other]
        cycle = _collect(conditions, [*trail, other], needs)
        if cycle:
            return cycle
    return None
