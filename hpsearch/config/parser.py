"""Walking the parsed YAML: each section checked against its table of rules, the first problem
raised as one ``ConfigError`` with file, line and key path."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from hpsearch import yamlio
from hpsearch.config import rules
from hpsearch.config.model import (
    Config,
    EarlyStopConfig,
    ObjectiveConfig,
    RunConfig,
    SearchConfig,
    ZoomConfig,
)
from hpsearch.config.overrides import blame
from hpsearch.config.params import ParamsParser, budget_placeholder_problem
from hpsearch.config.rules import Broken, Rule
from hpsearch.data.sources import (
    BLOBS_FEATURES,
    DATA_KEYS,
    DATA_SOURCES,
    FILE_SUFFIXES,
    DataConfig,
)
from hpsearch.errors import ConfigError, show, suggest

SECTIONS = (
    "name",
    "seed",
    "objective",
    "data",
    "model",
    "space",
    "search",
    "early_stop",
    "zoom",
    "run",
)
OBJECTIVE_KINDS = ("python", "command")
_UNSET = object()


class Parser(ParamsParser):
    """Knows where each key was written (``lines``); raises the first problem it finds."""

    def __init__(
        self, filename: str, lines: Mapping[tuple, int], origins: Mapping[tuple, str] | None = None
    ) -> None:
        self.filename = filename
        self.lines = lines
        self.origins = dict(origins or {})  # key paths a --set wrote
        self.custom = False  # a Python or command objective: any parameter names and values

    # -- the generic routine -------------------------------------------------------------------

    def fail(self, path: tuple, message: str) -> ConfigError:
        blamed = blame(self.origins, path, message) if self.origins else None
        if blamed is not None:
            return blamed
        line = None
        for cut in range(len(path), -1, -1):
            line = self.lines.get(path[:cut])
            if line is not None:
                break
        return ConfigError(message, file=self.filename, line=line, key=yamlio.dotted(path) or None)

    def check(self, rule: Rule, value: Any, path: tuple) -> Any:
        try:
            return rule.check(value)
        except Broken as broken:
            raise self.fail(path, str(broken)) from None

    def mapping(self, value: Any, path: tuple, what: str) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(path, f"must be a mapping of {what}, got {show(value)}")
        for key in value:
            if not isinstance(key, str):
                raise self.fail(path, f"keys must be names, got {show(key)}")
        return value

    def known_keys(self, value: Mapping, path: tuple, allowed: Iterable[str]) -> None:
        allowed = list(allowed)
        for key in value:
            if key not in allowed:
                raise self.fail((*path, key), f"unknown key '{key}'{suggest(key, allowed)}")

    def section(
        self, value: Any, path: tuple, what: str, table: Mapping[str, Rule], defaults: Any
    ) -> dict[str, Any]:
        """A section checked against its table: only its keys, each value by its rule; a key
        left out takes its default, and an optional key (default None) may be null."""
        section = self.mapping(value, path, what)
        self.known_keys(section, path, table)
        out = {}
        for key, rule in table.items():
            default = getattr(defaults, key, None)
            item = section.get(key, _UNSET)
            if item is _UNSET or (item is None and default is None):
                out[key] = default
            else:
                out[key] = self.check(rule, item, (*path, key))
        return out

    # -- the config --------------------------------------------------------------------------

    def config(self, data: Any, default_name: str) -> Config:
        if data is None:
            raise self.fail((), "the file is empty; expected a mapping with at least a 'space'")
        if not isinstance(data, dict):
            raise self.fail(
                (),
                f"the top level must be a mapping of sections ({', '.join(SECTIONS)}), "
                f"got {show(data)}",
            )
        self.known_keys(data, (), SECTIONS)
        if "space" not in data:
            raise self.fail(
                (),
                "missing section 'space': name at least one hyperparameter "
                "to search, e.g. learning_rate: {scale: log, min: 1.0e-4, max: 1.0}",
            )
        objective = self.objective(data.get("objective"))
        self.custom = not objective.is_builtin
        if self.custom and data.get("data") is not None:
            raise self.fail(
                ("data",),
                f"does not apply to a {objective.kind} objective: it gets its data itself",
            )
        space = self.space(data["space"])
        model = self.model(data.get("model"), space)
        if objective.command is not None:
            self.placeholders(objective.command, space, model)
        config = Config(
            hints=tuple(self.scale_hints(space)),
            name=self.check(rules.NAME, data.get("name", _safe_name(default_name)), ("name",)),
            seed=self.check(rules.SEED, data.get("seed", 0), ("seed",)),
            data=self.data(None if self.custom else data.get("data")),
            model=MappingProxyType(model),
            space=space,
            search=self.search(data.get("search")),
            zoom=ZoomConfig(
                **self.section(data.get("zoom"), ("zoom",), "zoom settings", rules.ZOOM, ZoomConfig)
            ),
            run=self.run(data.get("run")),
            source=self.filename,
            objective=objective,
            early_stop=self.early_stop(data.get("early_stop")),
        )
        config = self.budgeted(config, data.get("search"), data.get("zoom"))
        found = rules.early_stop_problem(config)
        if found is not None:
            raise self.fail(("early_stop", found[0]), found[1])
        on, full = config.early_stop.on, config.full_budget
        problem = budget_placeholder_problem(objective.command, on, full)
        if problem:
            raise self.fail(("objective", "command"), problem)
        return config

    def budgeted(self, config: Config, section: Any, zoom: Any) -> Config:
        """A budget sets the trials of the coarse run and the rounds; ``search.trials``,
        ``zoom.rounds`` or ``zoom.trials`` written beside it (a run's config.yaml has them)
        must be the schedule's."""
        from hpsearch.config.model import with_budget
        from hpsearch.schedule import schedule

        budget = config.search.budget
        if budget is None:
            return config
        section, zoom = (x if isinstance(x, dict) else {} for x in (section, zoom))
        plan, plain = schedule(budget, config.round_size), schedule(budget)
        if [section.get("trials"), zoom.get("rounds")] == [plain.coarse, len(plain.rounds)]:
            plan = plain  # a run made when a budget's rounds under early stopping were small
        coarse = plan.coarse
        if isinstance(section, dict) and "trials" in section and section["trials"] != coarse:
            raise self.fail(
                ("search", "trials"),
                f"search.budget {budget} sets the trials itself ({coarse} coarse); "
                "leave search.trials out, or drop the budget",
            )
        budgeted = with_budget(config, budget, plan)
        defaults = ZoomConfig()
        for key in ("top", "margin"):  # given, and not the default a run's config.yaml holds
            if isinstance(zoom, dict) and key in zoom and zoom[key] != getattr(defaults, key):
                hint = self.fail(
                    ("zoom", key),
                    f"hint: zoom.{key} shapes zoom rounds (--rounds, hpsearch zoom); a "
                    "budget's rounds use their own settings (docs/benchmarks.md)",
                )
                budgeted = dataclasses.replace(budgeted, hints=(*budgeted.hints, str(hint)))
        for key in ("rounds", "trials"):
            derived = getattr(budgeted.zoom, key)
            if isinstance(zoom, dict) and key in zoom and zoom[key] != derived:
                raise self.fail(
                    ("zoom", key),
                    f"search.budget {budget} sets zoom.{key} itself ({derived}); leave "
                    f"zoom.{key} out, or drop the budget",
                )
        return budgeted

    def early_stop(self, value: Any) -> EarlyStopConfig:
        path = ("early_stop",)
        s = self.section(value, path, "early-stopping settings", rules.EARLY_STOP, EarlyStopConfig)
        if s["method"] is None and value:
            raise self.fail((*path, "method"), "required: halving or hyperband")
        if s["method"] == "none":  # written to switch it off, keeping the other settings
            s["method"] = None
        return EarlyStopConfig(**s)

    def objective(self, value: Any) -> ObjectiveConfig:
        path = ("objective",)
        section = self.mapping(value, path, "objective settings")
        self.known_keys(section, path, rules.OBJECTIVE)
        kinds = [k for k in OBJECTIVE_KINDS if k in section]
        if len(kinds) > 1:
            raise self.fail(path, "give either python or command, not both")
        if not kinds:
            if section:
                raise self.fail(
                    path,
                    'needs python: "module:function" or command: '
                    '"... {param} ..." (leave objective out for the built-in '
                    "trainer)",
                )
            return ObjectiveConfig()
        kind = kinds[0]
        spec = self.check(rules.OBJECTIVE[kind], section[kind], (*path, kind))
        fields = self.section(
            {k: v for k, v in section.items() if k not in OBJECTIVE_KINDS},
            path,
            "objective settings",
            {k: rules.OBJECTIVE[k] for k in ("timeout", "workdir")},
            ObjectiveConfig,
        )
        return ObjectiveConfig(kind, **{kind: spec}, **fields)

    def data(self, value: Any) -> DataConfig:
        path = ("data",)
        section = self.mapping(value, path, "data settings")
        self.known_keys(section, path, DataConfig.__dataclass_fields__)
        origin = ""
        if "source" in section:
            source = self.check(rules.OneOf(DATA_SOURCES), section["source"], (*path, "source"))
        elif "path" in section:
            source = self.source_of(
                self.check(rules.DATA["path"], section["path"], (*path, "path"))
            )
            origin = " (from the extension of data.path)"
        else:
            source = DataConfig.source
        applies = DATA_KEYS[source]
        for key in section:
            if key != "source" and key not in applies:
                raise self.fail(
                    (*path, key),
                    f"does not apply to source '{source}'{origin}; it takes {', '.join(applies)}",
                )
        if "val_path" in section and "val_fraction" in section:
            raise self.fail(
                (*path, "val_fraction"),
                "does not apply when val_path is given: that file is the validation set",
            )
        table = {k: rules.DATA[k] for k in applies if k in rules.DATA}
        defaults = DataConfig(features=BLOBS_FEATURES if source == "blobs" else None)
        d = self.section(  # the source and a csv's target are checked on their own
            {k: v for k, v in section.items() if k not in ("source", "target")},
            path,
            "data settings",
            table,
            defaults,
        )
        if d.get("val_path") is not None:
            d["val_fraction"] = None
        if source in ("csv", "npz"):
            return self.data_file(section, source, d)
        # Only the keys that apply to the source; the others are None.
        data = DataConfig(source, **{**dict.fromkeys(("classes", "samples", "noise")), **d})
        if source != "digits":
            samples, fraction, classes = data.samples, data.val_fraction, data.classes
            assert samples is not None and fraction is not None and classes is not None
            if samples * fraction < classes or samples * (1 - fraction) < classes:
                raise self.fail(
                    (*path, "samples"),
                    f"{samples} samples with val_fraction "
                    f"{fraction} leave fewer examples than the {classes} classes in "
                    "one split; use more samples",
                )
        return data

    def data_file(self, section: Mapping, source: str, d: dict[str, Any]) -> DataConfig:
        path = ("data",)
        if "path" not in section:
            raise self.fail(
                (*path, "path"),
                f"required for source '{source}': the .{source} file, "
                "relative to the config file's directory",
            )
        val_path = d.get("val_path")
        if val_path is not None:
            other = FILE_SUFFIXES.get(Path(val_path).suffix.lower(), source)
            if other != source:
                raise self.fail(
                    (*path, "val_path"),
                    f"must be a .{source} file like data.path, got '{val_path}'",
                )
        target = None
        if source == "csv":
            if "target" not in section:
                raise self.fail(
                    (*path, "target"),
                    "required for source 'csv': the name of the label column in the header row",
                )
            target = section["target"]
            if not isinstance(target, str) or not target:
                hint = "; quote it if the column is named so" if rules.is_number(target) else ""
                raise self.fail(
                    (*path, "target"), f"must be a column name, got {show(target)}{hint}"
                )
        return DataConfig(
            source,
            None,
            None,
            None,
            None,
            d["val_fraction"],
            path=d["path"],
            target=target,
            val_path=val_path,
            seed=d["seed"],
        )

    def source_of(self, file: str) -> str:
        suffix = Path(file).suffix.lower()
        if suffix not in FILE_SUFFIXES:
            raise self.fail(
                ("data", "path"),
                f"cannot tell the format of '{file}' from its extension; name a "
                f"{' or '.join(FILE_SUFFIXES)} file, or set data.source to "
                f"{' or '.join(FILE_SUFFIXES.values())}",
            )
        return FILE_SUFFIXES[suffix]

    def search(self, value: Any) -> SearchConfig:
        from hpsearch.config.search import parse_search

        return parse_search(self, value)

    def zoom(self, value: Any) -> ZoomConfig:
        return ZoomConfig(**self.section(value, ("zoom",), "zoom settings", rules.ZOOM, ZoomConfig))

    def run(self, value: Any) -> RunConfig:
        from hpsearch.config.cluster import RUN_RULES, check_run_section

        table = {**rules.run_rules(), **RUN_RULES}
        r = self.section(value, ("run",), "run settings", table, RunConfig)
        check_run_section(self, r)
        if r["joblib_backend"] is not None and r["backend"] != "joblib":
            raise self.fail(
                ("run", "joblib_backend"),
                f"applies to backend joblib only (backend is {r['backend']}); set "
                "run.backend: joblib, or leave joblib_backend out",
            )
        if r["devices"] is not None and r["backend"] == "joblib":
            raise self.fail(
                ("run", "devices"),
                "joblib does not say which worker runs a trial, so devices cannot be shared "
                "out: use backend processes, threading or dask",
            )
        r["per_device"] = 1 if r["per_device"] is None else r["per_device"]
        # jobs and per_device against the devices: checked once the flags are in (--devices
        # may supply what the file lacks), by Config.with_overrides.
        return RunConfig(**r)


def _safe_name(stem: str) -> str:
    import re

    name = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._")[:64]
    return name or "search"
