"""``--set key=value`` from the command line: a value read as YAML, put into the parsed file
at a dotted key (``model.epochs=20``) before the config is checked, so the file's rules and
messages apply; a problem in a value set so is blamed on its ``--set``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hpsearch import yamlio
from hpsearch.errors import ConfigError, show

Origins = dict[tuple, str]  # key path -> the --set that wrote it


def parse_setting(text: str) -> tuple[str, Any]:
    """``key=value`` from the command line; the value is read as YAML (1e-3, true, adam)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"expected key=value, got '{text}'", key="--set")
    try:
        value, _ = yamlio.load(raw.strip() or "''", "--set")
    except ConfigError as exc:  # named like the other --set errors: `--set lr: ...`
        inner = exc.key or ""
        where = f"--set {key}" + ("." if inner and not inner.startswith("[") else "") + inner
        raise ConfigError(exc.message, key=where) from None
    if raw.strip().lower().lstrip("+-") in ("nan", "inf", "infinity"):
        value = float(raw)  # YAML spells them .nan and .inf; on a command line they are numbers
    return key, value


def parameter_setting(text: str) -> tuple[str, Any]:
    """``train --set``: ``name=value`` for one parameter; ``model.name`` and ``space.name``,
    the dotted keys of ``run --set``, name the same parameter."""
    key, value = parse_setting(text)
    section, dot, name = key.partition(".")
    if dot and section in ("model", "space") and name and "." not in name:
        return name, value
    return key, value


def apply_settings(
    data: Any, lines: dict[tuple, int], settings: Iterable[str]
) -> tuple[Any, Origins]:
    """The parsed file ``data`` with each ``key=value`` of ``settings`` put in (a section or
    mapping on the way made if missing), and which key paths the settings wrote. ``lines``
    forgets what a setting replaced."""
    origins: Origins = {}
    for text in settings:
        key, value = parse_setting(text)
        path = tuple(key.split("."))
        if not all(part.strip() for part in path):
            raise ConfigError(
                "expected a dotted key such as model.epochs, with no empty part",
                key=f"--set {text}",
            )
        if data is None:
            data = {}
        if not isinstance(data, dict):
            return data, origins  # the parser says what is wrong with the file itself
        data = _put(data, path, value, text, origins)
        for known in [p for p in lines if p[: len(path)] == path]:
            del lines[known]
    return data, origins


def _put(data: dict, path: tuple, value: Any, text: str, origins: Origins) -> dict:
    node = data
    for depth, part in enumerate(path[:-1], start=1):
        inner = node.get(part)
        if inner is None:
            inner = node[part] = {}
            origins.setdefault(path[:depth], text)  # made here: its problems are this --set's
        elif not isinstance(inner, dict):
            where = yamlio.dotted(path[:depth])
            raise ConfigError(
                f"{where} is {_shown(inner)}, not a mapping of settings", key=f"--set {text}"
            )
        node = inner
    node[path[-1]] = value
    origins[path] = text
    return data


def _shown(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return show(value)


def blame(origins: Origins, path: tuple, message: str) -> ConfigError | None:
    """The error for a problem at ``path`` when a ``--set`` wrote it (or a mapping it lies
    in), else None."""
    for cut in range(len(path), 0, -1):
        text = origins.get(path[:cut])
        if text is not None:
            inner = yamlio.dotted(path) if cut < len(path) else ""
            return ConfigError(f"{inner}: {message}" if inner else message, key=f"--set {text}")
    return None
