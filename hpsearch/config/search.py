"""The ``search:`` section: what ranks the trials (one metric and its direction, or several
metrics and constraints: ``hpsearch.goals``), how many, and how rounds pick them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hpsearch.config.rules import (
    _TOO_MANY,
    DIRECTIONS,
    PARAM_NAME,
    Broken,
    Integer,
    OneOf,
    Rule,
    Text,
    got,
)
from hpsearch.rounds import MAX_TRIALS

if TYPE_CHECKING:
    from hpsearch.results import Goal

# Besides the trainer's own metrics (hpsearch.trainer.registry): what a trial's record has
# (hpsearch.goals.measure) and the trainer's size, each with the direction it improves in.
EXTRA_METRICS = {"seconds": "minimize", "epochs": "minimize", "parameters": "minimize"}


@dataclass(frozen=True)
class Metrics:
    """``search.metrics``: two or more metric names, each ``maximize`` or ``minimize``."""

    def check(self, value: Any) -> tuple[tuple[str, str], ...]:
        if isinstance(value, tuple) and all(isinstance(p, tuple) and len(p) == 2 for p in value):
            value = dict(value)  # checked once already (the API's run, then start_run)
        if not isinstance(value, dict):
            raise Broken(
                "must be a mapping of metric: maximize | minimize, e.g. "
                f"{{val_accuracy: maximize, parameters: minimize}}, got {got(value)}"
            )
        if len(value) < 2:
            raise Broken(
                f"needs two or more metrics, got {len(value)}; for one, give search.metric "
                "(and search.direction) instead"
            )
        out = []
        for name, direction in value.items():
            if not isinstance(name, str) or not PARAM_NAME.match(name):
                raise Broken(f"a metric name is letters, digits and _, got {got(name)}")
            if direction not in DIRECTIONS:
                raise Broken(f"{name}: must be maximize or minimize, got {got(direction)}")
            out.append((name, direction))
        return tuple(out)


@dataclass(frozen=True)
class Constraints:
    """``search.constraints``: a list of ``METRIC OP NUMBER`` (``hpsearch.goals``)."""

    def check(self, value: Any) -> tuple[str, ...]:
        from hpsearch.goals import CONSTRAINT_FORM, Constraint

        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list):
            raise Broken(f"must be a list of {CONSTRAINT_FORM}, got {got(value)}")
        out = []
        for k, item in enumerate(items):
            try:
                out.append(str(Constraint.parse(item)))
            except ValueError as exc:
                where = f"item {k + 1}: " if len(items) > 1 else ""
                raise Broken(f"{where}{exc}") from None
        return tuple(out)


SEARCH: dict[str, Rule] = {
    "trials": Integer(low=1, wording="a positive integer", high=MAX_TRIALS, why=_TOO_MANY),
    "budget": Integer(low=1, wording="a positive integer", high=MAX_TRIALS, why=_TOO_MANY),
    "metric": Text("a metric name"),  # which names: the built-in trainer's, or any for others
    "direction": OneOf(DIRECTIONS),
    "guide": OneOf(("model", "random"), what="guide"),
    "metrics": Metrics(),
    "constraints": Constraints(),
    "warm_start": Text("a run (its directory, id or a prefix of it)"),
}


@dataclass(frozen=True)
class Duration:
    """``search.time_budget``: ``90s``, ``45m``, ``2h30m`` or seconds (``hpsearch.timebudget``)."""

    def check(self, value: Any) -> float:
        from hpsearch.timebudget import parse_duration

        try:
            return parse_duration(value)
        except ValueError as exc:
            raise Broken(str(exc)) from None


SEARCH["time_budget"] = Duration()


@dataclass(frozen=True)
class SearchConfig:
    trials: int = 40
    metric: str = "val_accuracy"  # with ``metrics``: the first of them
    direction: str = "maximize"
    # Evaluations in all, coarse run and zoom rounds together (hpsearch.schedule): sets
    # ``trials``, ``zoom.rounds`` and each round's trials. None: set them yourself.
    budget: int | None = None
    # Where a round after the first puts its trials inside its region: "model" (a model of
    # the trials so far picks them among random candidates, hpsearch.guidance) or "random"
    # (uniform draws, the course's plain coarse to fine).
    guide: str = "model"
    # A run whose trials the model starts from (``--warm-start``): a directory, id or prefix.
    warm_start: str | None = None
    # Several goals at once: (metric, direction) pairs, two or more; none: ``metric`` alone.
    metrics: tuple[tuple[str, str], ...] = ()
    constraints: tuple[str, ...] = ()  # "parameters <= 100000", checked by hpsearch.goals
    time_budget: float | None = None  # seconds each run or resume may start trials for

    @property
    def several(self) -> bool:
        """Ranked by a Pareto front or with constraints (``ParetoGoal``), not one metric."""
        return bool(self.metrics or self.constraints)

    @property
    def goal(self) -> Goal:
        """What ranks the trials: the metric and its direction, or the metrics' Pareto front
        and the constraints."""
        if self.several:
            from hpsearch.goals import goal_of

            return goal_of(self.metrics or ((self.metric, self.direction),), self.constraints)
        from hpsearch.results import Goal

        return Goal.of(self.metric, self.direction)

    def describe(self) -> str:
        """``maximize val_accuracy``; ``maximize val_accuracy, minimize parameters;
        parameters <= 20000`` (several goals and constraints)."""
        pairs = self.metrics or ((self.metric, self.direction),)
        words = ", ".join(f"{d} {m}" for m, d in pairs)
        return words + ("; " + ", ".join(self.constraints) if self.constraints else "")

    def to_dict(self) -> dict[str, Any]:
        """As config.yaml has it: budget and warm_start only when set, guide only when not
        the default, metrics and constraints only when given (then no metric/direction), so
        a run made before they existed keeps its config."""
        out: dict[str, Any] = {}
        for key, value in vars(self).items():
            if key in ("budget", "warm_start", "time_budget") and value is None:
                continue
            if (key == "guide" and value == "model") or (key == "constraints" and not value):
                continue
            if key == "metrics":
                if value:
                    out["metrics"] = dict(value)
                continue
            if key in ("metric", "direction") and self.metrics:
                continue
            out[key] = list(value) if key == "constraints" else value
        return out


def parse_search(parser: Any, value: Any) -> SearchConfig:
    """The section, checked (``parser``: ``hpsearch.config.parser.Parser``)."""
    from hpsearch import yamlio
    from hpsearch.config import rules
    from hpsearch.trainer.registry import METRICS

    path = ("search",)
    s = parser.section(value, path, "search settings", SEARCH, SearchConfig)
    section = parser.mapping(value, path, "search settings")
    if s["metrics"]:
        given = [k for k in ("metric", "direction") if k in section]
        if given:
            raise parser.fail(
                (*path, given[0]),
                "give either search.metrics (several) or search.metric and "
                "search.direction (one), not both",
            )
        s["metric"], s["direction"] = s["metrics"][0]
    named = [m for m, _ in s["metrics"]] or [s["metric"]]
    if parser.custom:  # a user's objective reports metrics of its own: any name, a direction
        metric = s["metric"]
        if not rules.PARAM_NAME.match(metric):
            raise parser.fail((*path, "metric"), f"must be a metric name, got {metric!r}")
        if "direction" not in section and not s["metrics"]:
            natural = {**METRICS, **EXTRA_METRICS}.get(metric)
            if natural is None:
                raise parser.fail(
                    (*path, "direction"), f"required for metric '{metric}': maximize or minimize"
                )
            s["direction"] = natural
        return SearchConfig(**s)
    known = {**METRICS, "parameters": "minimize", "seconds": "minimize", "epochs": "minimize"}
    for k, name in enumerate(named):
        where = (*path, "metrics") if s["metrics"] else (*path, "metric")
        parser.check(rules.OneOf(list(known)), name, where)
        direction = s["metrics"][k][1] if s["metrics"] else section.get("direction", known[name])
        if direction != known[name]:
            fix = "or leave direction out"
            if s["metrics"]:
                fix = f"write {name}: {known[name]}"
            elif (*path, "metric") in parser.origins and (*path, "direction") not in parser.origins:
                # A --set metric against the file's direction, which cannot be left out here.
                fix = f"add --set {yamlio.dotted((*path, 'direction'))}={known[name]}"
            raise parser.fail(
                where if s["metrics"] else (*path, "direction"),
                f"'{direction}' would rank the worst {name} first; {name} is to {known[name]} "
                f"({fix})",
            )
    for k, text in enumerate(s["constraints"]):  # a typo would make every trial infeasible
        bounded = text.split()[0]
        if bounded not in known:
            item = f"item {k + 1}: " if len(s["constraints"]) > 1 else ""
            raise parser.fail(
                (*path, "constraints"),
                f"{item}the built-in trainer reports no metric '{bounded}'; one of "
                f"{', '.join(sorted(known))}",
            )
    if not s["metrics"]:
        s["direction"] = section.get("direction", known[s["metric"]])
    return SearchConfig(**s)


def with_goals(
    config: Any, metrics: Any = None, constraints: Any = None, *, flag: str = "metrics"
) -> Any:
    """``config`` ranked by ``metrics`` (a mapping of metric: maximize | minimize) and
    ``constraints`` instead of its own (``hpsearch.run(metrics=…)``), checked as the file's
    keys are; a config is given back unchanged when both are None."""
    if metrics is None and constraints is None:
        return config
    from hpsearch.config import parse_config

    data = config.to_dict(absolute_paths=True)
    search = dict(data["search"])
    if metrics is not None:
        search = {k: v for k, v in search.items() if k not in ("metric", "direction")}
        search["metrics"] = dict(metrics) if isinstance(metrics, dict) else metrics
    if constraints is not None:
        search["constraints"] = constraints
    data["search"] = search
    return parse_config(
        data, filename=config.source or "<config>", default_name=config.name, origins={}
    )
