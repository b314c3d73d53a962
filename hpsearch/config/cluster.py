"""``run.cluster``: Dask workers started as jobs of a batch system (SLURM, PBS, SGE, LSF)
through dask-jobqueue (``hpsearch.cluster`` starts them). A key left out takes the value of
the user's ``~/.config/dask/jobqueue.yaml`` (dask-jobqueue's own settings), then
dask-jobqueue's default."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from hpsearch.config.rules import Broken, Integer, OneOf, Rule, Text, got

KINDS = ("slurm", "pbs", "sge", "lsf", "local")  # local: jobs as local processes (testing)
DEFAULT_WORKER_DEATHS = 3

# A value that lands in a job script's header or a shell line: one line, nothing that ends
# it early. (The prologue is the user's own shell, by design: one command a line.)
_ONE_LINE = re.compile(r"^[^\n\r\x00]+$")
_DIRECTIVE = Text(
    "a batch-system option such as '--gres=gpu:1'",
    _ONE_LINE,
    "must be one line, got {value!r}",
)
_WORD = re.compile(r"^[A-Za-z0-9_.:@+=/-]+$")


def _word(what: str) -> Text:
    return Text(what, _WORD, f"must be {what} (letters, digits and _.:@+=/-), got '{{value}}'")


@dataclass(frozen=True)
class Lines:
    """A list of one-line strings (or one string: a list of one)."""

    item: Text

    def check(self, value: Any) -> tuple[str, ...]:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)):
            raise Broken(f"must be a list of strings, got {got(value)}")
        out = []
        for number, item in enumerate(items, 1):
            try:
                out.append(self.item.check(item))
            except Broken as broken:
                raise Broken(f"item {number}: {broken}") from None
        return tuple(out)


@dataclass(frozen=True)
class Adapt:
    """``adapt: {min: 0, max: 32}``: as many workers as the pending trials need, in bounds."""

    def check(self, value: Any) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value  # checked already
        if not isinstance(value, dict) or set(value) - {"min", "max"} or "max" not in value:
            raise Broken(f"must be a mapping {{min: 0, max: 32}} (workers), got {got(value)}")
        low = Integer(low=0).check(value.get("min", 0))
        high = Integer(low=1).check(value["max"])
        if low > high:
            raise Broken(f"min must be at most max, got min {low}, max {high}")
        return (low, high)


CLUSTER: dict[str, Rule] = {
    "kind": OneOf(KINDS, what="cluster kind"),
    "queue": _word("a queue (partition) name"),
    "account": _word("an account name"),
    "cores": Integer(low=1, wording="a positive integer (cores a job)"),
    "memory": Text(
        "memory a job such as '16GB'",
        re.compile(r"^\d+(\.\d+)?\s*([KMGTP]i?B?)?$", re.IGNORECASE),
        "must be memory such as '16GB' or '500MiB', got '{value}'",
    ),
    "processes": Integer(low=1, wording="a positive integer (worker processes a job)"),
    "walltime": Text(
        "a walltime such as '02:00:00'",
        re.compile(r"^(\d+-)?\d+(:\d\d){0,2}$"),
        "must be a walltime such as '02:00:00' or '1-12:00:00', got '{value}'",
    ),
    "gpus": Integer(low=0, wording="a number of GPUs a job (0 or more)"),
    "job_extra": Lines(_DIRECTIVE),
    "prologue": Lines(Text("a shell line", _ONE_LINE, "must be one line, got {value!r}")),
    "interface": _word("a network interface such as 'ib0'"),
    "local_directory": Text("a directory path", _ONE_LINE, "must be one line, got {value!r}"),
    "log_directory": Text("a directory path", _ONE_LINE, "must be one line, got {value!r}"),
    "python": Text("a Python executable", _ONE_LINE, "must be one line, got {value!r}"),
    "workers": Integer(low=1, wording="a positive integer (Dask workers)"),
    "adapt": Adapt(),
}


@dataclass(frozen=True)
class ClusterConfig:
    """The batch system's jobs that hold hpsearch's Dask workers; None: from jobqueue.yaml."""

    kind: str
    queue: str | None = None
    account: str | None = None
    cores: int | None = None
    memory: str | None = None
    processes: int | None = None  # worker processes a job (default: one per core)
    walltime: str | None = None
    gpus: int | None = None  # GPUs a job: its workers share them out as device slots
    job_extra: tuple[str, ...] = ()
    prologue: tuple[str, ...] = ()
    interface: str | None = None
    local_directory: str | None = None
    log_directory: str | None = None
    python: str | None = None
    workers: int | None = None  # a fixed number of workers, or
    adapt: tuple[int, int] | None = None  # (min, max) workers, as many as trials wait

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None or value == ():
                continue
            if f.name == "adapt":
                value = {"min": value[0], "max": value[1]}
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    def describe(self) -> str:
        """``slurm, 8 workers (queue gpu, 4 cores, 16GB, 02:00:00 a job)``."""
        size = (
            f"{self.workers} workers"
            if self.workers
            else f"{self.adapt[0]}–{self.adapt[1]} workers as trials wait"
            if self.adapt
            else "workers: run.jobs"
        )
        job = [
            f"queue {self.queue}" if self.queue else "",
            f"account {self.account}" if self.account else "",
            f"{self.cores} cores" if self.cores else "",
            self.memory or "",
            f"{self.gpus} GPUs" if self.gpus else "",
            self.walltime or "",
        ]
        said = ", ".join(p for p in job if p)
        return f"{self.kind}, {size}" + (f" ({said} a job)" if said else "")


@dataclass(frozen=True)
class ClusterRule:
    """``run.cluster`` as a whole: a mapping (its keys are checked one by one by the parser,
    with their own file line) or a kind alone (``cluster: slurm``)."""

    def check(self, value: Any) -> Any:
        if isinstance(value, (ClusterConfig, dict)):
            return value
        if isinstance(value, str):
            return {"kind": value}
        raise Broken(
            f"must be a mapping such as {{kind: slurm, cores: 4, memory: 16GB}} or a kind "
            f"({', '.join(KINDS)}), got {got(value)}"
        )


def parse_cluster(parser: Any, value: Any) -> ClusterConfig:
    """The checked ``run.cluster`` (each key's error names its file line and key)."""
    if isinstance(value, ClusterConfig):
        return value
    path = ("run", "cluster")
    if "kind" not in value:
        raise parser.fail(path, f"needs a kind: one of {', '.join(KINDS)}")
    keys = parser.section(value, path, "cluster settings", CLUSTER, ClusterConfig)
    keys["job_extra"] = keys["job_extra"] or ()
    keys["prologue"] = keys["prologue"] or ()
    if keys["workers"] is not None and keys["adapt"] is not None:
        raise parser.fail((*path, "adapt"), "give workers (a fixed number) or adapt, not both")
    return ClusterConfig(**keys)


# run's keys written in a run's config.yaml only when set: a run made before they existed
# keeps its config.
NEW_RUN_KEYS: dict[str, Any] = {
    "joblib_backend": None,
    "cluster": None,
    "scheduler_file": None,
    "worker_deaths": DEFAULT_WORKER_DEATHS,
}
RUN_RULES: dict[str, Rule] = {
    "cluster": ClusterRule(),
    "scheduler_file": Text("a file path (dask scheduler --scheduler-file)"),
    "worker_deaths": Integer(low=1, wording="a positive integer (lost workers a trial)"),
}


def dask_workers(
    run: Any,
    backend: str | None,
    scheduler: str | None,
    scheduler_file: str | None,
    cluster: str | None,
) -> dict[str, Any]:
    """Where the Dask workers are, after the flags: one of a scheduler, its file or a
    cluster. A flag that names one replaces the config's; ``--cluster KIND`` keeps the
    config's cluster keys; a backend other than dask drops them all."""
    import dataclasses

    keep = (not backend or backend == "dask") and not (scheduler or scheduler_file or cluster)
    if cluster:
        made = dataclasses.replace(run.cluster, kind=cluster) if run.cluster else None
    return {
        "scheduler": scheduler or (run.scheduler if keep else None),
        # Absolute: the run's config.yaml keeps it, and a resume may start elsewhere.
        "scheduler_file": str(Path(scheduler_file).resolve())
        if scheduler_file
        else (run.scheduler_file if keep else None),
        "cluster": (made or ClusterConfig(kind=cluster))
        if cluster
        else (run.cluster if keep else None),
    }


def dask_flags_problem(
    run: Any,
    scheduler: str | None,
    scheduler_file: str | None,
    cluster: str | None,
    source: str | None,
) -> None:
    """``ConfigError`` for flags of where Dask's workers are that do not fit the run."""
    from hpsearch.config.rules import scheduler_problem
    from hpsearch.errors import ConfigError

    for flag, value in (
        ("--scheduler", scheduler),
        ("--scheduler-file", scheduler_file),
        ("--cluster", cluster),
    ):
        if value is not None and run.backend != "dask":
            raise ConfigError(f"{scheduler_problem(run.backend)} (add --backend dask)", key=flag)
    if sum(v is not None for v in (scheduler, scheduler_file, cluster)) > 1:
        raise ConfigError(
            "give one of --scheduler, --scheduler-file and --cluster (where the Dask workers are)",
            key="--cluster" if cluster else "--scheduler-file",
        )
    said = cluster_problem(run.cluster, run.backend, run.jobs)
    if said is None and run.cluster is not None and run.devices is not None:
        said = "a cluster's workers take their GPUs from their job: give run.cluster.gpus"
    if said is not None:
        key = "--cluster" if cluster else "run.cluster"
        raise ConfigError(said, key=key, file=None if cluster else source)


def check_run_section(parser: Any, r: dict[str, Any]) -> None:
    """The run section's Dask keys together (``r``: its checked keys, changed in place)."""
    from hpsearch.config.rules import scheduler_problem

    for key in ("scheduler", "scheduler_file", "cluster"):
        if r[key] is not None and r["backend"] != "dask":
            raise parser.fail(("run", key), scheduler_problem(r["backend"]))
    given = [k for k in ("scheduler", "scheduler_file", "cluster") if r[k] is not None]
    if len(given) > 1:
        raise parser.fail(
            ("run", given[1]),
            f"give one of run.scheduler, run.scheduler_file and run.cluster, not "
            f"{' and '.join(given)} (where the Dask workers are)",
        )
    if r["cluster"] is not None and r["devices"] is not None:
        raise parser.fail(
            ("run", "devices"),
            "a cluster's workers take their GPUs from their job: give run.cluster.gpus "
            "(GPUs a job) instead of run.devices",
        )
    if r["cluster"] is not None:
        r["cluster"] = parse_cluster(parser, r["cluster"])
        said = cluster_problem(r["cluster"], r["backend"], r["jobs"])
        if said is not None:
            raise parser.fail(("run", "cluster"), said)
    r["worker_deaths"] = r["worker_deaths"] or DEFAULT_WORKER_DEATHS


def cluster_problem(cluster: ClusterConfig | None, backend: str, jobs: int) -> str | None:
    """Why a cluster cannot go with this backend or these jobs, or None."""
    if cluster is None:
        return None
    if backend != "dask":
        return f"applies to the dask backend only; this run's backend is '{backend}'"
    if cluster.workers is None and cluster.adapt is None and jobs == -1:
        return (
            "how many workers? give run.cluster.workers, run.cluster.adapt {min, max} or --jobs N"
        )
    return None
