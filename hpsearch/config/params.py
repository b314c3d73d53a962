"""The hyperparameters in a config: ``space`` (searched) and ``model`` (fixed), checked
against the built-in trainer's registry (its types and valid intervals are the rules), or
taken freely for a user's own objective; and a command's ``{placeholders}``."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from hpsearch.config import rules
from hpsearch.config.conditions import ConditionsParser
from hpsearch.errors import show, suggest
from hpsearch.space import (
    SCALES,
    ChoiceParam,
    NumericParam,
    Param,
    Space,
)
from hpsearch.trainer.registry import REGISTRY, Hyperparam, Interval

BUDGET_FIELDS = ("budget", "checkpoint_dir")  # placeholders of an early-stopping search


def takes_budget(command: str) -> bool:
    """Whether a command objective uses ``{budget}`` or ``{checkpoint_dir}``."""
    return any("{" + name + "}" in command for name in BUDGET_FIELDS)


def budget_placeholder_problem(
    command: str | None, early_stop: bool, full_budget: int | None
) -> str | None:
    """Without early stopping a command that takes ``{budget}`` is given the full epochs:
    why it cannot be (no epochs of full training known), or None."""
    if not command or early_stop or full_budget or not takes_budget(command):
        return None
    name = next(n for n in BUDGET_FIELDS if "{" + n + "}" in command)
    return (
        f"placeholder {{{name}}} needs the epochs of full training: set early_stop.max_epochs "
        "(or model.epochs), or an early_stop section"
    )


# Placeholders a command may use besides the parameters.
COMMAND_FIELDS = ("seed", "trial", "device", *BUDGET_FIELDS)
MAX_EXACT_INT = 2**53  # beyond it a float cannot hold every integer: sampling would skip some
_BETA_NAME = re.compile(r"(^|_)(beta\d*|momentum|rho)($|_)", re.IGNORECASE)


class ParamsParser(ConditionsParser):
    """The part of the parser that knows hyperparameters (``Parser`` brings ``fail``,
    ``check``, ``mapping``, ``known_keys``, ``lines`` and ``custom``)."""

    lines: Mapping[tuple, int]
    custom: bool

    def mapping(self, value: Any, path: tuple, what: str) -> dict:  # pragma: no cover
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


def _exact(checked: float, given: Any) -> float | int:
    """The bound as written (an int stays an int: 2**60 must not become a float first)."""
    return given if isinstance(given, int) else checked


def _free(name: str) -> Hyperparam:
    """A parameter of a user's objective: any name, any value, no range but the scale's."""
    return Hyperparam(name, "any", None, "", Interval())
