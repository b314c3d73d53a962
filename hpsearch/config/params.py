"""The hyperparameters in a config: ``space`` (searched) and ``model`` (fixed), checked
against the built-in trainer's registry (its types and valid intervals are the rules), or
taken freely for a user's own objective; and a command's ``{placeholders}``."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from hpsearch.config import rules
from hpsearch.errors import ConfigError, show, suggest
from hpsearch.space import (
    SCALES,
    ChoiceParam,
    Condition,
    NumericParam,
    Param,
    Requirement,
    Space,
    can_meet,
)
from hpsearch.trainer.registry import REGISTRY, Hyperparam, Interval

BUDGET_FIELDS = ("budget", "checkpoint_dir")  # placeholders of an early-stopping search
# Placeholders a command may use besides the parameters.
COMMAND_FIELDS = ("seed", "trial", "device", *BUDGET_FIELDS)
MAX_EXACT_INT = 2**53  # beyond it a float cannot hold every integer: sampling would skip some
_BETA_NAME = re.compile(r"(^|_)(beta\d*|momentum|rho)($|_)", re.IGNORECASE)


class ParamsParser:
    """The part of the parser that knows hyperparameters (``Parser`` brings ``fail``,
    ``check``, ``mapping``, ``known_keys``, ``lines`` and ``custom``)."""

    lines: Mapping[tuple, int]
    custom: bool

    def fail(self, path: tuple, message: str) -> ConfigError:  # pragma: no cover - Parser's
        raise NotImplementedError

    def check(self, rule: Any, value: Any, path: tuple) -> Any:  # pragma: no cover
        raise NotImplementedError

    def mapping(self, value: Any, path: tuple, what: str) -> dict:  # pragma: no cover
        raise NotImplementedError

    def known_keys(self, value: Any, path: tuple, allowed: Any) -> None:  # pragma: no cover
        raise NotImplementedError

    def placeholders(self, command: str, space: Space, model: Mapping[str, Any]) -> None:
        """Every ``{name}`` in a command names a parameter, ``seed`` or ``trial``."""
        import string

        where = ("objective", "command")
        known = [*space.names, *model, *COMMAND_FIELDS]
        try:
            parsed = list(string.Formatter().parse(command))
        except ValueError as exc:
            raise self.fail(where, f"{exc}; write {{{{ and }}}} for literal braces") from None
        parts = [(f, spec, conv) for _, f, spec, conv in parsed if f is not None]
        for name, spec, conversion in parts:
            if name and not rules.PARAM_NAME.match(name):
                raise self.fail(
                    where,
                    f"{{{name}...}} is not a placeholder; write {{{{ and }}}} "
                    "for literal braces (JSON in a command, say)",
                )
            if spec or conversion:
                raise self.fail(
                    where,
                    f"placeholder {{{name}{'!' + conversion if conversion else ''}"
                    f"{':' + spec if spec else ''}}} has a format; write {{{name}}}: "
                    "the value is passed as it was sampled",
                )
            if name not in known:
                hint = suggest(name, known) if name else "; {} needs a name"
                raise self.fail(where, f"unknown placeholder {{{name}}}{hint}")
            if space.condition(name):
                raise self.fail(
                    where,
                    f"{{{name}}} is conditional (see its when:) and absent from the trials "
                    "where it is inactive: a command reads it from HPSEARCH_PARAMS_FILE "
                    "instead of a placeholder",
                )
        from hpsearch.shell import misplaced

        for name, place in misplaced((text, f) for text, f, _, _ in parsed):
            raise self.fail(
                where,
                f"placeholder {{{name}}} stands {place}: hpsearch quotes every value itself, "
                f"and quoted again a value could run as code; write it bare, e.g. --x {{{name}}}",
            )

    def model(self, value: Any, space: Space) -> dict[str, Any]:
        path = ("model",)
        section = self.mapping(value, path, "fixed trainer settings")
        fixed = {}
        for key, item in section.items():
            where = (*path, key)
            if self.custom:
                if not rules.PARAM_NAME.match(key):
                    raise self.fail(
                        where,
                        "a parameter name must be letters, digits and '_', "
                        f"not starting with a digit, got '{key}'",
                    )
                self.not_reserved(key, where)
                if key in space:
                    raise self.fail(
                        where,
                        f"'{key}' is also searched in space; a parameter is "
                        "either fixed in model or searched in space",
                    )
                fixed[key] = self.hyperparam_value(_free(key), item, where)
                continue
            if key not in REGISTRY:
                raise self.fail(
                    where,
                    f"unknown hyperparameter '{key}'{suggest(key, REGISTRY)} "
                    "(hpsearch params lists them)",
                )
            if key in space:
                line = self.lines.get(("space", key))
                raise self.fail(
                    where,
                    f"'{key}' is also searched in space (line {line}); a "
                    "hyperparameter is either fixed in model or searched in space",
                )
            fixed[key] = self.hyperparam_value(REGISTRY[key], item, where)
        return fixed

    def hyperparam_value(self, h: Hyperparam, value: Any, path: tuple) -> Any:
        if h.type == "any":
            if isinstance(value, (dict, list)) or value is None:
                raise self.fail(path, f"must be a single value, got {show(value)}")
            if isinstance(value, float) and not math.isfinite(value):
                raise self.fail(path, f"must be a finite number, got {value}")
            return value
        if h.type == "choice":
            return self.check(rules.OneOf(h.choices), value, path)
        if h.type == "bool":
            if not isinstance(value, bool):
                raise self.fail(path, f"must be true or false, got {show(value)}")
            return value
        if h.type == "int":
            self.check(rules.Integer(), value, path)
        else:
            value = self.check(rules.Number(), value, path)
        assert h.interval is not None
        if not h.interval.contains(value):
            raise self.fail(
                path, f"{h.interval.rule(value)} ({h.name} lies in {h.interval}), got {value}"
            )
        return value

    def space(self, value: Any) -> Space:
        path = ("space",)
        section = self.mapping(value, path, "hyperparameters to search")
        params = tuple(
            self.param(
                name,
                {k: v for k, v in entry.items() if k != "when"}
                if isinstance(entry, dict)
                else entry,
            )
            for name, entry in section.items()
        )
        space = Space(params)
        conditions = tuple(
            (name, self.condition(space, name, entry["when"]))
            for name, entry in section.items()
            if isinstance(entry, dict) and "when" in entry
        )
        if not conditions:
            return space
        space = Space(params, conditions)
        self.conditions_possible(space)
        return space

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

    def param(self, name: str, entry: Any) -> Param:
        path = ("space", name)
        if not rules.PARAM_NAME.match(name):
            raise self.fail(
                path,
                "a hyperparameter name must be letters, digits and '_', "
                f"not starting with a digit, got '{name}'",
            )
        if self.custom:
            self.not_reserved(name, path)
        h = _free(name) if self.custom else REGISTRY.get(name)
        if h is None:
            raise self.fail(
                path,
                f"unknown hyperparameter '{name}'{suggest(name, REGISTRY)} "
                "(hpsearch params lists them)",
            )
        if not isinstance(entry, dict):
            raise self.fail(
                path,
                "must be {scale: linear|log|one_minus_log, min: ..., max: ...} "
                f"or {{choice: [...]}}, got {show(entry)}; to fix a value instead, "
                "put it under model",
            )
        if "choice" in entry:
            extra = [key for key in entry if key != "choice"]
            if extra:
                raise self.fail(
                    (*path, extra[0]),
                    "a hyperparameter is either {choice: [...]} or {scale, min, max}, not both",
                )
            return self.choice(h, entry["choice"], (*path, "choice"))
        self.known_keys(entry, path, ["scale", "min", "max", "type", "when"])
        return self.numeric(h, entry, path)

    def scale_hints(self, space: Space) -> list[str]:
        """A β-like parameter (named like one, or spanning 0.9..0.999-like values) searched on
        a linear or log scale: one_minus_log spreads its trials over the averaging window."""
        hints = []
        for p in space:
            if not isinstance(p, NumericParam) or p.integer or p.kind == "one_minus_log":
                continue
            named = bool(_BETA_NAME.search(p.name))
            ranged = p.low >= 0.5 and p.high < 1 and (1 - p.low) >= 10 * (1 - p.high)
            if named or ranged:
                hints.append(
                    str(
                        self.fail(
                            ("space", p.name, "scale"),
                            f"hint: {p.name} looks like a β (an averaging weight): on scale "
                            f"'{p.kind}' most trials fall where its averaging window "
                            "1/(1 − β) is short; scale: one_minus_log spreads them evenly over "
                            "the window",
                        )
                    )
                )
        return hints

    def not_reserved(self, name: str, path: tuple) -> None:
        if name in COMMAND_FIELDS:
            raise self.fail(
                path,
                f"'{name}' is reserved: hpsearch passes each trial's own {name} (as {{{name}}} "
                f"and HPSEARCH_{name.upper()}); give the parameter another name, "
                f"e.g. '{name}_value'",
            )

    def choice(self, h: Hyperparam, values: Any, path: tuple) -> ChoiceParam:
        if not isinstance(values, list):
            raise self.fail(
                path, f"must be a list of values, e.g. [32, 64, 128], got {show(values)}"
            )
        if not values:
            raise self.fail(path, "must list at least one value, got an empty list")
        checked: list[Any] = []
        seen: set[tuple[type, Any]] = set()  # 1 and 1.0 and true are three values
        for index, item in enumerate(values):
            where = (*path, index)
            if isinstance(item, (dict, list)) or item is None:
                raise self.fail(where, f"must be a single value, got {show(item)}")
            item = self.hyperparam_value(h, item, where)
            if (type(item), item) in seen:
                raise self.fail(where, f"{show(item)} is listed twice")
            seen.add((type(item), item))
            checked.append(item)
        return ChoiceParam(h.name, tuple(checked))

    def numeric(self, h: Hyperparam, entry: dict, path: tuple) -> NumericParam:
        if h.type in ("choice", "bool"):
            raise self.fail(
                path,
                f"'{h.name}' takes {h.describe_range()}: search it with "
                f"{{choice: [...]}}, not a scale",
            )
        if "scale" not in entry:
            raise self.fail(
                path,
                f"missing 'scale': one of {', '.join(SCALES)} "
                f"('{h.suggested_scale}' suits {h.name})",
            )
        scale_name = entry["scale"]
        if not isinstance(scale_name, str) or scale_name not in SCALES:
            raise self.fail(
                (*path, "scale"),
                f"unknown scale {show(scale_name)}{suggest(str(scale_name), SCALES)}",
            )
        scale = SCALES[scale_name]
        for bound in ("min", "max"):
            if bound not in entry:
                raise self.fail(path, f"missing '{bound}' for scale '{scale_name}'")
        low = _exact(self.check(rules.Number(), entry["min"], (*path, "min")), entry["min"])
        high = _exact(self.check(rules.Number(), entry["max"], (*path, "max")), entry["max"])

        kind = entry.get("type", "int" if h.type == "int" else "float")
        if kind not in ("int", "float"):
            raise self.fail((*path, "type"), f"must be 'int' or 'float', got {show(kind)}")
        integer = kind == "int"
        if integer and not scale.allows_int:
            raise self.fail(
                (*path, "type"),
                f"scale '{scale_name}' is for values in (0, 1) and cannot be an integer",
            )
        if h.type != "any" and kind != h.type:
            raise self.fail((*path, "type"), f"'{h.name}' is of type {h.type}, got type: {kind}")
        if integer:
            for bound, value in (("min", low), ("max", high)):
                if value != int(value):
                    raise self.fail(
                        (*path, bound), f"must be an integer for type: int, got {value}"
                    )
            low, high = int(low), int(high)
        if not low < high:
            raise self.fail(
                (*path, "min"),
                f"must be < max ({high}), got {low}; to fix a value instead, put it under model",
            )
        if integer:
            for bound, value in (("min", low), ("max", high)):
                if abs(value) > MAX_EXACT_INT:
                    raise self.fail(
                        (*path, bound),
                        f"an integer range must lie within ±{MAX_EXACT_INT} (2^53, where floats "
                        f"stop counting every integer), got {float(value):.3g}",
                    )
        elif not math.isfinite(high - low):
            raise self.fail(
                (*path, "max"),
                f"the range max − min must be a finite number, got {high} − ({low}) = inf; "
                "narrow the range",
            )
        dom_low, dom_high = scale.domain
        if low <= dom_low:
            raise self.fail(
                (*path, "min"), f"must be > {dom_low:g} for scale '{scale_name}', got {low}"
            )
        if high >= dom_high:
            raise self.fail(
                (*path, "max"), f"must be < {dom_high:g} for scale '{scale_name}', got {high}"
            )
        assert h.interval is not None
        for bound, value in (("min", low), ("max", high)):
            if not h.interval.contains(value):
                raise self.fail(
                    (*path, bound),
                    f"{h.interval.rule(value)} ({h.name} lies in {h.interval}), got {value}",
                )
        if not integer:
            low, high = float(low), float(high)
        return NumericParam(h.name, scale, low, high, integer)


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


def _exact(checked: float, given: Any) -> float | int:
    """The bound as written (an int stays an int: 2**60 must not become a float first)."""
    return given if isinstance(given, int) else checked


def _free(name: str) -> Hyperparam:
    """A parameter of a user's objective: any name, any value, no range but the scale's."""
    return Hyperparam(name, "any", None, "", Interval())
