"""``backend: joblib``: trials dispatched through ``joblib.Parallel`` on any backend registered
with ``joblib.parallel_config`` (``run.joblib_backend``: loky, the default; threading; dask,
ray, spark, ipyparallel once their packages register them), each record streamed as it
finishes (``return_as="generator_unordered"``), the same trials and results as hpsearch's own
pool. What it cannot give, and hpsearch's pool does: a hard timeout (a trial over its time is
recorded ``timeout`` once it ends, as with threads) and crash isolation (a worker that dies
ends the round: the trials before it are kept, ``resume`` goes on)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from hpsearch.errors import UserError
from hpsearch.objectives import Objective, run_trial
from hpsearch.record import TrialRecord
from hpsearch.sampling import WAIT, Trial

LIMITS = (
    "no hard timeout (a trial over run.trial_timeout is recorded timeout once it ends) and no "
    "crash isolation (a worker that dies ends the round; resume goes on)"
)


def check_backend(name: str | None) -> None:
    """``UserError`` (one line) unless joblib knows backend ``name`` (None: loky)."""
    import joblib

    try:
        with joblib.parallel_config(backend=name or "loky"):
            pass
    except ValueError as exc:
        raise UserError(f"run.joblib_backend: {exc}") from None


def joblib_trials(
    objective: Objective,
    trials: Iterable[Trial],
    n_jobs: int,
    timeout: float | None,
    backend: str | None,
) -> Iterator[TrialRecord]:
    """Yield one record per trial as each finishes. The stream is read lazily; where it says
    ``WAIT`` (early stopping: no trial until a result is taken), the trials handed out so far
    finish first, then it is read on."""
    import joblib

    name = backend or "loky"
    stream = iter(trials)
    waited = [True]

    def until_wait() -> Iterator[Any]:
        waited[0] = False
        for trial in stream:
            if trial is WAIT:
                waited[0] = True
                return
            yield joblib.delayed(run_trial)(objective, trial, timeout)

    # One BLAS thread in each worker, as hpsearch's own workers have: results must not depend
    # on how a machine's cores are shared (loky passes the limit to its workers).
    options: dict[str, Any] = {"inner_max_num_threads": 1} if name == "loky" else {}
    try:
        with joblib.parallel_config(backend=name, n_jobs=n_jobs, **options):
            while waited[0]:
                parallel = joblib.Parallel(return_as="generator_unordered")
                yield from parallel(until_wait())
    except ValueError as exc:
        if "backend" in str(exc).lower():
            raise UserError(f"run.joblib_backend: {exc}") from None
        raise
    except Exception as exc:  # a worker that died: joblib gives up on the whole batch
        if type(exc).__name__ in ("TerminatedWorkerError", "BrokenProcessPool"):
            raise UserError(
                f"a joblib worker died ({type(exc).__name__}); the trials finished before it "
                "are kept: hpsearch resume RUN goes on (backend processes isolates crashes)"
            ) from None
        raise
