"""Trial i -> its hyperparameters and training seed, from (seed, i) alone.

Every trial has its own random stream, ``SeedSequence(seed, spawn_key=(i, k))``, so trial i
is the same whether 10 or 1,000 trials are drawn, in whatever order and on however many
workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hpsearch.space import Space

_PARAMS_STREAM = 0
_TRAINING_STREAM = 1


@dataclass(frozen=True)
class Trial:
    index: int
    params: dict[str, Any]
    seed: int  # the training seed: initialisation, shuffling, anything random in the trial


def trial_stream(seed: int, index: int, stream: int) -> np.random.SeedSequence:
    """The seed sequence of one of a trial's independent random streams."""
    return np.random.SeedSequence(seed, spawn_key=(index, stream))


def sample_trial(space: Space, seed: int, index: int) -> Trial:
    """Trial ``index`` of a search seeded with ``seed``."""
    rng = np.random.default_rng(trial_stream(seed, index, _PARAMS_STREAM))
    training_seed = int(trial_stream(seed, index, _TRAINING_STREAM).generate_state(1)[0])
    return Trial(index=index, params=space.sample(rng), seed=training_seed)


def sample_trials(space: Space, seed: int, count: int, start: int = 0) -> list[Trial]:
    """Trials ``start`` .. ``start + count - 1``."""
    return [sample_trial(space, seed, i) for i in range(start, start + count)]
