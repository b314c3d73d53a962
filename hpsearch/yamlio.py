"""YAML in and out, with YAML 1.2 scalars, refused duplicate keys and the line of every key.

PyYAML follows YAML 1.1, which has traps for a config file: ``1e-4`` is a string (1.1 wants a
dot), ``no`` / ``on`` are booleans, ``010`` is octal, ``1:30`` is 90, and a duplicate key
silently keeps the last value. This loader reads scalars by the YAML 1.2 core schema instead
and refuses duplicates, so what a user wrote is what the config holds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import yaml

from hpsearch.errors import ConfigError

Path_ = tuple[str | int, ...]

_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_MERGE = re.compile(r"^<<$")

_CORE = "tag:yaml.org,2002:"
_RESOLVERS = [
    (_CORE + "null", _NULL, ["~", "n", "N", ""]),
    (_CORE + "bool", _BOOL, list("tTfF")),
    (_CORE + "int", _INT, list("-+0123456789")),
    (_CORE + "float", _FLOAT, list("-+.0123456789")),
    (_CORE + "merge", _MERGE, ["<"]),
]


class _Loader(yaml.SafeLoader):
    """SafeLoader with the YAML 1.2 core schema's implicit scalars only."""


_Loader.yaml_implicit_resolvers = {}
for _tag, _regexp, _first in _RESOLVERS:
    _Loader.add_implicit_resolver(_tag, _regexp, _first)


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text)


def _construct_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    text = loader.construct_scalar(node).lower()
    if text.endswith(".inf"):
        return -math.inf if text.startswith("-") else math.inf
    if text == ".nan":
        return math.nan
    return float(text)


def _construct_bool(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> bool:
    return loader.construct_scalar(node).lower() == "true"


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_Loader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)


def load(text: str, filename: str) -> tuple[Any, dict[Path_, int]]:
    """Parse one YAML document; return the data and the 1-based line of every key path.

    Raises ConfigError (with the line) for syntax errors, duplicate keys, non-scalar or
    unhashable keys, and more than one document.
    """
    loader = None
    try:
        loader = _Loader(text)  # the reader checks the characters here already
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"YAML syntax error: {problem}", file=filename, line=line) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        raise ConfigError(
            f"character #x{exc.character:04x} is not allowed in YAML", file=filename, line=line
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"YAML error: {exc}", file=filename) from None
    finally:
        if loader is not None:
            loader.dispose()
    lines: dict[Path_, int] = {}
    if node is None:
        return None, lines
    lines[()] = node.start_mark.line + 1
    return _build(loader, node, (), lines, filename), lines


def _build(loader: _Loader, node: yaml.Node, path: Path_, lines: dict, filename: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        # Keys written here, as opposed to keys brought in by a `<<: *anchor` merge: a written
        # key may override a merged one (YAML's rule); two written ones are a duplicate.
        written = {id(k) for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"}
        loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        merged: set[Any] = set()
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConfigError(
                    "a key must be a plain name, not a list or mapping",
                    file=filename,
                    line=line,
                    key=dotted(path) or None,
                )
            key = loader.construct_object(key_node)
            if id(key_node) not in written:
                if key in result:
                    continue  # an earlier merge already gave it
                merged.add(key)
            elif key in merged:
                merged.discard(key)  # a written key overrides the merged one
            elif key in result:
                where = dotted((*path, key))
                first = lines.get((*path, key))
                raise ConfigError(
                    f"duplicate key '{key}' (first given at line {first}); remove one of them",
                    file=filename,
                    line=line,
                    key=where,
                )
            lines[(*path, key)] = line
            result[key] = _build(loader, value_node, (*path, key), lines, filename)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            items.append(_build(loader, item, (*path, index), lines, filename))
        return items
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"cannot read this value: {exc}",
            file=filename,
            line=node.start_mark.line + 1,
            key=dotted(path) or None,
        ) from None


def dotted(path: Path_) -> str:
    """``('space', 'lr', 'choice', 2)`` -> ``'space.lr.choice[2]'``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Dumper(yaml.SafeDumper):
    """Block-style dumper that keeps key order, writes no anchors, and quotes every string
    that YAML 1.1 (plain PyYAML) or YAML 1.2 (this loader) would read as something else:
    ``'yes'``, ``'1:30'`` and ``'010'`` for the first, ``'1e-4'``, ``'0o17'`` and ``'-.5'``
    for the second. Floats are written so that both read them back as floats."""

    def ignore_aliases(self, data: Any) -> bool:
        return True  # a value written twice is written out twice: no `&id001` in a config


# The emitter writes a string plain only when its resolver reads the plain text back as a
# string; with both schemas' rules, it checks both readers.
for _tag, _regexp, _first in _RESOLVERS:
    _Dumper.add_implicit_resolver(_tag, _regexp, _first)


def _represent_float(dumper: yaml.SafeDumper, value: float) -> yaml.ScalarNode:
    if math.isnan(value):
        text = ".nan"
    elif math.isinf(value):
        text = ".inf" if value > 0 else "-.inf"
    else:
        text = repr(value)
        if "e" in text and "." not in text.split("e")[0]:
            mantissa, exponent = text.split("e")
            text = f"{mantissa}.0e{exponent}"
    return dumper.represent_scalar(_CORE + "float", text)


def _represent_list(dumper: yaml.SafeDumper, value: list) -> yaml.SequenceNode:
    # Short lists of scalars (choices) read best inline: [32, 64, 128].
    flow = all(isinstance(item, (str, int, float, bool)) for item in value)
    return dumper.represent_sequence(_CORE + "seq", value, flow_style=flow)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # A line break or another character that is not printable is written escaped, in double
    # quotes: single-quoted and plain styles fold line breaks (NEL, LS, PS too) when read.
    style = None if value.isprintable() else '"'
    return dumper.represent_scalar(_CORE + "str", value, style=style)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(float, _represent_float)
_Dumper.add_representer(list, _represent_list)


def dump(data: Mapping[str, Any]) -> str:
    """YAML text for plain data, readable by both this loader and plain PyYAML."""
    return yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True
    )
