"""Where each placeholder of a command template stands, as the shell will read it.

hpsearch fills ``{name}`` with the shell-quoted value (``shlex.quote``). That is safe only where
the shell reads the quotes as quotes: in plain command text, including inside ``$(...)`` and
backticks. Inside single or double quotes, ``$'...'``, after a backslash, inside ``${...}`` or
arithmetic ``$((...))``, or in a here-document, the added quotes are literal characters, and a
value such as ``$(rm -rf ~)`` or ``'; reboot; '`` would run as code. ``misplaced`` finds those.
"""

from __future__ import annotations

from collections.abc import Iterable

_CODE = ("top", "code", "backtick")  # contexts where the shell reads quotes as quotes
_WHERE = {
    "single": "inside '...'",
    "double": 'inside "..."',
    "ansi": "inside $'...'",
    "param": "inside ${...}",
    "arith": "inside $((...))",
    "escaped": "after a backslash",
    "heredoc": "in a here-document",
}


def misplaced(parts: Iterable[tuple[str, str | None]]) -> list[tuple[str, str]]:
    """``parts``: the template as (literal text, placeholder name or None), in order, with
    literal braces already undoubled. Returns (name, where) for each placeholder the shell
    would not read as plain command text."""
    found: list[tuple[str, str]] = []
    stack = ["top"]
    escaped = False
    heredoc = False  # a `<<` was seen: what follows its line is a here-document body
    heredoc_body = False
    previous = ""
    for text, name in parts:
        i = 0
        while i < len(text):
            c, rest = text[i], text[i:]
            top = stack[-1]
            if escaped:
                escaped = False
            elif c == "\n" and heredoc:
                heredoc_body = True
            elif top == "single":
                if c == "'":
                    stack.pop()
            elif top in ("double", "ansi"):
                if c == "\\":
                    escaped = True
                elif (c == '"' and top == "double") or (c == "'" and top == "ansi"):
                    stack.pop()
                elif top == "double" and rest.startswith("$("):
                    stack.append("arith" if rest.startswith("$((") else "code")
                    i += 2 if rest.startswith("$((") else 1
                elif top == "double" and rest.startswith("${"):
                    stack.append("param")
                    i += 1
                elif top == "double" and c == "`":
                    stack.append("backtick")
            elif top == "param":
                if c == "}":
                    stack.pop()
                elif c == "\\":
                    escaped = True
            elif top == "arith":
                if rest.startswith("))"):
                    stack.pop()
                    i += 1
            else:  # code: top level, $(...), (...), `...`
                if c == "\\":
                    escaped = True
                elif c == "'":
                    stack.append("single")
                elif c == '"':
                    stack.append("double")
                elif rest.startswith("$'"):
                    stack.append("ansi")
                    i += 1
                elif rest.startswith("$((") or rest.startswith("(("):
                    stack.append("arith")
                    i += 2 if c == "$" else 1
                elif rest.startswith("$("):
                    stack.append("code")
                    i += 1
                elif rest.startswith("${"):
                    stack.append("param")
                    i += 1
                elif c == "(":
                    stack.append("code")
                elif c == ")" and top == "code":
                    stack.pop()
                elif c == "`":
                    if top == "backtick":
                        stack.pop()
                    else:
                        stack.append("backtick")
                elif rest.startswith("<<") and not rest.startswith("<<<") and previous != "<":
                    heredoc = True
                    i += 1
            previous = c
            i += 1
        if name is None:
            continue
        if escaped:
            found.append((name, _WHERE["escaped"]))
            escaped = False
        elif heredoc_body:
            found.append((name, _WHERE["heredoc"]))
        elif stack[-1] not in _CODE:
            found.append((name, _WHERE[stack[-1]]))
        previous = "x"  # the value stands here: a word character
    return found
