"""Growing and healing a run on resume: more trials (``--trials N``) and trials that did not
succeed run again (``--retry failed,timeout``).

Trial i depends only on its round's seed and i, so both are exact: a 40-trial run grown to 60
is the 60-trial run (the search's newest round takes the new trials), and a retried trial
trains with the same values and seed as before. The records
a retry replaces are moved to ``attempts.jsonl`` first (nothing is lost). Neither applies to
a search with a budget (its schedule fixes every round's trials) or with early stopping (its
rungs were decided among the trials it had).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hpsearch.errors import ConfigError, RunError
from hpsearch.record import STATUSES, TrialRecord, is_int

if TYPE_CHECKING:
    from hpsearch.history import History
    from hpsearch.rounds import Round

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


def check_growable(config: Any, where: str, flag: str) -> None:
    """Refuse ``flag`` for a search whose trials are not the user's to change."""
    if config.search.budget is not None:
        raise RunError(
            f"{where}: {flag} does not apply to a search with a budget (search.budget: "
            f"{config.search.budget} evaluations, spread by its schedule); start a new run with "
            "a larger --budget"
        )
    if config.early_stop.on:
        raise RunError(
            f"{where}: {flag} does not apply to a run with early stopping (its rungs were "
            "decided among the trials it had); start a new run"
        )


def grown(history: History, trials: int, where: str) -> Round | None:
    """The search's newest round grown so that the search has ``trials`` trials in all (None:
    it has that many already), checked against the trials already run."""
    if not is_int(trials) or trials < 1:
        raise ConfigError(f"must be a positive integer, got {trials!r}", key="--trials")
    last = history.rounds[-1]
    highest = max((r.trial for r in history.records), default=-1)
    floor = max(highest + 1, last.first + 1)
    if trials < floor:
        earlier = "" if last.number == 0 else f" (rounds before {last.number} hold {last.first})"
        raise ConfigError(
            f"{trials} is below the trials {where} already ran ({len(history.records)}, up to "
            f"trial {highest}{earlier}); give at least {floor}",
            key="--trials",
        )
    if trials == history.planned:
        return None
    count = trials - last.first
    return last.grown(count, _more_picks(history, last, count))


def _more_picks(history: History, last: Round, count: int) -> tuple[Mapping[str, Any], ...]:
    """A model-guided round grown: its picks, then the ones the same model (of the rounds
    before it) takes next — what the round would have picked had it been that large."""
    if not last.points or count <= len(last.points):
        return ()
    from hpsearch.guidance import Model

    before = [r for r in history.records if r.round < last.number]
    model = Model.of(history.config.space, before, history.goal, history.prior)
    if model is None:
        return ()
    picks = model.pick(last.region, count, last.seed, history.goal)
    return (*last.points, *picks[len(last.points) :])


def to_retry(records: Sequence[TrialRecord], statuses: Sequence[str]) -> set[int]:
    return {r.trial for r in records if r.status in statuses}
