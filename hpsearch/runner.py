"""Running trials in parallel through joblib, streaming each record back as it finishes.

Backends: ``loky`` (processes; the default), ``threading`` and ``sequential`` (in-process, for
debugging). Results do not depend on the backend or the number of workers: each trial's
randomness comes from its own seed, and every trial runs with one BLAS thread.

A worker process that dies (segfault, kill -9, out of memory) breaks joblib's whole call. The
trials that were in flight are then re-run one at a time, each in a fresh process: the one that
kills its process again is recorded ``failed`` with the reason; the others finish normally, and
the search goes on with a rebuilt pool.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from hpsearch.errors import UserError
from hpsearch.objective import Objective, run_trial
from hpsearch.sampling import Trial


def effective_jobs(jobs: int) -> int:
    """``-1`` means every core."""
    return max(os.cpu_count() or 1, 1) if jobs == -1 else jobs


def run_trials(
    objective: Objective,
    trials: Sequence[Trial],
    *,
    backend: str = "loky",
    jobs: int = -1,
    timeout: float | None = None,
    scheduler: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield one record per trial, in the order they finish.

    ``dask`` runs on the scheduler at ``scheduler`` (or ``HPSEARCH_DASK_SCHEDULER``), else on
    a local cluster of ``jobs`` single-threaded worker processes on 127.0.0.1.
    """
    if not trials:
        return
    n_jobs = min(effective_jobs(jobs), len(trials))
    if backend == "dask":
        with _dask_client(scheduler, n_jobs) as client:
            yield from _dask(client, objective, list(trials), timeout)
        return
    if backend == "sequential" or (n_jobs == 1 and backend == "threading"):
        with _one_blas_thread():
            for trial in trials:
                yield run_trial(objective, trial, timeout)
        return
    # Threads share this process's BLAS; loky workers get one thread each from joblib; with
    # one job joblib runs in this process. One BLAS thread everywhere keeps results identical.
    with _one_blas_thread():
        yield from _joblib(objective, list(trials), backend, n_jobs, timeout)


def _joblib(objective, trials, backend, n_jobs, timeout) -> Iterator[dict]:
    """joblib with a worker-death policy: when the pool breaks, every trial handed out and not
    returned gets a strike and goes back in the queue; a trial with two strikes (in flight at
    two breaks) is re-run alone in a fresh process, which tells the culprit from bystanders."""
    from joblib import Parallel, delayed, parallel_config

    pending = list(reversed(trials))  # pop() from the end keeps the trials' order
    strikes: dict[int, int] = {}
    while pending:
        handed_out: dict[int, Trial] = {}

        def tasks(handed_out=handed_out):
            while pending:
                trial = pending.pop()
                handed_out[trial.index] = trial
                yield delayed(run_trial)(objective, trial, timeout)

        threads = {"inner_max_num_threads": 1} if backend == "loky" else {}
        try:
            with parallel_config(backend=backend, n_jobs=n_jobs, **threads):
                # Auto batching groups quick trials (thousands per second); slow ones go
                # one by one.
                parallel = Parallel(
                    return_as="generator_unordered", pre_dispatch="8*n_jobs", batch_size="auto"
                )
                stream = parallel(tasks())
                try:
                    for record in stream:
                        handed_out.pop(record["trial"], None)
                        yield record
                finally:
                    stream.close()  # stop joblib's dispatching before anyone kills the pool
        except Exception as exc:
            if not _worker_died(exc):
                raise
            for trial in sorted(handed_out.values(), key=lambda t: t.index, reverse=True):
                strikes[trial.index] = strikes.get(trial.index, 0) + 1
                if strikes[trial.index] >= 2:
                    yield _isolated(objective, trial, timeout, exc)
                else:
                    pending.append(trial)


def _dask(client, objective, trials, timeout) -> Iterator[dict]:
    """One Dask future per trial, results as they complete. A trial whose worker dies again
    and again ends in KilledWorker: it is recorded ``failed``; the others go on."""
    from dask.distributed import as_completed

    futures = {
        client.submit(run_trial, objective, trial, timeout, pure=False): trial for trial in trials
    }
    again: set[int] = set()
    try:
        completed = as_completed(list(futures))
        for future in completed:
            trial = futures[future]
            if future.status == "error":
                exc = future.exception()
                if not _worker_died(exc):
                    raise exc
                if trial.index not in again:
                    # Dask blames every task a dying worker held, bystanders included: one
                    # more try each; the culprit dies again and is recorded.
                    again.add(trial.index)
                    retry = client.submit(run_trial, objective, trial, timeout, pure=False)
                    futures[retry] = trial
                    completed.add(retry)
                    continue
                yield _died(trial, f"{type(exc).__name__}: {exc}")
            else:
                yield future.result()
    finally:
        client.cancel([f for f in futures if not f.done()])


def _worker_died(exc: BaseException) -> bool:
    """loky's BrokenProcessPool / TerminatedWorkerError, or Dask's KilledWorker."""
    from joblib.externals.loky.process_executor import BrokenProcessPool

    return isinstance(exc, BrokenProcessPool) or type(exc).__name__ == "KilledWorker"


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
            client = Client(address, timeout="10s")
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


def require_backend(backend: str) -> None:
    """A clear error (exit 2) before a run starts when a backend's packages are missing."""
    if backend == "dask":
        try:
            import dask.distributed  # noqa: F401
        except ImportError:
            raise UserError(DASK_MISSING) from None


def _isolated(objective, trial: Trial, timeout, first_error) -> dict[str, Any]:
    """Re-run one trial alone in a fresh process, to tell the culprit from the bystanders."""
    from joblib.externals.loky.process_executor import BrokenProcessPool, ProcessPoolExecutor

    # Its own one-process pool, apart from joblib's reusable one.
    executor = ProcessPoolExecutor(max_workers=1, env=_ONE_THREAD_ENV)
    try:
        return executor.submit(run_trial, objective, trial, timeout).result()
    except BrokenProcessPool as exc:
        return _died(trial, _death(exc, first_error))
    finally:
        executor.shutdown(wait=True, kill_workers=True)


def _died(trial: Trial, reason: str) -> dict[str, Any]:
    return {
        "trial": trial.index,
        "params": dict(trial.params),
        "seed": trial.seed,
        "status": "failed",
        "metrics": {},
        "epochs": None,
        "seconds": None,
        "error": f"worker process died while running this trial: {reason}",
        "curves": None,
    }


_ONE_THREAD_ENV = {
    name: "1"
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")
}


def _death(exc: BaseException, first: BaseException) -> str:
    text = str(exc) or str(first)
    marker = "The exit codes of the workers are"
    if marker in text:
        return "exit code " + text.split(marker, 1)[1].strip().rstrip(".").strip("{}")
    return text.splitlines()[0] if text else type(exc).__name__


@contextmanager
def _one_blas_thread():
    """Limit BLAS to one thread for in-process trials (threadpoolctl, when installed)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - results may then depend on BLAS threading
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def shutdown_workers() -> None:
    """Stop joblib's reusable worker processes, so none is left behind."""
    try:
        from joblib.externals.loky import reusable_executor

        executor = reusable_executor._executor  # None when no pool was ever started
        if executor is not None:
            executor.shutdown(wait=True, kill_workers=True)
    except Exception:
        pass
