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
    if cluster is None:
        return
    command = SUBMIT.get(cluster.kind)
    if command is not None and shutil.which(command) is None:
        raise UserError(
            f"run.cluster: {command} is not on PATH: a {cluster.kind} cluster is reached "
            "from a machine that submits its jobs (a login node)"
        )
    job_script(cluster)  # its settings complete (cores, memory: here or in jobqueue.yaml)


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
        for key in ("queue", "walltime", "account", "project"):
            kwargs.pop(key, None)
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
    return kwargs


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
    return str(_job(cluster).job_script())


def job_processes(cluster: ClusterConfig) -> int:
    """The worker processes of one job (the config's, jobqueue.yaml's, or one a core)."""
    return int(_job(cluster).worker_processes)


def _job(cluster: ClusterConfig) -> Any:
    _, job_class = _classes(cluster.kind)
    try:
        return job_class(PLACEHOLDER, name="hpsearch-worker", **job_kwargs(cluster))
    except (ValueError, TypeError) as exc:
        raise UserError(_said(exc, cluster)) from None


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
        # Told of every worker from the first: one that comes and goes before the first look
        # is still known to have been there.
        keeper = Keeper(made, None if cluster.adapt else first, cluster.kind)
        try:  # the first jobs submitted now, so that a refusal is heard here
            made.sync(_submit, made, first)
        except RuntimeError as exc:
            raise UserError(_submit_refused(exc, cluster.kind)) from None
        if cluster.adapt is not None:
            made.adapt(minimum=cluster.adapt[0], maximum=cluster.adapt[1])
        made.loop.add_callback(keeper.start)
        try:
            yield made, keeper
        finally:
            made.loop.add_callback(keeper.stop)


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
        self.asking: Any = None  # squeue, asked which jobs not yet heard from are still there
        self.ended: set[str] = set()  # jobs that ended before any of their workers came
        self.ticks: Any = None
        self.fault: str | None = None  # why a look failed, if one did (for a debugger)
        from distributed.diagnostics.plugin import SchedulerPlugin

        keeper = self

        class Arrivals(SchedulerPlugin):
            name = "hpsearch-arrivals"

            def add_worker(self, scheduler: Any, worker: str) -> None:
                keeper.ever.add(str(scheduler.workers[worker].name))

        cluster.scheduler.add_plugin(Arrivals())

    def start(self) -> None:
        """On the cluster's loop: a look every ``KEEP_EVERY`` seconds until ``stop``."""
        import asyncio

        self.ticks = asyncio.ensure_future(self._every())

    def stop(self) -> None:
        if self.ticks is not None:
            self.ticks.cancel()

    async def _every(self) -> None:
        import asyncio

        while True:
            await asyncio.sleep(KEEP_EVERY)
            try:
                self()
            except Exception as exc:  # a look that failed: the search goes on, jobs unkept
                self.fault = f"{type(exc).__name__}: {exc}"

    def __call__(self) -> None:
        import asyncio

        c = self.cluster
        # The scheduler runs in this process (the cluster's): its own list of workers.
        connected = {str(w.name) for w in c.scheduler.workers.values()}
        lost, unseen = [], []
        for name, spec in list(c.worker_spec.items()):
            names = {f"{name}{suffix}" for suffix in spec.get("group", [""])}
            if names & self.ever and not names & connected:
                lost.append(name)
            elif not names & self.ever and name in self.ended:
                lost.append(name)  # its job ended before any of its workers came
            elif not names & self.ever and name in c.workers:
                unseen.append(name)
        if unseen and self.kind == "slurm" and (self.asking is None or self.asking.done()):
            self.asking = asyncio.ensure_future(self._ask(unseen))
        if not lost:
            return
        if not connected and all(name in self.ended for name in lost):
            job = c.workers.get(lost[0])
            self.error = (
                f"run.cluster: worker job {getattr(job, 'job_id', '?')} ended before its "
                "workers reached the scheduler, and no worker is left (a wrong python, a "
                "prologue that failed?): its output says why (slurm-JOBID.out where it was "
                "submitted, or run.cluster.log_directory)"
            )
            return
        # Forgotten whole (its spec and its job), so that a new job may take its name.
        gone = [c.workers.pop(name, None) for name in lost]
        for name in lost:
            del c.worker_spec[name]
            self.ended.discard(name)
        if self.workers is not None:
            jobs = math.ceil(self.workers / c._dummy_job.worker_processes)
            while len(c.worker_spec) < jobs:
                c.worker_spec.update(c.new_worker_spec())
        self.replaced += len(lost)
        self.pending = asyncio.ensure_future(self._correct([j for j in gone if j is not None]))

    async def _ask(self, names: list[str]) -> None:
        """Which of these jobs, none of whose workers has come yet, SLURM still holds."""
        import asyncio

        ids = {n: str(getattr(self.cluster.workers.get(n), "job_id", "") or "") for n in names}
        ids = {n: i for n, i in ids.items() if i.isdigit()}
        if not ids:
            return
        try:
            process = await asyncio.create_subprocess_exec(
                "squeue", "-h", "-o", "%i", "-j", ",".join(ids.values()),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            out, _ = await asyncio.wait_for(process.communicate(), 30)
        except (OSError, asyncio.TimeoutError):
            return
        if process.returncode != 0:
            return  # squeue errs on ids it no longer knows on some sites: no conclusion
        held = set(out.decode("utf-8", "replace").split())
        self.ended |= {n for n, i in ids.items() if i not in held}

    async def _correct(self, gone: list[Any]) -> None:
        for job in gone:  # cancelled, should the batch system still hold it
            await job.close()
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
