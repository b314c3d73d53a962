"""Growing and healing a run on resume: more trials (``--trials N``) and trials that did not
succeed run again (``--retry failed,timeout``).

Trial i depends only on (seed, i), so both are exact: a 40-trial run grown to 60 is the
60-trial run, and a retried trial trains with the same values and seed as before. The records
a retry replaces are moved to ``attempts.jsonl`` first (nothing is lost). Neither applies to
a search with a budget (its schedule fixes every round's trials) or with early stopping (its
rungs were decided among the trials it had).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from hpsearch.errors import ConfigError, RunError
from hpsearch.record import STATUSES, TrialRecord

RETRYABLE = tuple(s for s in STATUSES if s not in ("ok", "stopped"))


def retry_statuses(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """The statuses named by ``--retry`` ("failed,timeout", or a list): each a non-ok
    status; "all" is every one of them."""
    if value is None:
        return ()
    names = value.split(",") if isinstance(value, str) else list(value)
    names = [str(n).strip() for n in names if str(n).strip()]
    if not names:
        raise ConfigError(
            f"expected statuses among {', '.join(RETRYABLE)}, got nothing", key="--retry"
        )
    chosen: list[str] = []
    for name in names:
        if name == "all":
            chosen += RETRYABLE
        elif name == "ok":
            raise ConfigError(
                f"'ok' trials need no retry; retry any of {', '.join(RETRYABLE)}", key="--retry"
            )
        elif name == "stopped":
            raise ConfigError(
                "'stopped' trials were stopped by early stopping and would be stopped again; "
                f"retry any of {', '.join(RETRYABLE)}",
                key="--retry",
            )
        elif name not in RETRYABLE:
            raise ConfigError(
                f"unknown status {name!r}: expected any of {', '.join(RETRYABLE)} or all",
                key="--retry",
            )
        else:
            chosen.append(name)
    return tuple(dict.fromkeys(chosen))


def check_growable(config: Any, root: Any, where: str, flag: str) -> None:
    """Refuse ``flag`` for a run whose trials are not the user's to change: ``root`` is the
    first run of its lineage (``config``'s own for a run of its own)."""
    if root.search.budget is not None:
        raise RunError(
            f"{where}: {flag} does not apply to a search with a budget (search.budget: "
            f"{root.search.budget} evaluations, spread by its schedule); start a new run with "
            "a larger --budget"
        )
    if config.early_stop.on:
        raise RunError(
            f"{where}: {flag} does not apply to a run with early stopping (its rungs were "
            "decided among the trials it had); start a new run"
        )


def grown(config: Any, records: Sequence[TrialRecord], trials: int, where: str) -> Any:
    """``config`` with ``trials`` trials in all, checked against the trials already run."""
    checked = config.with_overrides(trials=trials)  # the rule of --trials (at least 1)
    highest = max((r.trial for r in records), default=-1)
    if trials <= highest:
        raise ConfigError(
            f"{trials} is below the trials {where} already ran ({len(records)}, up to trial "
            f"{highest}); give at least {highest + 1}",
            key="--trials",
        )
    return dataclasses.replace(
        config, search=dataclasses.replace(config.search, trials=checked.search.trials)
    )


def to_retry(records: Sequence[TrialRecord], statuses: Sequence[str]) -> set[int]:
    return {r.trial for r in records if r.status in statuses}
