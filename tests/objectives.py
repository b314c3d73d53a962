"""Objectives for tests: importable by worker processes, each with a known behaviour."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hpsearch.objectives import Outcome
from hpsearch.objectives.base import Fixing


@dataclass(frozen=True)
class Known(Fixing):
    """What every objective is: a callable that can fix more of its parameters."""

    dataset = None  # they load no data
    fixed: Mapping[str, Any] = field(default_factory=dict, kw_only=True)


@dataclass(frozen=True)
class Faulty(Known):
    """Kind 1 raises, 2 diverges, 3 overruns its timeout, 4 kills its own worker process."""

    def __call__(self, params, seed, timeout, index=0, report=None):
        kind = params["hidden_units"] - 10  # the tests choose hidden_units in 10..15
        if kind == 1:
            raise ValueError("bad things happen")
        if kind == 2:
            return Outcome("diverged", {}, epochs=3, error="loss became nan in epoch 3")
        if kind == 3:
            start = time.perf_counter()
            while time.perf_counter() - start < 5:
                if timeout is not None and time.perf_counter() - start > timeout:
                    return Outcome("timeout", {}, error=f"took longer than {timeout:g} s")
                time.sleep(0.01)
        if kind == 4:
            os.kill(os.getpid(), signal.SIGKILL)
        return Outcome("ok", {"val_accuracy": 0.5 + kind / 100}, epochs=1)


OPTIMUM = {"learning_rate": 3e-3, "beta1": 0.99, "hidden_units": 40}


@dataclass(frozen=True)
class Bowl(Known):
    """A smooth bowl in unit-like coordinates with its best value at ``OPTIMUM``."""

    def __call__(self, params, seed, timeout, index=0, report=None):
        import math

        d = (math.log10(params["learning_rate"] / OPTIMUM["learning_rate"])) ** 2
        d += (math.log10((1 - params["beta1"]) / (1 - OPTIMUM["beta1"]))) ** 2
        d += ((params["hidden_units"] - OPTIMUM["hidden_units"]) / 50) ** 2
        return Outcome("ok", {"val_accuracy": 1.0 - d, "val_loss": d}, epochs=1)


@dataclass(frozen=True)
class KillOnce(Known):
    """Kills its own worker process the first time trial 2 runs (a marker file remembers)."""

    marker: str

    def __call__(self, params, seed, timeout, index=0, report=None):
        if index == 2 and not os.path.exists(self.marker):
            with open(self.marker, "w") as f:
                f.write(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(0.05)
        return Outcome("ok", {"val_accuracy": params["hidden_units"] / 100}, epochs=1)


@dataclass(frozen=True)
class KillOnceLoky(Known):
    """Trial 3 kills its worker process on its first attempt only (a marker file remembers)."""

    marker: str

    def __call__(self, params, seed, timeout, index=0, report=None):
        if index == 3 and not os.path.exists(self.marker):
            with open(self.marker, "w") as f:
                f.write("killed")
            os.kill(os.getpid(), signal.SIGKILL)
        return Outcome("ok", {"val_accuracy": 0.5 + index / 100}, epochs=1)


@dataclass(frozen=True)
class Greedy(Known):
    """Trial 1 asks for far more memory than its limit allows."""

    def __call__(self, params, seed, timeout, index=0, report=None):
        import resource

        if index == 1:
            soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            resource.setrlimit(resource.RLIMIT_AS, (2 << 30, hard))
            try:
                blocks = [bytearray(512 << 20) for _ in range(16)]  # 8 GiB
                return Outcome("ok", {"val_accuracy": len(blocks)})
            finally:
                resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        return Outcome("ok", {"val_accuracy": 0.5 + index / 100}, epochs=1)


@dataclass(frozen=True)
class AlwaysKill(Known):
    """Trial 2 kills its worker process every time it runs."""

    def __call__(self, params, seed, timeout, index=0, report=None):
        if index == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        return Outcome("ok", {"val_accuracy": 0.5 + index / 100}, epochs=1)


@dataclass(frozen=True)
class Constant(Known):
    """Every trial scores ``value``."""

    value: float

    def __call__(self, params, seed, timeout, index=0, report=None):
        return Outcome("ok", {"val_accuracy": self.value}, epochs=1)


@dataclass(frozen=True)
class Budgeted(Known):
    """Early stopping through the API: its metric depends on the learning rate and on the
    epochs it is asked to reach."""

    def __call__(
        self, params, seed, timeout, index=0, report=None, budget=None, checkpoint_dir=None
    ):
        lr = params["learning_rate"]
        value = 1.0 - abs(lr - 0.05) - 1.0 / (1.0 + 50 * lr * (budget or 9))
        return Outcome("ok", {"val_accuracy": value}, epochs=budget)


@dataclass(frozen=True)
class ScancelOnce(Known):
    """Trial 2 cancels its own batch job (``scancel $SLURM_JOB_ID``: a walltime or a
    preemption) on its first attempt, then waits to be killed; a marker file remembers."""

    marker: str
    pause: float = 0.05  # seconds every other trial takes

    def __call__(self, params, seed, timeout, index=0, report=None):
        import subprocess

        if index == 2 and not os.path.exists(self.marker):
            with open(self.marker, "w") as f:
                f.write(os.environ.get("SLURM_JOB_ID", "?"))
            subprocess.run(["scancel", os.environ["SLURM_JOB_ID"]], check=True)
            time.sleep(30)
        time.sleep(self.pause)
        return Outcome("ok", {"val_accuracy": 0.5 + index / 100}, epochs=1)


@dataclass(frozen=True)
class WhereRun(Known):
    """Writes the device it was told (``device=``) and its job to ``folder/<trial>``."""

    folder: str

    def __call__(self, params, seed, timeout, index=0, report=None, device=None):
        with open(os.path.join(self.folder, str(index)), "w") as f:
            f.write(f"{device} {os.environ.get('SLURM_JOB_ID')} {os.getpid()}")
        time.sleep(0.2)
        return Outcome("ok", {"val_accuracy": 0.5 + index / 100}, epochs=1)
