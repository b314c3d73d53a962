"""The built-in NumPy trainer as an objective."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hpsearch.objectives.base import Fixing, Outcome, Report


@dataclass(frozen=True)
class TrainerObjective(Fixing):
    """Train the built-in network: fixed settings (every unsearched default filled in)
    overridden by the trial's values."""

    dataset: Any  # hpsearch.data.Dataset
    fixed: Mapping[str, Any]
    metric: str = "val_accuracy"

    def __call__(
        self,
        params: Mapping[str, Any],
        seed: int,
        timeout: float | None,
        index: int = 0,
        report: Report | None = None,
        budget: int | None = None,
        checkpoint_dir: str | None = None,
        device: str | None = None,  # NumPy on the CPU: devices do not apply
    ) -> Outcome:
        from hpsearch.trainer import train
        from hpsearch.trainer.registry import selection_metric

        # A live observer means one model trained in the foreground: Ctrl-C stops it and
        # keeps what it learned.
        result = train(
            {**self.fixed, **params},
            self.dataset,
            seed,
            report=report,
            best_by=selection_metric(self.metric),
            interruptible=report is not None,
            timeout=timeout,
            budget=budget,
            checkpoint_dir=checkpoint_dir,
        )
        interrupted = result.status == "interrupted"
        return Outcome(
            "ok" if interrupted else result.status,
            result.metrics,
            result.epochs,
            result.curves,
            result.reason,
            interrupted=interrupted,
        )
