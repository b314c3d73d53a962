"""Running trials in parallel, streaming each record back as it finishes.

Backends:

- ``processes`` (the default; ``loky`` is its former name): worker processes of hpsearch's
  own (``hpsearch.pool``), one per job, even for one job, so that a trial that crashes, hangs
  or is killed takes only its own worker down.
- ``threading``: daemon threads of the driver. No crash isolation; a timeout is honoured at
  the objective's next ``report`` call.
- ``sequential``: in the driver, one trial after the other: for debugging with a debugger or
  ``breakpoint()``. A trial that crashes the interpreter ends the run.
- ``dask``: a Dask cluster (``hpsearch[dask]``).
- ``joblib``: ``joblib.Parallel`` on any backend joblib knows (``run.joblib_backend``,
  ``hpsearch.joblib_runner``): no hard timeout, no crash isolation.

Results do not depend on the backend or the number of workers: each trial's randomness comes
from its own seed, and every trial runs with one BLAS thread.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager

from hpsearch.config.cluster import ClusterConfig
from hpsearch.config.model import RunConfig
from hpsearch.dask_runner import MISSING as DASK_MISSING
from hpsearch.errors import UserError
from hpsearch.objectives import Objective, run_trial
from hpsearch.record import TrialRecord
from hpsearch.sampling import WAIT, Trial, ready_trials
from hpsearch.slots import DeviceSlots, on_device


def cores() -> int:
    """CPU cores this process may use."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not Linux
        return max(os.cpu_count() or 1, 1)


def effective_jobs(jobs: int) -> int:
    """``-1`` means every core."""
    return cores() if jobs == -1 else jobs


def run_trials(
    objective: Objective,
    trials: Iterable[Trial],
    *,
    backend: str = "processes",
    jobs: int = -1,
    timeout: float | None = None,
    scheduler: str | None = None,
    count: int | None = None,
    devices: Sequence[str] | None = None,
    per_device: int = 1,
    joblib_backend: str | None = None,
    cluster: ClusterConfig | None = None,
    scheduler_file: str | None = None,
    worker_deaths: int = 3,
) -> Generator[TrialRecord, None, None]:
    """Yield one record per trial, in the order they finish. ``trials`` is read lazily, as
    workers need them (``count``: how many it holds, when known).

    ``dask`` runs on the scheduler at ``scheduler`` (or ``HPSEARCH_DASK_SCHEDULER``) or in
    ``scheduler_file``, on a batch system's jobs (``cluster``), else on a local cluster of
    ``jobs`` single-threaded worker processes on 127.0.0.1 (``hpsearch.dask_runner``); a
    trial may lose its worker ``worker_deaths`` times before it is recorded failed.

    ``devices``: each worker is a slot of one device (slot k: device k mod len(devices)), so
    with at most len(devices) × ``per_device`` workers no device runs more than
    ``per_device`` trials at once; each trial is told its device (``Trial.device``). Dask
    keeps the count itself, since its workers are not ours to number.
    """
    if count is None and hasattr(trials, "__len__"):
        count = len(trials)  # type: ignore[arg-type]
    if count == 0:
        return
    if devices:
        jobs = len(devices) * per_device if jobs == -1 else min(jobs, len(devices) * per_device)
    n_jobs = effective_jobs(jobs) if count is None else min(effective_jobs(jobs), count)
    slots = DeviceSlots(tuple(devices), per_device) if devices else None
    if backend in ("processes", "loky"):
        from hpsearch.pool import pool

        yield from pool(n_jobs, slots.devices if slots else None).run(
            objective, trials, timeout, count
        )
        return
    if backend == "joblib":  # any joblib backend (hpsearch.joblib_runner); no device slots
        from hpsearch.joblib_runner import joblib_trials

        with one_blas_thread():  # the driver's own, for joblib's threading backend
            yield from joblib_trials(objective, trials, n_jobs, timeout, joblib_backend)
        return
    if backend == "dask":
        from hpsearch.dask_runner import dask_client, dask_trials, warm

        if cluster is not None:
            from hpsearch.cluster import workers_of

            wanted = workers_of(cluster, jobs if jobs != -1 else 1)
            n_jobs = wanted if count is None else min(wanted, count)
        where = dask_client(scheduler, n_jobs, scheduler_file=scheduler_file, cluster=cluster)
        with where as (client, workers, keeper):
            warm(client, objective)
            yield from dask_trials(
                client,
                objective,
                iter(trials),
                timeout,
                workers if slots is None else n_jobs,
                slots=slots,
                worker_deaths=worker_deaths,
                job_processes=_job_processes(cluster),
                count=count,
                keeper=keeper,
            )
        return
    if backend == "sequential" or n_jobs == 1:
        with one_blas_thread():
            for trial in trials:
                if trial is WAIT:  # one at a time, each result taken before the next
                    raise RuntimeError("a trial stream waited with no trial running")
                yield run_trial(objective, on_device(trial, slots, 0), timeout)
        return
    with one_blas_thread():  # threads share this process's BLAS
        yield from _threads(objective, iter(trials), n_jobs, timeout, slots)


def trials_on(
    run: RunConfig,
    objective: Objective,
    trials: Iterable[Trial],
    timeout: float | None,
    count: int | None = None,
) -> Generator[TrialRecord, None, None]:
    """``run_trials`` where a config's run settings (``run:``, flags applied) say."""
    return run_trials(
        objective,
        trials,
        backend=run.backend,
        jobs=run.jobs,
        timeout=timeout,
        scheduler=run.scheduler,
        count=count,
        devices=run.devices,
        per_device=run.per_device,
        joblib_backend=run.joblib_backend,
        cluster=run.cluster,
        scheduler_file=run.scheduler_file,
        worker_deaths=run.worker_deaths,
    )


def _threads(
    objective, trials: Iterator[Trial], n_jobs: int, timeout, slots: DeviceSlots | None = None
) -> Iterator[TrialRecord]:
    """Trials on ``n_jobs`` daemon threads, each record as it finishes. (Not joblib: the
    stream of trials may have none ready until a result is taken; not concurrent.futures:
    its threads are joined at exit, so a trial still running would hold the exit.)"""
    import queue
    import threading

    tasks: queue.Queue = queue.Queue()
    results: queue.Queue = queue.Queue()
    stop = threading.Event()

    def work(number: int) -> None:
        while True:
            trial = tasks.get()
            if trial is None or stop.is_set():
                return
            try:
                results.put(run_trial(objective, on_device(trial, slots, number), timeout))
            except BaseException as exc:
                results.put(exc)

    for number in range(n_jobs):
        threading.Thread(
            target=work, args=(number,), name=f"hpsearch-trial-{number}", daemon=True
        ).start()
    running = 0
    finished = False
    try:
        while True:
            for trial in ready_trials(trials, 2 * n_jobs - running):
                tasks.put(trial)
                running += 1
            if not running:
                finished = True
                return
            item = results.get()
            running -= 1
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        for _ in range(n_jobs):
            tasks.put(None)
        if not finished:  # threads cannot be killed: end the commands they are waiting on
            from hpsearch import procs

            procs.kill_tagged([procs.driver_token()])


def _job_processes(cluster: ClusterConfig | None) -> int | None:
    """The worker processes of a job that holds GPUs (they share them out), else None."""
    if cluster is None or not cluster.gpus:
        return None
    from hpsearch.cluster import job_processes

    return job_processes(cluster)


def require_backend(
    backend: str,
    joblib_backend: str | None = None,
    cluster: ClusterConfig | None = None,
    scheduler_file: str | None = None,
) -> None:
    """A clear error (exit 2) before a run starts when a backend's packages are missing,
    joblib does not know ``run.joblib_backend``, or a scheduler file holds no address."""
    if backend == "joblib":
        from hpsearch.joblib_runner import check_backend

        check_backend(joblib_backend)
    if backend == "dask":
        try:
            import dask.distributed  # noqa: F401
        except ImportError:
            if cluster is not None:  # the extra that brings both
                from hpsearch.cluster import MISSING

                raise UserError(MISSING) from None
            raise UserError(DASK_MISSING) from None
        if cluster is not None:
            from hpsearch.cluster import require_jobqueue

            require_jobqueue(cluster)
        if scheduler_file is not None:
            from hpsearch.dask_runner import scheduler_address

            scheduler_address(scheduler_file)


def require_run(run: RunConfig) -> None:
    """``require_backend`` for a config's run settings."""
    require_backend(run.backend, run.joblib_backend, run.cluster, run.scheduler_file)


@contextmanager
def one_blas_thread():
    """One BLAS thread for trials run in this process (worker processes get theirs from the
    environment they start with): results must not depend on BLAS's threading."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def shutdown_workers() -> None:
    """Stop the worker processes kept for the next round, so none is left behind."""
    from hpsearch.pool import shutdown

    shutdown()
