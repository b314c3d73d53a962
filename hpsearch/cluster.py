"""Dask workers as jobs of a batch system: ``run.cluster`` made into a dask-jobqueue cluster
(``hpsearch[cluster]``): SLURM, PBS, SGE, LSF, or ``local`` (the same machinery, jobs as local
processes). A key the config leaves out comes from the user's jobqueue.yaml (dask's config),
as dask-jobqueue reads it."""

from __future__ import annotations

import math
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hpsearch.config.cluster import ClusterConfig
from hpsearch.errors import UserError

MISSING = "run.cluster needs dask-jobqueue: pip install 'hpsearch[cluster]'"
CLASSES = {
    "slurm": "SLURMCluster",
    "pbs": "PBSCluster",
    "sge": "SGECluster",
    "lsf": "LSFCluster",
    "local": "LocalCluster",
}
SUBMIT = {"slurm": "sbatch", "pbs": "qsub", "sge": "qsub", "lsf": "bsub"}
# How each batch system is asked for GPUs (a site may want otherwise: run.cluster.job_extra).
GPU_DIRECTIVES = {
    "slurm": "--gres=gpu:{n}",
    "pbs": "-l ngpus={n}",
    "sge": "-l gpu={n}",
    "lsf": '-gpu "num={n}"',
}
PLACEHOLDER = "tcp://<the scheduler's address>:8786"


def require_jobqueue(cluster: ClusterConfig | None = None) -> None:
    """dask-jobqueue installed, and the batch system's submit command on PATH."""
    try:
        import dask_jobqueue  # noqa: F401
    except ImportError:
        raise UserError(MISSING) from None
    command = SUBMIT.get(cluster.kind) if cluster is not None else None
    if command is not None and shutil.which(command) is None:
        raise UserError(
            f"run.cluster: {command} is not on PATH: a {cluster.kind} cluster is reached "  # type: ignore[union-attr]
            "from a machine that submits its jobs (a login node)"
        )


def job_kwargs(cluster: ClusterConfig) -> dict[str, Any]:
    """dask-jobqueue's keywords for the keys the config gives (the rest: jobqueue.yaml)."""
    import dask

    kwargs: dict[str, Any] = {}
    same = ("queue", "cores", "memory", "walltime", "interface", "local_directory", "python")
    for key in (*same, "log_directory"):
        value = getattr(cluster, key)
        if value is not None:
            kwargs[key] = value
    if cluster.account is not None:
        kwargs["project" if cluster.kind in ("sge", "lsf") else "account"] = cluster.account
    if cluster.kind == "local":  # jobs as local processes: one core and 1 GB each unless set
        kwargs.pop("queue", None)
        kwargs.pop("walltime", None)
        for key, default in (("cores", 1), ("memory", "1GB")):
            if key not in kwargs and dask.config.get(f"jobqueue.local.{key}", None) is None:
                kwargs[key] = default
    directives = list(cluster.job_extra)
    if cluster.gpus and cluster.kind in GPU_DIRECTIVES:
        directives.append(GPU_DIRECTIVES[cluster.kind].format(n=cluster.gpus))
    if directives:
        kwargs["job_extra_directives"] = directives
    if cluster.prologue:
        kwargs["job_script_prologue"] = list(cluster.prologue)
    processes = cluster.processes
    if processes is None and dask.config.get(f"jobqueue.{cluster.kind}.processes", None) is None:
        # One single-threaded worker process a core, as hpsearch's own workers are: a trial
        # that crashes takes one worker down, and a thread cannot be stopped at its timeout.
        cores = cluster.cores or dask.config.get(f"jobqueue.{cluster.kind}.cores", None)
        processes = cores if isinstance(cores, int) and cores > 0 else None
    if processes is not None:
        kwargs["processes"] = processes
    extra = list(dask.config.get(f"jobqueue.{cluster.kind}.worker-extra-args", None) or [])
    walltime = cluster.walltime or dask.config.get(f"jobqueue.{cluster.kind}.walltime", None)
    seconds = walltime_seconds(walltime) if cluster.kind != "local" else None
    if seconds and "--lifetime" not in extra:
        # Workers leave before the walltime kills them: their trials move to other workers
        # without counting as a loss, and the Keeper submits new jobs (dask-jobqueue's advice).
        spare = max(60, seconds // 20)
        stagger = min(60, spare // 2)
        extra += ["--lifetime", f"{max(seconds - spare, 60)}s", "--lifetime-stagger", f"{stagger}s"]
        kwargs["worker_extra_args"] = extra
    return kwargs


def walltime_seconds(text: Any) -> int | None:
    """A batch system's walltime in seconds: ``D-HH:MM:SS``, ``HH:MM:SS``, ``MM:SS``,
    ``MM`` (SLURM's forms; ``D-HH`` and ``D-HH:MM`` too); None when it is none of them."""
    match = re.match(r"^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$", str(text or "").strip())
    if not match:
        return None
    days, a, b, c = (int(g) if g is not None else None for g in match.groups())
    assert a is not None  # the one group the pattern requires
    if days is not None:  # D-HH, D-HH:MM, D-HH:MM:SS
        parts = (days * 24 + a, b or 0, c or 0)
    elif c is not None:  # HH:MM:SS
        parts = (a, b or 0, c)
    elif b is not None:  # MM:SS
        parts = (0, a, b)
    else:  # MM
        parts = (0, a, 0)
    total = parts[0] * 3600 + parts[1] * 60 + parts[2]
    return total or None


def _classes(kind: str) -> tuple[Any, Any]:
    """The cluster class and its job class for ``kind``."""
    require_jobqueue()
    import dask_jobqueue

    cluster_class = getattr(dask_jobqueue, CLASSES[kind], None)
    if cluster_class is None:  # LocalCluster lives in its own module
        from dask_jobqueue import local

        cluster_class = local.LocalCluster
    return cluster_class, cluster_class.job_cls


def job_script(cluster: ClusterConfig) -> str:
    """The script each worker job is submitted with (the scheduler's address left open)."""
    _, job_class = _classes(cluster.kind)
    try:
        job = job_class(PLACEHOLDER, name="hpsearch-worker", **job_kwargs(cluster))
    except (ValueError, TypeError) as exc:
        raise UserError(_said(exc, cluster)) from None
    return str(job.job_script())


def _said(exc: BaseException, cluster: ClusterConfig) -> str:
    text = str(exc)
    if "cores and memory" in text:
        missing = [k for k in ("cores", "memory") if getattr(cluster, k) is None]
        return (
            f"run.cluster: a {cluster.kind} job needs {' and '.join(missing) or 'cores and memory'}"
            f" (run.cluster.cores, run.cluster.memory, or jobqueue.{cluster.kind} in "
            "~/.config/dask/jobqueue.yaml)"
        )
    first = next((line for line in text.splitlines() if line.strip()), type(exc).__name__)
    return f"run.cluster: {first}"


def _submit_refused(exc: BaseException, kind: str) -> str:
    """One line from dask-jobqueue's 'Command exited with non-zero exit code' report."""
    text = str(exc)
    err = re.search(r"stderr:\n(.*?)(\n|$)", text)
    code = re.search(r"Exit code: (\d+)", text)
    why = (err.group(1).strip() if err else "") or text.splitlines()[0]
    command = SUBMIT.get(kind, "the batch system")
    return (
        f"{command} refused hpsearch's worker job (exit {code.group(1) if code else '?'}): "
        f"{why[:300]}; `hpsearch validate CONFIG` shows the job script"
    )


@contextmanager
def started(cluster: ClusterConfig, workers: int) -> Iterator[Any]:
    """A dask-jobqueue cluster of ``workers`` workers (or adapting within ``cluster.adapt``)
    and its ``Keeper``; the jobs are cancelled on the way out. A job the batch system refuses
    is one line."""
    require_jobqueue(cluster)
    cluster_class, _ = _classes(cluster.kind)
    first = cluster.workers or (max(cluster.adapt[0], 1) if cluster.adapt else workers)
    try:
        made = cluster_class(**job_kwargs(cluster))
    except (ValueError, TypeError) as exc:
        raise UserError(_said(exc, cluster)) from None
    with made:
        try:  # the first jobs submitted now, so that a refusal is heard here
            made.sync(_submit, made, first)
        except RuntimeError as exc:
            raise UserError(_submit_refused(exc, cluster.kind)) from None
        if cluster.adapt is not None:
            made.adapt(minimum=cluster.adapt[0], maximum=cluster.adapt[1])
        keeper = Keeper(made, None if cluster.adapt else first, cluster.kind)
        from tornado.ioloop import PeriodicCallback

        ticks = PeriodicCallback(keeper, KEEP_EVERY * 1000)
        made.loop.add_callback(ticks.start)
        try:
            yield made, keeper
        finally:
            made.loop.add_callback(ticks.stop)


async def _submit(cluster: Any, workers: int) -> None:
    """Submit the jobs of ``workers`` workers and wait for the batch system's answer (not for
    the jobs to start: a queue may hold them for hours). ``scale`` would leave a refusal to a
    log line and the run waiting for workers that never come; a refused job is forgotten, so
    that the cluster closes cleanly."""
    jobs = math.ceil(workers / cluster._dummy_job.worker_processes)
    while len(cluster.worker_spec) < jobs:
        cluster.worker_spec.update(cluster.new_worker_spec())
    try:
        await cluster._correct_state()
    except BaseException:
        cluster.worker_spec.clear()
        cluster.workers.clear()
        cluster._created.clear()  # never started: nothing to close
        raise


KEEP_EVERY = 2.0  # seconds between looks for lost jobs


class Keeper:
    """Keeps a cluster at its size: a job whose workers had connected and are all gone (its
    walltime, a preemption, ``scancel``, a node that failed) is forgotten and, for a fixed
    number of workers, a new job submitted; with ``adapt`` Dask's adaptive scaling asks for
    it. dask-jobqueue does neither (dask/dask-jobqueue#122, #611). Runs on the cluster's
    event loop; ``error`` holds a later submission's refusal, ``replaced`` counts jobs."""

    def __init__(self, cluster: Any, workers: int | None, kind: str) -> None:
        self.cluster = cluster
        self.workers = workers
        self.kind = kind
        self.ever: set[str] = set()  # every worker name that connected, told by the scheduler
        self.replaced = 0
        self.error: str | None = None
        self.pending: Any = None  # the resubmission under way
        from distributed.diagnostics.plugin import SchedulerPlugin

        keeper = self

        class Arrivals(SchedulerPlugin):
            name = "hpsearch-arrivals"

            def add_worker(self, scheduler: Any, worker: str) -> None:
                keeper.ever.add(str(scheduler.workers[worker].name))

        cluster.scheduler.add_plugin(Arrivals())

    def __call__(self) -> None:
        import asyncio

        c = self.cluster
        # The scheduler runs in this process (the cluster's): its own list of workers.
        connected = {str(w.name) for w in c.scheduler.workers.values()}
        lost = []
        for name, spec in list(c.worker_spec.items()):
            names = {f"{name}{suffix}" for suffix in spec.get("group", [""])}
            if names & self.ever and not names & connected:
                lost.append(name)
        if not lost:
            return
        for name in lost:
            del c.worker_spec[name]
        if self.workers is not None:
            jobs = math.ceil(self.workers / c._dummy_job.worker_processes)
            while len(c.worker_spec) < jobs:
                c.worker_spec.update(c.new_worker_spec())
        self.replaced += len(lost)
        self.pending = asyncio.ensure_future(self._correct())

    async def _correct(self) -> None:
        try:
            await self.cluster._correct_state()
        except RuntimeError as exc:  # the batch system refused the new job
            self.error = _submit_refused(exc, self.kind)
            self.cluster.worker_spec.clear()
            self.cluster.workers.clear()
            self.cluster._created.clear()


def workers_of(cluster: ClusterConfig, jobs: int) -> int:
    """How many workers the trials are spread over (the most, with adapt)."""
    if cluster.workers is not None:
        return cluster.workers
    if cluster.adapt is not None:
        return cluster.adapt[1]
    return jobs
