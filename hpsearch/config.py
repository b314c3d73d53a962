"""Config files: YAML in, a validated frozen ``Config`` out, or one clear ``ConfigError``.

This module owns every message about a config file. Each names the file, the line, the key
path, the rule and the value found::

    quickstart.yaml:7: space.learning_rate.min: must be > 0 for scale 'log', got 0

Everything downstream trusts a ``Config``.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from hpsearch import yamlio
from hpsearch.errors import ConfigError
from hpsearch.space import SCALES, ChoiceParam, NumericParam, Param, Space
from hpsearch.trainer.registry import METRICS, REGISTRY, Hyperparam, Interval

SECTIONS = ("name", "seed", "objective", "data", "model", "space", "search", "zoom", "run")
OBJECTIVE_KINDS = ("python", "command")
COMMAND_FIELDS = ("seed", "trial")  # placeholders a command may use besides the parameters
MAX_EXACT_INT = 2**53  # beyond it a float cannot hold every integer: sampling would skip some

DIRECTIONS = ("maximize", "minimize")
BACKENDS = ("processes", "threading", "sequential", "dask", "loky")  # loky: processes' old name
DATA_SOURCES = ("spirals", "blobs", "digits", "csv", "npz")
# The data keys each source takes besides ``source``; any other is an error.
DATA_KEYS = {
    "spirals": ("classes", "samples", "noise", "val_fraction", "seed"),
    "blobs": ("classes", "samples", "features", "noise", "val_fraction", "seed"),
    "digits": ("val_fraction", "seed"),
    "csv": ("path", "target", "val_path", "val_fraction", "seed"),
    "npz": ("path", "val_path", "val_fraction", "seed"),
}
FILE_SUFFIXES = {".csv": "csv", ".npz": "npz"}  # a path's extension -> its source
BLOBS_FEATURES = 2  # data.features when a blobs section leaves it out

if TYPE_CHECKING:
    from hpsearch.results import Goal

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_BETA_NAME = re.compile(r"(^|_)(beta\d*|momentum|rho)($|_)", re.IGNORECASE)
_PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PYTHON_SPEC = re.compile(
    r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$"
)


@dataclass(frozen=True)
class DataConfig:
    """The ``data`` section. A field is None when it does not apply to the source."""

    source: str = "spirals"
    classes: int | None = 4  # spirals, blobs
    samples: int | None = 2000  # spirals, blobs
    features: int | None = None  # blobs only (BLOBS_FEATURES when not given)
    noise: float | None = 0.2  # spirals, blobs
    val_fraction: float | None = 0.2  # None when val_path gives the validation set
    path: str | None = None  # csv, npz: as written; relative to the config file's directory
    target: str | None = None  # csv: the label column
    val_path: str | None = None  # csv, npz: a validation file in the same format
    seed: int | None = None  # generation and split; None: the config's seed


@dataclass(frozen=True)
class ObjectiveConfig:
    """What a trial runs: the built-in trainer, a Python callable or a shell command."""

    kind: str = "trainer"  # "trainer" | "python" | "command"
    python: str | None = None  # "package.module:function"
    command: str | None = None  # "python train.py --lr {learning_rate}"
    timeout: float | None = None  # seconds; overrides run.trial_timeout
    workdir: str | None = None  # importable / working directory; default: the config's

    @property
    def is_builtin(self) -> bool:
        return self.kind == "trainer"


@dataclass(frozen=True)
class SearchConfig:
    trials: int = 40
    metric: str = "val_accuracy"
    direction: str = "maximize"

    @property
    def goal(self) -> Goal:
        """The metric and the direction it improves in: what ranks the trials."""
        from hpsearch.results import Goal

        return Goal.of(self.metric, self.direction)


@dataclass(frozen=True)
class ZoomConfig:
    # Defaults from bench/search_quality.py (docs/benchmarks.md): zooming around the single
    # best trial, widened by 0.35 of the parent's range on each side, beat hulls of the top
    # 2-5 and top fractions on Hartmann6 and Branin at every budget.
    top: int = 1
    margin: float = 0.35
    trials: int = 20
    rounds: int = 0


@dataclass(frozen=True)
class RunConfig:
    jobs: int = -1  # -1: every core
    backend: str = "processes"
    runs_dir: str = "runs"  # relative paths are relative to the working directory
    trial_timeout: float | None = None  # seconds one trial may take before it is `timeout`
    scheduler: str | None = None  # dask: "tcp://host:8786"; none: a local cluster


@dataclass(frozen=True)
class Config:
    name: str
    seed: int
    data: DataConfig
    model: Mapping[str, Any]  # fixed trainer settings, as given (read-only)
    space: Space
    search: SearchConfig
    zoom: ZoomConfig
    run: RunConfig
    source: str | None = field(default=None, compare=False)  # file it was read from
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    # Advice that is not an error (a β searched on a linear scale), located like an error.
    hints: tuple[str, ...] = field(default=(), compare=False)

    @property
    def workdir(self) -> Path:
        """Where a Python objective is imported from and a command runs."""
        if self.objective.workdir:
            return (self.base_dir / self.objective.workdir).resolve()
        return self.base_dir.resolve()

    @property
    def trial_timeout(self) -> float | None:
        return (
            self.objective.timeout if self.objective.timeout is not None else self.run.trial_timeout
        )

    @property
    def data_seed(self) -> int:
        """The seed of the data (generation, split): ``data.seed``, else the config's seed.
        Zoom rounds change the config's seed (new trials) but keep this one (same data)."""
        return self.data.seed if self.data.seed is not None else self.seed

    @property
    def base_dir(self) -> Path:
        """The config file's directory: relative data paths are read from here."""
        return Path(self.source).parent if self.source else Path(".")

    def with_overrides(
        self,
        *,
        name: str | None = None,
        seed: int | None = None,
        trials: int | None = None,
        jobs: int | None = None,
        backend: str | None = None,
        scheduler: str | None = None,
        runs_dir: str | Path | None = None,
    ) -> Config:
        """This config with settings given on the command line or to the API in place of its
        own (None: keep the config's), each checked by the rule the file's value obeys. A
        backend other than dask drops the config's scheduler; a scheduler needs dask."""
        import dataclasses

        for key, value, problem in (
            ("--name", name, name_problem),
            ("--seed", seed, lambda v: count_problem(v, 0)),
            ("--trials", trials, lambda v: count_problem(v, 1)),
            ("--jobs", jobs, jobs_problem),
            ("--backend", backend, backend_problem),
        ):
            message = None if value is None else problem(value)
            if message:
                raise ConfigError(message, key=key)
        run = dataclasses.replace(
            self.run,
            jobs=jobs if jobs is not None else self.run.jobs,
            backend=backend or self.run.backend,
            runs_dir=str(runs_dir) if runs_dir is not None else self.run.runs_dir,
            scheduler=scheduler
            or (self.run.scheduler if not backend or backend == "dask" else None),
        )
        if scheduler is not None and run.backend != "dask":
            raise ConfigError(
                f"--scheduler applies to the dask backend only; this run's backend is "
                f"'{run.backend}' (add --backend dask)"
            )
        return dataclasses.replace(
            self,
            name=name if name is not None else self.name,
            seed=seed if seed is not None else self.seed,
            search=dataclasses.replace(self.search, trials=trials or self.search.trials),
            run=run,
        )

    def resolved_model(self) -> dict[str, Any]:
        """Fixed settings with every unsearched registry default filled in (for the built-in
        trainer; a Python or command objective gets exactly what ``model`` says)."""
        if not self.objective.is_builtin:
            return dict(self.model)
        fixed = {n: h.default for n, h in REGISTRY.items() if n not in self.space}
        fixed.update(self.model)
        return fixed

    def to_dict(self, absolute_paths: bool = False) -> dict[str, Any]:
        """The resolved config as plain data; loading it back gives an equal Config.

        With ``absolute_paths``, data files are named by absolute path, so the copy can live
        in another directory (a run's ``config.yaml``).
        """
        data = {k: v for k, v in _fields(self.data).items() if v is not None}
        if absolute_paths:
            for key in ("path", "val_path"):
                if key in data:
                    data[key] = str((self.base_dir / data[key]).resolve())
        out: dict[str, Any] = {"name": self.name, "seed": self.seed}
        if not self.objective.is_builtin:
            objective = {
                k: v for k, v in _fields(self.objective).items() if v is not None and k != "kind"
            }
            if absolute_paths:
                objective["workdir"] = str(self.workdir)
            out["objective"] = objective
        else:
            out["data"] = data
        return {
            **out,
            "model": self.resolved_model(),
            "space": self.space.to_dict(),
            "search": _fields(self.search),
            "zoom": _fields(self.zoom),
            "run": _fields(self.run),
        }


def _fields(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__dataclass_fields__}


def load_config(path: str | Path) -> Config:
    """Read and validate a config file. Raises ConfigError with file, line and key."""
    filename = str(path)
    text = _read_text(Path(path), filename)
    data, lines = yamlio.load(text, filename)
    return parse_config(data, filename=filename, lines=lines, default_name=Path(path).stem)


def parse_config(
    data: Any,
    *,
    filename: str = "<config>",
    lines: Mapping[tuple, int] | None = None,
    default_name: str = "search",
) -> Config:
    """Validate already-parsed YAML data (``lines`` maps key paths to line numbers)."""
    return _Parser(filename, lines or {}).config(data, default_name)


def _read_text(path: Path, filename: str) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError("file not found", file=filename) from None
    except IsADirectoryError:
        raise ConfigError("is a directory, expected a YAML config file", file=filename) from None
    except PermissionError:
        raise ConfigError("cannot read the file: permission denied", file=filename) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the file: {exc.strerror or exc}", file=filename) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"is not UTF-8 text (byte {exc.start}); expected a YAML config file", file=filename
        ) from None


def suggest(word: str, options: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` or a list of the options, for an unknown name."""
    options = list(options)
    close = difflib.get_close_matches(str(word), options, n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    return f"; expected one of: {', '.join(options)}"


def show(value: Any) -> str:
    """A value as the user would recognise it in a message."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"'{value}' (a string)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class _Parser:
    """Walks the parsed YAML, knows where each key was written, raises the first problem."""

    def __init__(self, filename: str, lines: Mapping[tuple, int]) -> None:
        self.filename = filename
        self.lines = lines
        self.custom = False  # a Python or command objective: any parameter names and values

    # -- reporting -------------------------------------------------------------------------

    def fail(self, path: tuple, message: str) -> ConfigError:
        line = None
        for cut in range(len(path), -1, -1):
            line = self.lines.get(path[:cut])
            if line is not None:
                break
        return ConfigError(message, file=self.filename, line=line, key=yamlio.dotted(path) or None)

    # -- generic checks --------------------------------------------------------------------

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

    def integer(self, value: Any, path: tuple, low: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(path, f"must be an integer, got {self._got(value)}")
        if low is not None and value < low:
            raise self.fail(path, f"must be >= {low}, got {value}")
        return value

    def number(self, value: Any, path: tuple) -> float:
        if not _is_number(value):
            raise self.fail(path, f"must be a number, got {self._got(value)}")
        if not math.isfinite(value):
            raise self.fail(path, f"must be a finite number, got {value}")
        return value

    def one_of(self, value: Any, path: tuple, options: Iterable[str]) -> str:
        options = list(options)
        if not isinstance(value, str) or value not in options:
            hint = (
                suggest(value, options)
                if isinstance(value, str)
                else (f"; expected one of: {', '.join(options)}")
            )
            raise self.fail(path, f"unknown value {show(value)}{hint}")
        return value

    def _got(self, value: Any) -> str:
        if isinstance(value, str) and _looks_numeric(value):
            return f"'{value}' (a string; write the number without quotes)"
        return show(value)

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
        return Config(
            hints=tuple(self.scale_hints(space)),
            name=self.name(data.get("name", _safe_name(default_name))),
            seed=self.integer(data.get("seed", 0), ("seed",), low=0),
            data=self.data(None if self.custom else data.get("data")),
            model=MappingProxyType(model),
            space=space,
            search=self.search(data.get("search")),
            zoom=self.zoom(data.get("zoom")),
            run=self.run(data.get("run")),
            source=self.filename,
            objective=objective,
        )

    def objective(self, value: Any) -> ObjectiveConfig:
        path = ("objective",)
        section = self.mapping(value, path, "objective settings")
        self.known_keys(section, path, ["python", "command", "timeout", "workdir"])
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
        spec = section[kind]
        if not isinstance(spec, str) or not spec.strip():
            raise self.fail((*path, kind), f"must be a non-empty string, got {show(spec)}")
        if kind == "python" and not _PYTHON_SPEC.match(spec.strip()):
            raise self.fail((*path, kind), f"must be \"package.module:function\", got '{spec}'")
        timeout = section.get("timeout")
        if timeout is not None:
            timeout = float(self.number(timeout, (*path, "timeout")))
            if timeout <= 0:
                raise self.fail((*path, "timeout"), f"must be > 0 seconds, got {timeout}")
        workdir = section.get("workdir")
        if workdir is not None and (not isinstance(workdir, str) or not workdir.strip()):
            raise self.fail((*path, "workdir"), f"must be a directory path, got {show(workdir)}")
        return ObjectiveConfig(
            kind,
            python=spec.strip() if kind == "python" else None,
            command=spec if kind == "command" else None,
            timeout=timeout,
            workdir=workdir,
        )

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
            if name and not _PARAM_NAME.match(name):
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
        from hpsearch.shell import misplaced

        for name, place in misplaced((text, f) for text, f, _, _ in parsed):
            raise self.fail(
                where,
                f"placeholder {{{name}}} stands {place}: hpsearch quotes every value itself, "
                f"and quoted again a value could run as code; write it bare, e.g. --x {{{name}}}",
            )

    def name(self, value: Any) -> str:
        if not isinstance(value, str) or not _NAME.match(value):
            raise self.fail(
                ("name",),
                "must be 1-64 letters, digits, '.', '_' or '-', "
                f"starting with a letter or digit, got {show(value)}",
            )
        return value

    def data(self, value: Any) -> DataConfig:
        import dataclasses

        data = self._data(value)
        seed = self.mapping(value, ("data",), "data settings").get("seed")
        if seed is not None:
            seed = self.integer(seed, ("data", "seed"), low=0)
        return dataclasses.replace(data, seed=seed)

    def _data(self, value: Any) -> DataConfig:
        path = ("data",)
        section = self.mapping(value, path, "data settings")
        self.known_keys(section, path, DataConfig.__dataclass_fields__)
        d = DataConfig()
        origin = ""
        if "source" in section:
            source = self.one_of(section["source"], (*path, "source"), DATA_SOURCES)
        elif "path" in section:
            source = self.source_of(self.file_path(section["path"], (*path, "path")))
            origin = " (from the extension of data.path)"
        else:
            source = d.source
        applies = DATA_KEYS[source]
        for key in section:
            if key != "source" and key not in applies:
                raise self.fail(
                    (*path, key),
                    f"does not apply to source '{source}'{origin}; it takes {', '.join(applies)}",
                )
        val_path = None
        if "val_path" in section:
            val_path = self.file_path(section["val_path"], (*path, "val_path"))
            if "val_fraction" in section:
                raise self.fail(
                    (*path, "val_fraction"),
                    "does not apply when val_path is given: that file is the validation set",
                )
        fraction = None
        if val_path is None:
            where = (*path, "val_fraction")
            fraction = float(self.number(section.get("val_fraction", d.val_fraction), where))
            if not 0 < fraction < 1:
                raise self.fail(where, f"must be between 0 and 1, got {fraction}")

        if source in ("csv", "npz"):
            return self.data_file(section, source, fraction, val_path)
        if source == "digits":
            return DataConfig(source, None, None, None, None, val_fraction=fraction)
        assert fraction is not None  # generated sets never take a val_path
        classes = self.integer(section.get("classes", d.classes), (*path, "classes"), low=2)
        samples = self.integer(section.get("samples", d.samples), (*path, "samples"), low=10)
        features = None
        if source == "blobs":
            where = (*path, "features")
            features = self.integer(section.get("features", BLOBS_FEATURES), where, low=1)
        noise = self.number(section.get("noise", d.noise), (*path, "noise"))
        if noise < 0:
            raise self.fail((*path, "noise"), f"must be >= 0, got {noise}")
        if samples * fraction < classes or samples * (1 - fraction) < classes:
            raise self.fail(
                (*path, "samples"),
                f"{samples} samples with val_fraction "
                f"{fraction} leave fewer examples than the {classes} classes in "
                "one split; use more samples",
            )
        return DataConfig(source, classes, samples, features, float(noise), fraction)

    def data_file(
        self, section: Mapping, source: str, fraction: float | None, val_path: str | None
    ) -> DataConfig:
        path = ("data",)
        if "path" not in section:
            raise self.fail(
                (*path, "path"),
                f"required for source '{source}': the .{source} file, "
                "relative to the config file's directory",
            )
        file = self.file_path(section["path"], (*path, "path"))
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
                hint = "; quote it if the column is named so" if _is_number(target) else ""
                raise self.fail(
                    (*path, "target"), f"must be a column name, got {show(target)}{hint}"
                )
        return DataConfig(
            source, None, None, None, None, fraction, path=file, target=target, val_path=val_path
        )

    def file_path(self, value: Any, path: tuple) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, f"must be a file path, got {show(value)}")
        return value

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
        path = ("search",)
        section = self.mapping(value, path, "search settings")
        self.known_keys(section, path, SearchConfig.__dataclass_fields__)
        trials = section.get("trials", SearchConfig.trials)
        if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
            raise self.fail(
                (*path, "trials"), f"must be a positive integer, got {self._got(trials)}"
            )
        if self.custom:
            return self.custom_search(section, trials)
        metric = self.one_of(section.get("metric", SearchConfig.metric), (*path, "metric"), METRICS)
        natural = METRICS[metric]
        direction = self.one_of(section.get("direction", natural), (*path, "direction"), DIRECTIONS)
        if direction != natural:
            raise self.fail(
                (*path, "direction"),
                f"'{direction}' would rank the worst "
                f"{metric} first; {metric} is to {natural} (or leave direction out)",
            )
        return SearchConfig(trials, metric, direction)

    def custom_search(self, section: Mapping, trials: int) -> SearchConfig:
        """A user's objective reports metrics of its own: any name, and a direction."""
        path = ("search",)
        metric = section.get("metric", SearchConfig.metric)
        if not isinstance(metric, str) or not _PARAM_NAME.match(metric):
            raise self.fail((*path, "metric"), f"must be a metric name, got {show(metric)}")
        if "direction" in section:
            direction = self.one_of(section["direction"], (*path, "direction"), DIRECTIONS)
        elif metric in METRICS:
            direction = METRICS[metric]
        else:
            raise self.fail(
                (*path, "direction"), f"required for metric '{metric}': maximize or minimize"
            )
        return SearchConfig(trials, metric, direction)

    def zoom(self, value: Any) -> ZoomConfig:
        path = ("zoom",)
        section = self.mapping(value, path, "zoom settings")
        self.known_keys(section, path, ZoomConfig.__dataclass_fields__)
        z = ZoomConfig()
        top = self.integer(section.get("top", z.top), (*path, "top"), low=1)
        margin = self.number(section.get("margin", z.margin), (*path, "margin"))
        if margin < 0:
            raise self.fail((*path, "margin"), f"must be >= 0, got {margin}")
        trials = self.integer(section.get("trials", z.trials), (*path, "trials"), low=1)
        rounds = self.integer(section.get("rounds", z.rounds), (*path, "rounds"), low=0)
        return ZoomConfig(top, float(margin), trials, rounds)

    def run(self, value: Any) -> RunConfig:
        path = ("run",)
        section = self.mapping(value, path, "run settings")
        self.known_keys(section, path, RunConfig.__dataclass_fields__)
        r = RunConfig()
        jobs = section.get("jobs", r.jobs)
        if isinstance(jobs, bool) or not isinstance(jobs, int) or not (jobs == -1 or jobs >= 1):
            raise self.fail(
                (*path, "jobs"),
                f"must be -1 (every core) or a positive integer, got {self._got(jobs)}",
            )
        backend = self.one_of(section.get("backend", r.backend), (*path, "backend"), BACKENDS)
        runs_dir = section.get("runs_dir", r.runs_dir)
        if not isinstance(runs_dir, str) or not runs_dir.strip():
            raise self.fail((*path, "runs_dir"), f"must be a directory path, got {show(runs_dir)}")
        timeout = section.get("trial_timeout")
        if timeout is not None:
            timeout = self.number(timeout, (*path, "trial_timeout"))
            if timeout <= 0:
                raise self.fail((*path, "trial_timeout"), f"must be > 0 seconds, got {timeout}")
            timeout = float(timeout)
        scheduler = section.get("scheduler")
        if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
            raise self.fail(
                (*path, "scheduler"),
                f"must be a scheduler address such as 'tcp://10.0.0.5:8786', got {show(scheduler)}",
            )
        if scheduler is not None and backend != "dask":
            raise self.fail(
                (*path, "scheduler"), f"applies to backend 'dask' only, not '{backend}'"
            )
        return RunConfig(jobs, backend, runs_dir, timeout, scheduler)

    # -- hyperparameters ----------------------------------------------------------------------

    def model(self, value: Any, space: Space) -> dict[str, Any]:
        path = ("model",)
        section = self.mapping(value, path, "fixed trainer settings")
        fixed = {}
        for key, item in section.items():
            where = (*path, key)
            if self.custom:
                if not _PARAM_NAME.match(key):
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
            return self.one_of(value, path, h.choices)
        if h.type == "bool":
            if not isinstance(value, bool):
                raise self.fail(path, f"must be true or false, got {show(value)}")
            return value
        if h.type == "int":
            self.integer(value, path)
        else:
            value = float(self.number(value, path))
        assert h.interval is not None
        if not h.interval.contains(value):
            raise self.fail(
                path, f"{h.interval.rule(value)} ({h.name} lies in {h.interval}), got {value}"
            )
        return value

    def space(self, value: Any) -> Space:
        path = ("space",)
        section = self.mapping(value, path, "hyperparameters to search")
        return Space(tuple(self.param(name, entry) for name, entry in section.items()))

    def param(self, name: str, entry: Any) -> Param:
        path = ("space", name)
        if not _PARAM_NAME.match(name):
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
        self.known_keys(entry, path, ["scale", "min", "max", "type"])
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
        low = self.number(entry["min"], (*path, "min"))
        high = self.number(entry["max"], (*path, "max"))

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


def _free(name: str) -> Hyperparam:
    """A parameter of a user's objective: any name, any value, no range but the scale's."""
    return Hyperparam(name, "any", None, "", Interval())


def name_problem(name: Any) -> str | None:
    """What is wrong with a run name (``name:``, ``--name``), or None."""
    if isinstance(name, str) and _NAME.match(name):
        return None
    return (
        "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit, "
        f"got {show(name)}"
    )


def jobs_problem(jobs: Any) -> str | None:
    if isinstance(jobs, bool) or not isinstance(jobs, int) or not (jobs == -1 or jobs >= 1):
        return f"must be -1 (every core) or a positive integer, got {_got(jobs)}"
    return None


def backend_problem(backend: Any) -> str | None:
    if isinstance(backend, str) and backend in BACKENDS:
        return None
    if isinstance(backend, str):
        return f"unknown backend '{backend}'{suggest(backend, BACKENDS)}"
    return f"unknown backend {show(backend)}; expected one of: {', '.join(BACKENDS)}"


def count_problem(value: Any, low: int) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return f"must be an integer, got {_got(value)}"
    if value < low:
        return f"must be >= {low}, got {value}"
    return None


def _got(value: Any) -> str:
    if isinstance(value, str) and _looks_numeric(value):
        return f"'{value}' (a string; write the number without quotes)"
    return show(value)


def _safe_name(stem: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._")[:64]
    return name or "search"
