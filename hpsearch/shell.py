"""Where each placeholder of a command template stands, as the shell will read it.

hpsearch fills ``{name}`` with the shell-quoted value (``shlex.quote``). That is safe only where
the shell reads the quotes as quotes: in plain command text, including inside ``$(...)`` and
``(...)``. Inside single or double quotes, ``$'...'``, after a backslash or a ``$``, inside
``${...}``, arithmetic (``$((...))``, ``((...))``, ``$[...]``), backticks, a comment or a
here-document, the added quotes mean something else, and a value such as ``$(rm -rf ~)`` or
``'; reboot; '`` could run as code. ``misplaced`` finds those; anything it cannot place with
confidence counts as misplaced.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_CODE = ("top", "code")  # contexts where the shell reads quotes as quotes
_WHERE = {
    "single": "inside '...'",
    "double": 'inside "..."',
    "ansi": "inside $'...'",
    "param": "inside ${...}",
    "arith": "inside arithmetic $((...))",
    "bracket": "inside arithmetic $[...]",
    "backtick": "inside `...`",
    "comment": "in a comment",
    "escaped": "after a backslash",
    "dollar": "right after a $",
    "heredoc": "in a here-document",
}
_WORD_START = " \t\n;&|()"  # a `#` after one of these starts a comment
_HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z0-9_]+)\1")


def misplaced(parts: Iterable[tuple[str, str | None]]) -> list[tuple[str, str]]:
    """``parts``: the template as (literal text, placeholder name or None), in order, with
    literal braces already undoubled. Returns (name, where) for each placeholder the shell
    would not read as plain command text."""
    found: list[tuple[str, str]] = []
    stack: list[str] = ["top"]
    depth: list[int] = []  # open parentheses in each arithmetic context
    escaped = False
    delimiters: list[str] = []  # here-documents whose body starts at the next newline
    body_until: str | None = None  # inside a here-document body, until this line
    line = ""
    previous = "\n"
    for text, name in parts:
        i = 0
        while i < len(text):
            c, rest = text[i], text[i:]
            top = stack[-1]
            if c == "\n":
                if body_until is not None:
                    if line.strip() == body_until:
                        body_until = delimiters.pop(0) if delimiters else None
                elif delimiters and top in _CODE:
                    body_until = delimiters.pop(0)
                line = ""
            else:
                line += c
            if body_until is not None and c != "\n":
                pass  # a here-document's body: nothing in it is code to us
            elif escaped:
                escaped = False
            elif top == "comment":
                if c == "\n":
                    stack.pop()
            elif top == "single":
                if c == "'":
                    stack.pop()
            elif top in ("double", "ansi"):
                if c == "\\":
                    escaped = True
                elif (c == '"' and top == "double") or (c == "'" and top == "ansi"):
                    stack.pop()
                elif top == "double":
                    i += _open(stack, depth, rest, inside_quotes=True)
            elif top == "param":
                if c == "}":
                    stack.pop()
                elif c == "\\":
                    escaped = True
            elif top == "arith":
                if c == "(":
                    depth[-1] += 1
                elif c == ")" and depth[-1]:
                    depth[-1] -= 1
                elif rest.startswith("))"):
                    stack.pop()
                    depth.pop()
                    i += 1
            elif top == "bracket":
                if c == "]":
                    stack.pop()
            elif top == "backtick":
                if c == "`":
                    stack.pop()
                elif c == "\\":
                    escaped = True
            else:  # code: top level, $(...), (...)
                if c == "\\":
                    escaped = True
                elif c == "'":
                    stack.append("single")
                elif c == '"':
                    stack.append("double")
                elif c == "#" and previous in _WORD_START:
                    stack.append("comment")
                elif rest.startswith("$'"):
                    stack.append("ansi")
                    i += 1
                elif rest.startswith("((") and previous in _WORD_START:
                    stack.append("arith")
                    depth.append(0)
                    i += 1
                elif rest.startswith("<<") and not rest.startswith("<<<"):
                    match = _HEREDOC.match(rest)
                    delimiters.append(match.group(2) if match else "\0")
                    i += 1
                elif c == "(":
                    stack.append("code")
                elif c == ")" and top == "code":
                    stack.pop()
                else:
                    i += _open(stack, depth, rest, inside_quotes=False)
            previous = text[i] if i < len(text) else c
            i += 1
        if name is None:
            continue
        if body_until is not None:
            found.append((name, _WHERE["heredoc"]))
        elif escaped:
            found.append((name, _WHERE["escaped"]))
            escaped = False
        elif previous == "$" and stack[-1] in (*_CODE, "double"):
            found.append((name, _WHERE["dollar"]))
        elif stack[-1] not in _CODE:
            found.append((name, _WHERE[stack[-1]]))
        previous = "x"  # the value stands here: a word character
    return found


def _open(stack: list[str], depth: list[int], rest: str, inside_quotes: bool) -> int:
    """Open the expansion that ``rest`` starts with, if any; returns the extra characters
    consumed (the caller moves past the first)."""
    if rest.startswith("$(("):
        stack.append("arith")
        depth.append(0)
        return 2
    if rest.startswith("$("):
        stack.append("code")
        return 1
    if rest.startswith("${"):
        stack.append("param")
        return 1
    if rest.startswith("$["):
        stack.append("bracket")
        return 1
    if rest.startswith("`"):
        stack.append("backtick")
        return 0
    return 0
