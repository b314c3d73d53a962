"""Config files: YAML in, a validated frozen ``Config`` out, or one clear ``ConfigError``.

This package owns every message about a config file. Each names the file, the line, the key
path, the rule and the value found::

    quickstart.yaml:7: space.learning_rate.min: must be > 0 for scale 'log', got 0

- ``model``: the dataclasses everything downstream trusts
- ``rules``: the rule each value obeys, one table per section
- ``parser``: the walk over the YAML that applies them; ``params``: the hyperparameters
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from hpsearch import yamlio
from hpsearch.config.model import (
    Config,
    ObjectiveConfig,
    RunConfig,
    SearchConfig,
    ZoomConfig,
)
from hpsearch.config.rules import backend_problem, jobs_problem, name_problem
from hpsearch.data.sources import DataConfig
from hpsearch.errors import ConfigError

__all__ = [
    "Config",
    "DataConfig",
    "ObjectiveConfig",
    "RunConfig",
    "SearchConfig",
    "ZoomConfig",
    "backend_problem",
    "jobs_problem",
    "load_config",
    "name_problem",
    "parse_config",
]


def load_config(
    path: str | Path, settings: Iterable[str] = (), *, text: str | None = None
) -> Config:
    """Read and validate a config file, with ``settings`` (``--set key=value``, dotted keys)
    put in first. Raises ConfigError with file, line and key (or the ``--set``). ``text``: the
    file's content, already read (a run's config.yaml, read as every run file is)."""
    from hpsearch.config.overrides import apply_settings

    filename = str(path)
    if text is None:
        text = _read_text(Path(path), filename)
    data, lines = yamlio.load(text, filename)
    data, origins = apply_settings(data, lines, settings)
    return parse_config(
        data, filename=filename, lines=lines, default_name=Path(path).stem, origins=origins
    )


def parse_config(
    data: Any,
    *,
    filename: str = "<config>",
    lines: Mapping[tuple, int] | None = None,
    default_name: str = "search",
    origins: Mapping[tuple, str] | None = None,
) -> Config:
    """Validate already-parsed YAML data (``lines`` maps key paths to line numbers,
    ``origins`` the ones a ``--set`` wrote to it)."""
    from hpsearch.config.parser import Parser

    return Parser(filename, lines or {}, origins).config(data, default_name)


def _read_text(path: Path, filename: str) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError("file not found", file=filename) from None
    except IsADirectoryError:
        raise ConfigError("is a directory, expected a YAML config file", file=filename) from None
    except PermissionError:
        raise ConfigError("cannot read the file: permission denied", file=filename) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the file: {exc.strerror or exc}", file=filename) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"is not UTF-8 text (byte {exc.start}); expected a YAML config file", file=filename
        ) from None
