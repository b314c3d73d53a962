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
    # Reports the network's size as the metric ``parameters`` (asked for by the search's
    # metrics or constraints; left out otherwise, so a run's records stay as they were).
    size: bool = False

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
        metrics = result.metrics
        if self.size and result.parameters:
            metrics = {**metrics, "parameters": float(result.parameters)}
        return Outcome(
            "ok" if interrupted else result.status,
            metrics,
            result.epochs,
            result.curves,
            result.reason,
            interrupted=interrupted,
        )
