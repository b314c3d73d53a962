"""The options a command takes on its command line and as API keywords, in one table:
keyword → (flag, rule). ``Config.with_overrides`` and the Python API check their values here,
so ``--rounds 1.5`` and ``rounds=1.5`` are refused with the same line, before anything is
written. The rules are the config file's (``rules.py``): an option says what its key says."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from hpsearch.config import rules
from hpsearch.config.cluster import KINDS, RUN_RULES
from hpsearch.config.rules import Broken, got, is_number
from hpsearch.config.search import SEARCH
from hpsearch.errors import ConfigError


@dataclass(frozen=True)
class Fraction:
    """A share: more than 0, at most 1 (``--top-fraction``)."""

    def check(self, value: Any) -> float:
        if not is_number(value) or not 0 < value <= 1:
            raise Broken(f"must be in (0, 1], got {got(value)}")
        return float(value)


@dataclass(frozen=True)
class DirectoryPath:
    """A path as a string or a ``pathlib.Path`` (``--runs-dir``)."""

    def check(self, value: Any) -> Any:
        if isinstance(value, os.PathLike) or (isinstance(value, str) and value.strip()):
            return value
        raise Broken(f"must be a directory path, got {got(value)}")


@dataclass(frozen=True)
class Option:
    """How an option is named in a message (its flag), and the rule its value obeys."""

    flag: str
    rule: Any  # a Rule, or any object with ``check(value)`` raising ``Broken``


_TRIALS = Option("--trials", SEARCH["trials"])

OPTIONS: dict[str, Option] = {
    "name": Option("--name", rules.NAME),
    "seed": Option("--seed", rules.SEED),
    "trials": _TRIALS,
    "n": _TRIALS,  # sample's trials
    "budget": Option("--budget", SEARCH["budget"]),
    "warm_start": Option("--warm-start", SEARCH["warm_start"]),
    "time_budget": Option("--time-budget", SEARCH["time_budget"]),
    "rounds": Option("--rounds", rules.ZOOM["rounds"]),
    "jobs": Option("--jobs", rules.JOBS),
    "backend": Option("--backend", rules.backend_rule()),
    "scheduler": Option("--scheduler", rules.run_rules()["scheduler"]),
    "scheduler_file": Option("--scheduler-file", RUN_RULES["scheduler_file"]),
    "cluster": Option("--cluster", rules.OneOf(KINDS, what="cluster kind")),
    "runs_dir": Option("--runs-dir", DirectoryPath()),
    "early_stop": Option("--early-stop", rules.EARLY_STOP["method"]),
    "min_epochs": Option("--min-epochs", rules.EARLY_STOP["min_epochs"]),
    "eta": Option("--eta", rules.EARLY_STOP["eta"]),
    "max_epochs": Option("--max-epochs", rules.EARLY_STOP["max_epochs"]),
    "keep_checkpoints": Option("--keep-checkpoints", rules.EARLY_STOP["keep_checkpoints"]),
    "devices": Option("--devices", rules.DEVICES),
    "per_device": Option("--per-device", rules.PER_DEVICE),
    "top": Option("--top", rules.ZOOM["top"]),
    "top_fraction": Option("--top-fraction", Fraction()),
    "margin": Option("--margin", rules.ZOOM["margin"]),
    "seeds": Option("--seeds", rules.Integer(low=2)),
    "data_seed": Option("--data-seed", rules.SEED),
    "data_source": Option("--data-source", rules.Text("a data source name")),
}

ZOOM_TRIALS = Option("--trials", rules.ZOOM["trials"])  # a zoom round's trials (zoom.trials)


def checked(option: Option, value: Any) -> Any:
    """``value`` as the option keeps it (a NumPy integer as an ``int``); a ``ConfigError``
    naming the flag when it breaks the rule."""
    try:
        return option.rule.check(value)
    except Broken as broken:
        raise ConfigError(str(broken), key=option.flag) from None


def check(**values: Any) -> dict[str, Any]:
    """Each value given (not None) checked by its option's rule, in order; the values as
    kept."""
    return {
        name: value if value is None else checked(OPTIONS[name], value)
        for name, value in values.items()
    }


def check_cuda_devices(devices: Any, *, raw: bool) -> None:
    """``--devices`` (and the API's ``devices``) must name CUDA devices, unless raw."""
    if raw and devices is None:
        raise ConfigError("applies to --devices only: give --devices LIST too", key="--devices-raw")
    if devices is None or raw:
        return
    listed = devices if isinstance(devices, str) else ",".join(str(d) for d in devices)
    found = rules.cuda_devices_problem(listed)
    if found:
        raise ConfigError(found, key="--devices")
