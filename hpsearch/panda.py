"""Panda mode: babysit one model. Train a single configuration in the foreground, saved as a
one-trial run so that ``show`` and ``plot`` work on it."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpsearch.config import Config, parse_config
from hpsearch.errors import ConfigError
from hpsearch.objectives import Report
from hpsearch.record import TrialRecord
from hpsearch.store import RunStore


@dataclass
class Panda:
    config: Config  # the one-trial config: every value fixed, nothing searched
    values: dict[str, Any]  # the values of the parameters the original config searched
    chosen: dict[str, str]  # where each of those values came from
    shown: dict[str, str]  # each of those values formatted for its scale

    def train(self, report: Report | None = None) -> PandaOutcome:
        """Train it (``train_one``)."""
        return train_one(self, report)


def plan(
    config: Config, settings: Mapping[str, Any], from_params: Mapping[str, Any] | None = None
) -> Panda:
    """Fix every parameter this config searches: ``--set`` first, then the run's best
    (``--from``), else the middle of its range (the median of a draw, on its own scale). The
    config's own fixed settings stay; ``--set`` may also change one of them."""
    values, chosen = {}, {}
    for p in config.space:
        if p.name in settings:
            values[p.name], chosen[p.name] = _checked(p, settings[p.name]), "--set"
        elif from_params and p.name in from_params and p.contains(from_params[p.name]):
            values[p.name], chosen[p.name] = from_params[p.name], "--from"
        else:
            values[p.name], chosen[p.name] = p.from_unit(0.5), "middle of its range"
    if config.space.conditions:  # a conditional parameter whose condition fails is left out
        active = config.space.active(values)
        for name in [n for n in values if n not in active]:
            if chosen[name] == "--set":
                from hpsearch.space import describe_condition

                raise ConfigError(
                    f"'{name}' is inactive with these values (when: "
                    f"{describe_condition(config.space.condition(name))}); set what it "
                    "depends on, or leave it out",
                    key=f"--set {name}",
                )
            del values[name], chosen[name]
    extra = {k: v for k, v in settings.items() if k not in values and k not in config.space}
    resolved = config.to_dict(absolute_paths=True)
    resolved["model"] = {**resolved["model"], **extra, **values}
    resolved["space"] = {}
    resolved["search"] = {
        **{k: v for k, v in resolved["search"].items() if k != "budget"},
        "trials": 1,
    }
    resolved["zoom"] = {**resolved["zoom"], "rounds": 0}
    try:
        one = parse_config(resolved, filename="--set", default_name=config.name)
    except ConfigError as exc:  # a fixed setting given by --set: named as the user wrote it
        name = (exc.key or "").removeprefix("model.")
        if name not in settings:
            raise
        raise ConfigError(exc.message, key=f"--set {name}") from None
    shown = {p.name: p.format(values[p.name]) for p in config.space if p.name in values}
    return Panda(one, values, chosen, shown)


def _checked(p, value: Any) -> Any:
    """A ``--set`` value for a searched numeric parameter must be a number (an integer for an
    integer parameter); it may leave the searched range."""
    from hpsearch.space import ChoiceParam

    if isinstance(p, ChoiceParam):
        return value  # another value than the listed ones is a fair experiment
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"must be a number, got {value!r}", key=f"--set {p.name}")
    if p.integer and value != int(value):
        raise ConfigError(f"must be an integer, got {value!r}", key=f"--set {p.name}")
    return int(value) if p.integer else float(value)


@dataclass
class PandaOutcome:
    status: str  # complete | interrupted (Ctrl-C kept what was learned)
    run_dir: Path
    summary: dict[str, Any]
    record: TrialRecord


def train_one(panda: Panda, report: Report | None = None) -> PandaOutcome:
    """Train the one configuration, calling ``report(epoch, **metrics)`` after every epoch,
    through the same trial function as every trial of a search. Ctrl-C (or SIGTERM) stops
    the built-in trainer with what it learned so far: the run is then ``interrupted``."""
    from hpsearch import interrupts
    from hpsearch.leaderboard import results_of
    from hpsearch.objectives import build_objective, record_for, trial_outcome
    from hpsearch.runner import one_blas_thread
    from hpsearch.sampling import Trial, training_seed

    config = panda.config
    objective = build_objective(config)
    store = RunStore.create(config, config.run.runs_dir, kind="panda")
    devices = config.run.devices
    trial = Trial(
        0,
        dict(panda.values),
        training_seed(config.seed, 0),
        device=devices[0] if devices else None,  # one model: the first device
    )
    started = time.perf_counter()
    with interrupts.stop_on_signals(), one_blas_thread():  # the same numbers as in a search
        outcome, seconds = trial_outcome(objective, trial, config.trial_timeout, report)
    record = record_for(trial, outcome, seconds)
    status = "interrupted" if outcome.interrupted else "complete"
    with interrupts.protected(raise_after=False):
        store.append(record)
        store.close()
        summary = store.write_results(
            results_of(config, [record]),
            status=status,
            wall_time=time.perf_counter() - started,
            extra={"panda": {"values": panda.values, "chosen": panda.chosen}},
        )
    return PandaOutcome(status, store.path, summary, record)
