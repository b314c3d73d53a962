"""A starter config (``hpsearch init``): the hyperparameters the course tunes first, each on
its suggested scale and range from the trainer's registry, with comments that say why.

The text is read back and checked as a config, and its data loaded, before it is written; it
is written whole (``files.atomic_write``) and never over an existing file.
"""

from __future__ import annotations

import json
import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from hpsearch import yamlio
from hpsearch.config import Config, parse_config
from hpsearch.config.rules import Broken, got, is_integer
from hpsearch.data import load_dataset
from hpsearch.data.sources import BUILT_IN, DATA_KEYS, DATA_SOURCES, FILE_SUFFIXES
from hpsearch.errors import ConfigError, UserError, one_line
from hpsearch.files import atomic_write
from hpsearch.trainer.registry import REGISTRY, TIERS, Hyperparam

DEFAULT_PATH = Path("hpsearch.yaml")
DEFAULT_TIER = 2
DEFAULT_DATA = "spirals"  # as configs/quickstart.yaml
QUICKSTART_DATA = "{source: spirals, classes: 4, samples: 2000, noise: 0.2, val_fraction: 0.2}"
MODEL = {"layers": 2, "epochs": 30, "optimizer": "adam"}  # fixed unless searched
TRIALS_PER_PARAM, MIN_TRIALS = 10, 20

SCALE_NOTES = {
    "log": "evenly per decade",
    "one_minus_log": "evenly per decade of 1 - β",
    "linear": "evenly",
}


@dataclass(frozen=True)
class Starter:
    """What ``init`` wrote: the file, the searched hyperparameters with their tiers, the data
    and the number of trials."""

    path: Path
    params: tuple[tuple[str, int], ...]
    data: str
    trials: int


def starter_params(tier: int) -> list[Hyperparam]:
    """The registry's hyperparameters of tiers 1 to ``tier`` that a first search spans."""
    check_tier(tier)
    wanted = range(1, tier + 1)
    chosen = [h for h in REGISTRY.values() if h.search_range and h.tier in wanted]
    return sorted(chosen, key=lambda h: h.tier or 0)


class TierRule:
    """``--tier`` (and ``hpsearch.init``'s ``tier``): 1, 2 or 3."""

    def check(self, value: object) -> int:
        if is_integer(value) and int(value) in TIERS:  # type: ignore[call-overload]
            return int(value)  # type: ignore[call-overload]
        raise Broken(f"must be 1, 2 or 3, got {got(value)}")


def check_tier(tier: object) -> None:
    """``tier`` is 1, 2 or 3, or a UserError says so (as ``--tier``)."""
    try:
        TierRule().check(tier)
    except Broken as exc:
        raise UserError(f"--tier: {exc}") from None


def starter_text(tier: int = DEFAULT_TIER, data: str = DEFAULT_DATA, base: Path = Path(".")) -> str:
    """The commented YAML of a starter config; ``base``: the directory it will be in (a data
    file's path is written relative to it)."""
    params = starter_params(tier)
    searched = {h.name for h in params}
    model = ", ".join(f"{k}: {v}" for k, v in MODEL.items() if k not in searched)
    trials = _trials(params)
    tiers = "tier 1" if tier == 1 else f"tiers 1 to {tier}"
    lines = [
        f"# A starter search (hpsearch init --tier {tier}): the hyperparameters of the course's",
        f"# {tiers}, each on its suggested scale and range; hpsearch params lists every one",
        "# with its tier. Settings under model are fixed; move one to space to search it.",
        "seed: 0",
        f"data: {_data_section(data, base)}",
        f"model: {{{model}}}  # fixed for every trial",
        "space:  # what is searched",
    ]
    for h in params:
        lines.append(f"  # tier {h.tier}, {TIERS[h.tier or 0]}: {h.description}")
        lines.append(f"  # {_scale_note(h)}")
        lines.append(f"  {h.name}: {_param_yaml(h)}")
    kept = "β2 and ε" if "beta1" in searched else "β1, β2 and ε"
    lines += [
        f"  # Adam's {kept} are usually left at their defaults (hpsearch params).",
        f"search: {{trials: {trials}, metric: val_accuracy, direction: maximize}}"
        f"  # about {TRIALS_PER_PARAM} per parameter",
        "zoom: {top: 2, margin: 0.2, trials: 20, rounds: 0}  # coarse to fine: hpsearch zoom RUN",
        "run: {jobs: -1, backend: processes, runs_dir: runs}",
    ]
    return "\n".join(lines) + "\n"


def write_starter(
    path: Path | str = DEFAULT_PATH, tier: int = DEFAULT_TIER, data: str | None = None
) -> Starter:
    """Write a starter config to ``path``, checked as a run would check it; never over a file
    that exists."""
    target = Path(path)
    source = DEFAULT_DATA if data is None else data
    check_tier(tier)
    _refuse_existing(target)
    if not target.parent.is_dir():  # before --data, whose path from there cannot be found
        folder = shlex.quote(str(target.parent))
        raise UserError(f"{target}: no directory {folder}; make it first (mkdir -p {folder})")
    text = starter_text(tier, source, target.parent)
    config = _checked(text, target, source)
    try:
        atomic_write(target, text, exclusive=True)
    except FileExistsError:
        _refuse_existing(target)
        raise
    except OSError as exc:
        raise UserError(f"{target}: cannot write: {exc.strerror or exc}") from None
    params = tuple((h.name, h.tier or 0) for h in starter_params(tier))
    return Starter(target, params, source, config.search.trials)


def _refuse_existing(target: Path) -> None:
    if os.path.lexists(target):
        raise UserError(f"{target} exists; give another path or remove it")


def _checked(text: str, target: Path, source: str) -> Config:
    """The config ``text`` is, with its data loaded; a problem with ``--data`` named so."""
    data, lines = yamlio.load(text, str(target))
    try:
        config = parse_config(data, filename=str(target), lines=lines, default_name=target.stem)
    except ConfigError as exc:
        if exc.key and exc.key.startswith("data"):
            raise UserError(f"--data {source}: {exc.message}") from None
        raise
    try:
        load_dataset(config.data, config.seed, target.parent)
    except UserError as exc:
        raise UserError(f"--data {source}: {one_line(str(exc))}") from None
    return config


def _trials(params: list[Hyperparam]) -> int:
    return max(MIN_TRIALS, TRIALS_PER_PARAM * len(params))


def _data_section(data: str, base: Path) -> str:
    """The ``data:`` value for ``--data``: a source's name or a data file."""
    if data == DEFAULT_DATA:
        return QUICKSTART_DATA
    suffix = Path(data).suffix.lower()
    if suffix == ".csv":  # data.target: the label column
        raise UserError(
            f"--data {data}: a .csv file needs the name of its label column, which init cannot "
            f"guess: write a starter, then set data: {{path: {data}, target: COLUMN}} in it"
        )
    if suffix in FILE_SUFFIXES:
        if not Path(data).is_file():
            raise UserError(f"--data {data}: no such file")
        return f"{{path: {_quoted(_relative(data, base))}}}"
    if data in DATA_SOURCES and data not in BUILT_IN:
        raise UserError(f"--data {data}: give the .{data} file itself, e.g. --data train.{data}")
    if data in BUILT_IN:  # the keys it takes, for the reader to add
        keys = ", ".join(k for k in DATA_KEYS[data] if k != "seed")
        return f"{{source: {data}}}  # also takes {keys}"
    return f"{{source: {_quoted(data)}}}"  # refused by the check, in the config's words


def _relative(file: str, base: Path) -> str:
    """``file`` (as given, from the working directory) from the config's directory."""
    try:
        # Real paths: '..' from a directory reached through a symlink leaves the real one.
        return os.path.relpath(os.path.realpath(file), os.path.realpath(base))
    except ValueError:  # another drive
        return os.path.abspath(file)


def _quoted(text: str) -> str:
    return json.dumps(text)  # a JSON string is a YAML double-quoted scalar


def _param_yaml(h: Hyperparam) -> str:
    assert h.search_range is not None
    low, high = h.search_range
    if h.type == "int":
        return f"{{scale: {h.suggested_scale}, min: {int(low)}, max: {int(high)}, type: int}}"
    return f"{{scale: {h.suggested_scale}, min: {_float(low)}, max: {_float(high)}}}"


def _float(x: float) -> str:
    """A float YAML 1.1 and 1.2 both read as one: ``1.0e-04``, not ``1e-4``."""
    return f"{x:.1e}" if 0 < abs(x) < 1e-3 else repr(float(x))


def _scale_note(h: Hyperparam) -> str:
    assert h.search_range is not None
    low, high = h.search_range
    scale = h.suggested_scale
    return f"{scale} scale: {low:g} … {high:g}, drawn {SCALE_NOTES[scale]}"
