"""What a trial runs: the built-in trainer, a user's Python function or a shell command.

``build_objective(config)`` makes the config's objective, checked before any trial starts;
``run_trial`` runs one trial of it and returns its record, never raising. Every objective
takes a trial's params over its fixed settings, so no caller asks which kind it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hpsearch.config.params import takes_budget
from hpsearch.errors import ConfigError
from hpsearch.objectives.base import (
    Objective,
    Outcome,
    Report,
    interpret,
    misses_metric,
    record_for,
    run_trial,
    trial_outcome,
)
from hpsearch.objectives.command import CommandObjective
from hpsearch.objectives.python import (
    PythonObjective,
    budget_problem,
    check_signature,
    load_function,
    requires,
)
from hpsearch.objectives.trainer import TrainerObjective

if TYPE_CHECKING:
    from hpsearch.config import Config

__all__ = [
    "CommandObjective",
    "Objective",
    "Outcome",
    "PythonObjective",
    "Report",
    "TrainerObjective",
    "build_objective",
    "interpret",
    "misses_metric",
    "record_for",
    "run_trial",
    "trial_outcome",
]


def build_objective(config: Config) -> Objective:
    """What the config's trials run, checked before any trial starts (ConfigError, exit 2):
    the built-in trainer on its data (loaded here), or a Python function (imported here, its
    signature checked), or a command (its directory must exist)."""
    kind = config.objective.kind
    workdir = config.workdir
    if kind == "trainer":
        from hpsearch.data import load_dataset

        dataset = load_dataset(config.data, config.data_seed, config.base_dir)
        goal = config.search
        named = [m for m, _ in goal.metrics] + [c.split()[0] for c in goal.constraints]
        return TrainerObjective(
            dataset, config.resolved_model(), goal.metric, size="parameters" in named
        )
    if not workdir.is_dir():
        raise ConfigError(
            f"directory {workdir} does not exist", file=config.source, key="objective.workdir"
        )
    fixed = dict(config.model)
    if kind == "command":
        assert config.objective.command is not None  # the parser set it with the kind
        if "{device}" in config.objective.command and not config.run.has_devices:
            raise ConfigError(
                "placeholder {device} needs devices to share out: run.devices (or --devices), "
                "or run.cluster.gpus",
                file=config.source,
                key="objective.command",
            )
        return CommandObjective(
            config.objective.command,
            str(workdir),
            fixed,
            config.search.metric,
            config.full_budget
            if config.early_stop.on or takes_budget(config.objective.command)
            else None,
        )
    spec = config.objective.python
    assert spec is not None  # the parser set it with the kind
    try:
        function = load_function(spec, str(workdir))
    except (Exception, SystemExit) as exc:
        raise ConfigError(
            f"cannot load '{spec}' (from {workdir}): {type(exc).__name__}: {exc}",
            file=config.source,
            key="objective.python",
        ) from None
    # Without early stopping, a function that requires budget= or checkpoint_dir= is given
    # the full epochs and a checkpoint directory of its own.
    on = config.early_stop.on
    needs = requires(function, "budget") or requires(function, "checkpoint_dir")
    full = config.full_budget if on or needs else None
    problem = check_signature(function, on or full is not None, config.run.has_devices)
    if not problem and on:
        problem = budget_problem(function)
    if problem:
        raise ConfigError(f"'{spec}' {problem}", file=config.source, key="objective.python")
    return PythonObjective(spec, str(workdir), fixed, config.search.metric, full)
