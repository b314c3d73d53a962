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

import dataclasses
import os
from collections.abc import Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from hpsearch.errors import UserError
from hpsearch.objectives import Objective, run_trial
from hpsearch.pool import died_record
from hpsearch.record import TrialRecord
from hpsearch.sampling import WAIT, Trial

DASK_CONNECT_TIMEOUT = "10s"  # to reach a scheduler given by address


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
) -> Generator[TrialRecord, None, None]:
    """Yield one record per trial, in the order they finish. ``trials`` is read lazily, as
    workers need them (``count``: how many it holds, when known).

    ``dask`` runs on the scheduler at ``scheduler`` (or ``HPSEARCH_DASK_SCHEDULER``), else on
    a local cluster of ``jobs`` single-threaded worker processes on 127.0.0.1.

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
        with _dask_client(scheduler, n_jobs) as client:
            yield from _dask(client, objective, iter(trials), timeout, n_jobs, slots)
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


@dataclass(frozen=True)
class DeviceSlots:
    devices: tuple[str, ...]
    per_device: int

    def of(self, slot: int) -> str:
        """The device of worker slot ``slot``: round the devices, so that fewer workers than
        slots still spread over every device."""
        return self.devices[slot % len(self.devices)]


def on_device(trial: Trial, slots: DeviceSlots | None, slot: int) -> Trial:
    return trial if slots is None else dataclasses.replace(trial, device=slots.of(slot))


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
            for trial in _take(trials, 2 * n_jobs - running):
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


def _dask(
    client, objective, trials: Iterator[Trial], timeout, n_jobs: int, slots=None
) -> Iterator[TrialRecord]:
    """One Dask future per trial, a few per worker in flight, results as they complete. A
    trial whose worker dies again and again ends in KilledWorker: it is recorded ``failed``;
    the others go on. With device slots, a trial is submitted only when a slot is free (at
    most ``per_device`` per device in flight), holding that slot until it ends."""
    from dask.distributed import as_completed

    in_flight = max(4 * n_jobs, 8) if slots is None else n_jobs
    futures: dict[Any, Trial] = {}
    again: set[int] = set()
    free = list(range(n_jobs)) if slots is not None else []  # slot numbers not in use
    held: dict[Any, int] = {}

    def submit(trial: Trial):
        slot = None
        if slots is not None:
            slot = free.pop(0)
            trial = on_device(trial, slots, slot)
        future = client.submit(run_trial, objective, trial, timeout, pure=False)
        futures[future] = trial
        if slot is not None:
            held[future] = slot
        return future

    completed = as_completed([submit(t) for t in _take(trials, in_flight)])
    try:
        for future in completed:
            trial = futures.pop(future)
            if future in held:
                free.append(held.pop(future))
                free.sort()
            if future.status == "error":
                exc = future.exception()
                if type(exc).__name__ != "KilledWorker":
                    raise exc
                if trial.index not in again:
                    # Dask blames every task a dying worker held, bystanders included: one
                    # more try each; the culprit dies again and is recorded.
                    again.add(trial.index)
                    completed.add(submit(trial))
                    continue
                again.discard(trial.index)  # a later training of it has its own retry
                yield died_record(trial, f"{type(exc).__name__}: {exc}")
            else:
                again.discard(trial.index)
                yield future.result()
            for following in _take(trials, in_flight - len(futures)):
                completed.add(submit(following))
    finally:
        client.cancel([f for f in futures if not f.done()])


def _take(trials: Iterator[Trial], n: int) -> list[Trial]:
    """Up to ``n`` trials ready now (fewer at the end, or when the stream says WAIT)."""
    out: list[Trial] = []
    if n <= 0:
        return out
    for trial in trials:
        if trial is WAIT:
            break
        out.append(trial)
        if len(out) == n:
            break
    return out


@contextmanager
def _dask_client(scheduler: str | None, n_workers: int):
    """A Dask client on ``scheduler``, or on a local cluster it starts and stops."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:  # checked before a run starts (require_backend); kept for the API
        raise UserError(DASK_MISSING) from None
    address = scheduler or os.environ.get("HPSEARCH_DASK_SCHEDULER")
    if address:
        try:
            client = Client(address, timeout=DASK_CONNECT_TIMEOUT)
        except OSError as exc:
            raise UserError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        with client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            processes=True,
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c


DASK_MISSING = "the dask backend needs Dask's distributed scheduler: pip install 'hpsearch[dask]'"


def require_backend(backend: str, joblib_backend: str | None = None) -> None:
    """A clear error (exit 2) before a run starts when a backend's packages are missing, or
    joblib does not know ``run.joblib_backend``."""
    if backend == "joblib":
        from hpsearch.joblib_runner import check_backend

        check_backend(joblib_backend)
    if backend == "dask":
        try:
            import dask.distributed  # noqa: F401
        except ImportError:
            raise UserError(DASK_MISSING) from None


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
