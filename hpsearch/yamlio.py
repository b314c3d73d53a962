"""YAML in and out, with YAML 1.2 scalars, refused duplicate keys and the line of every key.

PyYAML follows YAML 1.1, which has traps for a config file: ``1e-4`` is a string (1.1 wants a
dot), ``no`` / ``on`` are booleans, ``010`` is octal, ``1:30`` is 90, and a duplicate key
silently keeps the last value. This loader reads scalars by the YAML 1.2 core schema instead
and refuses duplicates, so what a user wrote is what the config holds.

Only the core schema's values get through: strings, integers, floats, booleans, null, lists
and mappings. An explicit tag of the core schema (``!!str 1e-4``, ``!!float 1``) is checked
like a plain value of that type; any other tag (``!!timestamp``, ``!!binary``, ``!!set``, a
local ``!tag``) is refused. So is a document that nests deeper than ``MAX_DEPTH`` levels, a
recursive alias, and aliases that bring in more than ``MAX_ALIAS_NODES`` values (an "alias
bomb": nine aliases of nine aliases of ... expand a few hundred bytes into millions of values).
Each check costs time linear in the size of the file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import yaml

from hpsearch.errors import ConfigError

Path_ = tuple[str | int, ...]

MAX_DEPTH = 64  # levels of nesting, aliases expanded; a config uses four or five
MAX_ALIAS_NODES = 10_000  # values aliases may add to the document, all aliases together

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


class _Refused(Exception):
    """A document the loader will not build: a message and where in the text."""

    def __init__(self, message: str, mark: yaml.Mark) -> None:
        super().__init__(message)
        self.message = message
        self.line = mark.line + 1


class _Loader(yaml.SafeLoader):
    """SafeLoader with the YAML 1.2 core schema's implicit scalars only, composing a node graph
    of bounded depth and bounded expansion (see the module docstring)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0  # nodes being composed, outermost to innermost
        # id(node) -> (values it expands to, its depth with aliases expanded), for every node
        # composed so far; an anchored node not yet in here is still being composed.
        self._expanded: dict[int, tuple[int, int]] = {}
        self._alias_nodes = 0  # values all aliases so far add to the document

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            node = self.anchors.get(event.anchor)
            if node is not None:  # an undefined alias is PyYAML's error
                self._check_alias(event, node)
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(
                    f"nested deeper than {MAX_DEPTH} levels; a config needs only a few",
                    event.start_mark,
                )
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if isinstance(node, yaml.ScalarNode):
            self._expanded[id(node)] = (1, 1)
            return node
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        else:
            children = [child for pair in node.value for child in pair]
        sizes = [self._expanded[id(child)] for child in children]
        self._expanded[id(node)] = (
            1 + sum(size for size, _ in sizes),
            1 + max((depth for _, depth in sizes), default=0),
        )
        return node

    def _check_alias(self, event: yaml.AliasEvent, node: yaml.Node) -> None:
        expanded = self._expanded.get(id(node))
        if expanded is None:
            raise _Refused(
                f"alias *{event.anchor} is inside the value it names (a recursive alias); "
                "write the value out instead",
                event.start_mark,
            )
        size, depth = expanded
        self._alias_nodes += size
        if self._alias_nodes > MAX_ALIAS_NODES:
            raise _Refused(
                f"aliases expand the document by more than {MAX_ALIAS_NODES:,} values "
                f"(at *{event.anchor}); write the values out instead",
                event.start_mark,
            )
        if self._depth + depth > MAX_DEPTH:
            raise _Refused(
                f"alias *{event.anchor} nests the document deeper than {MAX_DEPTH} levels; "
                "a config needs only a few",
                event.start_mark,
            )


_Loader.yaml_implicit_resolvers = {}
for _tag, _regexp, _first in _RESOLVERS:
    _Loader.add_implicit_resolver(_tag, _regexp, _first)


def _read_int(text: str) -> int:
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text)  # ValueError past sys.get_int_max_str_digits() digits


def _read_float(text: str) -> float:
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return -math.inf if lowered.startswith("-") else math.inf
    if lowered == ".nan":
        return math.nan
    return float(lowered)


# tag -> (the rule its text must follow, how to read it, what it needs, for the message)
_SCALARS = {
    _CORE + "int": (_INT, _read_int, "an integer such as 42"),
    _CORE + "float": (_FLOAT, _read_float, "a number such as 0.5 or 1.0e-3"),
    _CORE + "bool": (_BOOL, lambda text: text.lower() == "true", "true or false"),
    _CORE + "null": (_NULL, lambda text: None, "null, ~ or nothing"),
}
_KINDS = {
    yaml.ScalarNode: (_CORE + "str", "a single value"),
    yaml.SequenceNode: (_CORE + "seq", "a list"),
    yaml.MappingNode: (_CORE + "map", "a mapping"),
}


def shown_tag(tag: str) -> str:
    """``tag:yaml.org,2002:float`` -> ``!!float``, as a user writes it."""
    return "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag


def load(text: str, filename: str) -> tuple[Any, dict[Path_, int]]:
    """Parse one YAML document; return the data and the 1-based line of every key path.

    Raises ConfigError (with the line) for syntax errors, duplicate keys, non-scalar or
    unhashable keys, more than one document, tags outside the core schema, values that do not
    fit their tag, too deep nesting, recursive aliases and aliases that expand too far.
    """
    loader = None
    try:
        loader = _Loader(text)  # the reader checks the characters here already
        node = loader.get_single_node()
    except _Refused as exc:
        raise ConfigError(exc.message, file=filename, line=exc.line) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.context.startswith("found duplicate anchor") and exc.context_mark:
            anchor = exc.context.split(";")[0]
            problem = f"{anchor} (first given at line {exc.context_mark.line + 1})"
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
    return _Builder(loader, filename, lines).build(node, ()), lines


class _Builder:
    """Nodes -> plain values, recording the line of every key path. The node graph is known to
    be acyclic, at most MAX_DEPTH deep and small when expanded, so recursion is safe."""

    def __init__(self, loader: _Loader, filename: str, lines: dict[Path_, int]) -> None:
        self.loader = loader
        self.filename = filename
        self.lines = lines
        # id(mapping node) -> ids of the keys written in it (not merged in). Merging rewrites
        # a node in place, so a node reached again through an alias must not be asked twice.
        self.written: dict[int, set[int]] = {}

    def fail(self, node: yaml.Node, path: Path_, message: str) -> ConfigError:
        return ConfigError(
            message,
            file=self.filename,
            line=node.start_mark.line + 1,
            key=dotted(path) or None,
        )

    def build(self, node: yaml.Node, path: Path_) -> Any:
        expected, kind = _KINDS[type(node)]
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        if node.tag != expected:
            raise self.fail(node, path, _tag_problem(node.tag, kind))
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                at = (*path, index)
                self.lines[at] = item.start_mark.line + 1
                items.append(self.build(item, at))
            return items
        return self.mapping(node, path)

    def mapping(self, node: yaml.MappingNode, path: Path_) -> dict[Any, Any]:
        # Keys written here, as opposed to keys brought in by a `<<: *anchor` merge: a written
        # key may override a merged one (YAML's rule); two written ones are a duplicate.
        written = self.written.get(id(node))
        if written is None:
            written = {id(k) for k, _ in node.value if k.tag != _CORE + "merge"}
            self.written[id(node)] = written
            try:
                self.loader.flatten_mapping(node)
            except yaml.MarkedYAMLError as exc:
                mark = exc.problem_mark or node.start_mark
                raise ConfigError(
                    f"'<<' merges a mapping or a list of mappings (<<: *defaults): {exc.problem}",
                    file=self.filename,
                    line=mark.line + 1,
                    key=dotted(path) or None,
                ) from None
        result: dict[Any, Any] = {}
        merged: set[Any] = set()
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConfigError(
                    "a key must be a plain name, not a list or mapping",
                    file=self.filename,
                    line=line,
                    key=dotted(path) or None,
                )
            key = self.scalar(key_node, path)
            if id(key_node) not in written:
                if key in result:
                    continue  # an earlier merge already gave it
                merged.add(key)
            elif key in merged:
                merged.discard(key)  # a written key overrides the merged one
            elif key in result:
                where = dotted((*path, key))
                first = self.lines.get((*path, key))
                raise ConfigError(
                    f"duplicate key '{key}' (first given at line {first}); remove one of them",
                    file=self.filename,
                    line=line,
                    key=where,
                )
            at = (*path, key)
            self.lines[at] = line
            result[key] = self.build(value_node, at)
        return result

    def scalar(self, node: yaml.ScalarNode, path: Path_) -> Any:
        text = node.value
        if node.tag in (_CORE + "str", _CORE + "merge"):  # `<<` as a value is a string
            return text
        if node.tag not in _SCALARS:
            raise self.fail(node, path, _tag_problem(node.tag, "a single value"))
        rule, read, needs = _SCALARS[node.tag]
        if not rule.match(text):
            raise self.fail(node, path, f"{shown_tag(node.tag)} needs {needs}, got '{text}'")
        try:
            return read(text)
        except ValueError:
            raise self.fail(node, path, f"an integer of {len(text):,} digits is too long") from None


def _tag_problem(tag: str, kind: str) -> str:
    if tag in _SCALARS or tag in (_CORE + "str", _CORE + "seq", _CORE + "map"):
        return f"{shown_tag(tag)} cannot tag {kind}"
    return (
        f"explicit tag {shown_tag(tag)} is not supported; write the value plainly "
        "(a number, true/false, null, a string, a list or a mapping)"
    )


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
