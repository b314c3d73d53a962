"""Every seed hpsearch derives, and trial i -> its hyperparameters and training seed.

Every trial has its own random streams, ``SeedSequence(seed, spawn_key=(i, k))``, so trial i
is the same whether 10 or 1,000 trials are drawn, in whatever order and on however many
workers. The other seeds derive from the search's seed in ways that never meet a trial's:
the data's streams (a spawn key of one number), a zoom round's seed, a re-test's fresh seeds
and the seed a best.yaml re-trains with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hpsearch.space import Space

_PARAMS_STREAM = 0
_TRAINING_STREAM = 1
# spawn_key of the data's random streams: one number, so never a trial's (i, k).
DATA_GENERATE_STREAM = 2**31
DATA_SPLIT_STREAM = 2**31 + 1
_RETEST = 0x7E57
_RETRAIN = 7


@dataclass(frozen=True)
class Trial:
    index: int
    params: dict[str, Any]
    seed: int  # the training seed: initialisation, shuffling, anything random in the trial
    # Early stopping: the epochs to reach in this training, and where the trial keeps what
    # it needs to continue (None: train fully, keep nothing).
    budget: int | None = None
    checkpoint_dir: str | None = None
    # Device slots: the device this trial runs on (set by the runner; never recorded, since
    # which slot runs a trial depends on timing).
    device: str | None = None
    round: int = 0  # the round of the search it belongs to


class _Wait:
    """Yielded by a stream of trials that has none ready now but will (early stopping: a
    rung waits for its last results); the runner asks again after the next result."""

    def __repr__(self) -> str:
        return "WAIT"


WAIT = _Wait()


def ready_trials(trials: Any, n: int) -> list[Trial]:
    """Up to ``n`` trials of an iterator that are ready now: fewer at its end, or where it
    says ``WAIT`` (no trial until a result is taken)."""
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


def trial_stream(seed: int, index: int, stream: int) -> np.random.SeedSequence:
    """The seed sequence of one of a trial's independent random streams."""
    return np.random.SeedSequence(seed, spawn_key=(index, stream))


def sample_trial(space: Space, seed: int, index: int) -> Trial:
    """Trial ``index`` of a search seeded with ``seed``."""
    rng = np.random.default_rng(trial_stream(seed, index, _PARAMS_STREAM))
    return Trial(index=index, params=space.sample(rng), seed=training_seed(seed, index))


def sample_trials(space: Space, seed: int, count: int, start: int = 0) -> list[Trial]:
    """Trials ``start`` .. ``start + count - 1``."""
    return [sample_trial(space, seed, i) for i in range(start, start + count)]


def training_seed(seed: int, index: int) -> int:
    """The training seed of trial ``index`` (also of a one-model run: trial 0)."""
    return int(trial_stream(seed, index, _TRAINING_STREAM).generate_state(1)[0])


def data_rng(seed: int, stream: int = DATA_GENERATE_STREAM) -> np.random.Generator:
    """The data's random generator for a search seed (``stream``: generation or split)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream,)))


def round_seed(seed: int, round_: int) -> int:
    """Each round after the first samples its own trials: a seed from the round before's
    seed and its number (as hpsearch 0.1 chained them)."""
    return _derived(seed, round_)


def retest_seed(original: int, j: int) -> int:
    """The ``j``-th fresh seed for re-testing a trial trained with ``original``."""
    return _derived(original, _RETEST, j)


def retrain_seed(original: int) -> int:
    """The seed best.yaml re-trains a winner with (not the winner's own, maybe lucky, one)."""
    return _derived(original, _RETRAIN)


def _derived(*entropy: int) -> int:
    return int(np.random.SeedSequence(list(entropy)).generate_state(1)[0])
