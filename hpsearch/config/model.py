"""The validated config: frozen dataclasses that everything after the parser trusts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpsearch.config.cluster import (
    DEFAULT_WORKER_DEATHS,
    NEW_RUN_KEYS,
    ClusterConfig,
    dask_flags_problem,
    dask_workers,
)
from hpsearch.config.search import SearchConfig
from hpsearch.data.sources import DataConfig
from hpsearch.errors import ConfigError
from hpsearch.space import Space
from hpsearch.trainer.registry import REGISTRY

if TYPE_CHECKING:
    from hpsearch.rungs import RungPlan
    from hpsearch.schedule import Schedule


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
class ZoomConfig:
    """Zoom rounds (``--rounds``, ``hpsearch zoom``); a budget's rounds set their own."""

    # Defaults from bench/zoom_top.py (docs/benchmarks.md): around the best 2 trials, padded
    # by 0.2 of what they leave free of each range, had the lowest regret of 5 anchor counts
    # × 6 margins on the four tuning problems, and was within 10 % of the best on four more.
    top: int = 2
    margin: float = 0.2
    trials: int = 20
    rounds: int = 0


@dataclass(frozen=True)
class EarlyStopConfig:
    """Successive halving or Hyperband over epochs (``hpsearch.rungs``); off when ``method``
    is None. The full budget is ``model.epochs`` for the built-in trainer, ``max_epochs``
    for other objectives."""

    method: str | None = None  # "halving" | "hyperband"
    min_epochs: int = 3
    eta: int = 3
    max_epochs: int | None = None
    keep_checkpoints: bool = False  # keep a complete run's checkpoints

    @property
    def on(self) -> bool:
        return self.method is not None


@dataclass(frozen=True)
class RunConfig:
    jobs: int = -1  # -1: every core
    backend: str = "processes"
    runs_dir: str = "runs"  # relative paths are relative to the working directory
    trial_timeout: float | None = None  # seconds one trial may take before it is `timeout`
    scheduler: str | None = None  # dask: "tcp://host:8786"; none: a local cluster
    devices: tuple[str, ...] | None = None  # GPUs (any names): each trial is told its own
    per_device: int = 1  # trials at once on one device
    joblib_backend: str | None = None  # backend joblib: which of joblib's (None: loky)
    cluster: ClusterConfig | None = None  # dask: workers as batch jobs (dask-jobqueue)
    scheduler_file: str | None = None  # dask: a scheduler's file (dask scheduler --scheduler-file)
    worker_deaths: int = DEFAULT_WORKER_DEATHS  # dask: a trial's lost workers before it fails

    @property
    def slots(self) -> int | None:
        """Trials that may run at once on the devices (None: no devices)."""
        return None if self.devices is None else len(self.devices) * self.per_device

    @property
    def has_devices(self) -> bool:
        """Whether trials are told a device: run.devices, or GPUs in each cluster job."""
        return self.devices is not None or bool(self.cluster and self.cluster.gpus)

    @property
    def workers(self) -> int:
        """``jobs``, where -1 means one worker per device slot when there are devices."""
        return self.slots if self.jobs == -1 and self.slots is not None else self.jobs


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
    early_stop: EarlyStopConfig = field(default_factory=EarlyStopConfig)
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
    def full_budget(self) -> int | None:
        """The epochs a trial trains when it is not stopped early (None: unknown)."""
        epochs = self.resolved_model().get("epochs")
        epochs = epochs if isinstance(epochs, int) and not isinstance(epochs, bool) else None
        if self.objective.is_builtin:
            return epochs
        # Without early stopping, a function that requires budget= trains to model.epochs.
        return self.early_stop.max_epochs if self.early_stop.max_epochs is not None else epochs

    def rung_plan(self, trials: int | None = None, first: int = 0) -> RungPlan | None:
        """The early-stopping plan of ``trials`` trials (default ``search.trials``) numbered
        from ``first`` (a round's), or None without early stopping."""
        from hpsearch.rungs import make_plan

        es, full = self.early_stop, self.full_budget
        if not es.on or full is None:
            return None
        assert es.method is not None
        count = self.search.trials if trials is None else trials
        return make_plan(es.method, count, es.min_epochs, full, es.eta, first)

    @property
    def round_size(self) -> int:
        """The fewest trials of a budget's round: a full bracket of the rung plan, else 1."""
        from hpsearch.rungs import full_bracket

        es, full = self.early_stop, self.full_budget
        on = es.on and full is not None and es.method is not None
        return full_bracket(str(es.method), es.min_epochs, full, es.eta) if on and full else 1

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
        early_stop: str | None = None,
        min_epochs: int | None = None,
        eta: int | None = None,
        max_epochs: int | None = None,
        keep_checkpoints: bool | None = None,
        budget: int | None = None,
        devices: str | Sequence[Any] | None = None,
        per_device: int | None = None,
        rounds: int | None = None,
        warm_start: str | None = None,
        time_budget: str | float | None = None,
        cluster: str | None = None,
        scheduler_file: str | None = None,
    ) -> Config:
        """This config with settings given on the command line or to the API in place of its
        own (None: keep the config's), each checked by the rule the file's value obeys. A
        backend other than dask drops the config's scheduler and cluster; a scheduler, a
        scheduler file or a cluster (``cluster``: its kind) needs dask, and one replaces the
        others."""
        import dataclasses

        from hpsearch.config import options, rules

        options.check(  # the rules of the file's keys, under the flags' names
            name=name,
            seed=seed,
            trials=trials,
            jobs=jobs,
            backend=backend,
            early_stop=early_stop,
            min_epochs=min_epochs,
            eta=eta,
            max_epochs=max_epochs,
            keep_checkpoints=keep_checkpoints,
            budget=budget,
            devices=devices,
            per_device=per_device,
            rounds=rounds,
            scheduler=scheduler,
            runs_dir=runs_dir,
            warm_start=warm_start,
            cluster=cluster,
            scheduler_file=scheduler_file,
        )
        seconds = options.check(time_budget=time_budget)["time_budget"]
        run = dataclasses.replace(
            self.run,
            jobs=jobs if jobs is not None else self.run.jobs,
            backend=backend or self.run.backend,
            runs_dir=str(runs_dir) if runs_dir is not None else self.run.runs_dir,
            **dask_workers(self.run, backend, scheduler, scheduler_file, cluster),
            devices=rules.DEVICES.check(devices) if devices is not None else self.run.devices,
            per_device=per_device if per_device is not None else self.run.per_device,
        )
        found = rules.devices_problem(run.devices, run.per_device, run.jobs)
        if found is not None:
            key, message = found
            set_by = {"jobs": jobs, "per_device": per_device}
            flag = "--jobs" if key == "jobs" and jobs is not None else None
            flag = flag or ("--per-device" if set_by.get(key) is not None else f"run.{key}")
            # From the file, unless a flag set it: --devices can still fix the file's jobs.
            raise ConfigError(message, key=flag, file=None if flag[0] == "-" else self.source)
        if trials is not None and (budget is not None or self.search.budget is not None):
            raise ConfigError(
                "a budget sets the trials of every round itself (search.budget = "
                f"{budget or self.search.budget}); give --budget or --trials",
                key="--trials",
            )
        if rounds is not None and (budget is not None or self.search.budget is not None):
            raise ConfigError(
                "a budget sets the zoom rounds itself (search.budget = "
                f"{budget or self.search.budget}); give --budget or --rounds",
                key="--rounds",
            )
        dask_flags_problem(run, scheduler, scheduler_file, cluster, self.source)
        es = self.early_stop
        given: dict[str, Any] = {
            "method": early_stop,
            "min_epochs": min_epochs,
            "eta": eta,
            "max_epochs": max_epochs,
            "keep_checkpoints": keep_checkpoints or None,
        }
        es = dataclasses.replace(es, **{k: v for k, v in given.items() if v is not None})
        if es.method == "none":  # --early-stop none: the config's early stopping off
            es = dataclasses.replace(es, method=None)
        if not es.on:  # a rung setting would silently do nothing
            flag = "--min-epochs" if min_epochs is not None else "--eta" if eta is not None else ""
            if flag:
                off = (
                    "--early-stop none switches it off"
                    if early_stop == "none"
                    else "this config has none: add --early-stop halving (or hyperband)"
                )
                raise ConfigError(f"applies only with early stopping; {off}", key=flag)
        out = dataclasses.replace(
            self,
            name=name if name is not None else self.name,
            seed=seed if seed is not None else self.seed,
            search=dataclasses.replace(
                self.search,
                trials=trials or self.search.trials,
                warm_start=str(warm_start) if warm_start is not None else self.search.warm_start,
                time_budget=seconds if seconds is not None else self.search.time_budget,
            ),
            zoom=dataclasses.replace(
                self.zoom, rounds=rounds if rounds is not None else self.zoom.rounds
            ),
            run=run,
            early_stop=es,
        )
        if budget is not None or (es != self.early_stop and out.search.budget is not None):
            out = with_budget(out, budget or out.search.budget)  # rounds a rung can halve
        if es != self.early_stop:
            flags = {"method": "--early-stop", "min_epochs": "--min-epochs", "eta": "--eta"}
            flags |= {"max_epochs": "--max-epochs", "keep_checkpoints": "--keep-checkpoints"}
            found = rules.early_stop_problem(out)
            if found is not None:
                key, message = found
                raise ConfigError(message, key=flags.get(key, "--early-stop"))
        return out

    @property
    def _keeps_early_stop(self) -> bool:
        return self.early_stop.on or self.early_stop.max_epochs is not None

    def _early_stop_dict(self) -> dict[str, Any]:
        return {**_fields(self.early_stop), "method": self.early_stop.method or "none"}

    def resolved_model(self) -> dict[str, Any]:
        """Fixed settings with every unsearched registry default filled in (for the built-in
        trainer; a Python or command objective gets exactly what ``model`` says)."""
        if not self.objective.is_builtin:
            return dict(self.model)
        # A default of None ("as the general setting", e.g. adam_beta1 -> beta1) is left out.
        fixed = {
            n: h.default
            for n, h in REGISTRY.items()
            if n not in self.space and h.default is not None
        }
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
            "search": self.search.to_dict(),
            "zoom": _fields(self.zoom),
            # Devices only when given: a run made before they existed keeps its config.
            "run": {
                k: (list(v) if k == "devices" else v.to_dict() if k == "cluster" and v else v)
                for k, v in _fields(self.run).items()
                if (k not in ("devices", "per_device") or self.run.devices is not None)
                and (k not in NEW_RUN_KEYS or v != NEW_RUN_KEYS[k])
            },
            # Only when on (or off with its max_epochs, which a required budget= trains to): the
            # config of a run made before early stopping existed is unchanged.
            **({"early_stop": self._early_stop_dict()} if self._keeps_early_stop else {}),
        }


def with_budget(config: Config, budget: int | None, plan: Schedule | None = None) -> Config:
    """``config`` with ``search.budget`` and what its schedule (``plan``, by default the
    budget's with rounds of ``config.round_size``) sets: the coarse run's trials, the zoom
    rounds and their trials (hpsearch.schedule)."""
    import dataclasses

    from hpsearch.schedule import schedule

    if budget is None:
        return config
    plan = plan or schedule(budget, config.round_size)
    return dataclasses.replace(
        config,
        search=dataclasses.replace(config.search, trials=plan.coarse, budget=budget),
        zoom=dataclasses.replace(
            config.zoom,
            rounds=len(plan.rounds),
            trials=plan.rounds[0] if plan.rounds else config.zoom.trials,
        ),
    )


def _fields(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__dataclass_fields__}
