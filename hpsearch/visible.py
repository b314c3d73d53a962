"""Text as a user can see it: a character that shows nothing or changes how others show is
written as its escape (``\\u202e``, ``\\x1b``, ``\\n``), so a value from a config or a run
cannot hide text, reorder it (``photo\\u202egnp.exe`` shown as "photoexe.png") or send a
terminal a command. The terminal, the HTML report and the Markdown summary all use it."""

from __future__ import annotations

# Letters that render as nothing at all (Unicode calls them letters, so they are printable).
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")


def visible(text: str) -> str:
    """``text`` with every invisible character escaped: control characters (newlines too),
    format characters (bidi controls, zero-width spaces and joiners), line and paragraph
    separators, spaces other than ' ', surrogates, private-use and unassigned code points,
    and blank letters. Everything else is left as it is."""
    if text.isprintable() and not BLANK_LETTERS.intersection(text):
        return text  # the common case, at C speed
    return "".join(_char(c) for c in text)


def visible_lines(text: str) -> str:
    """``visible`` line by line: the newlines stay (a message of several lines)."""
    return "\n".join(visible(line) for line in text.split("\n"))


def _char(c: str) -> str:
    if c.isprintable() and c not in BLANK_LETTERS:
        return c
    code = ord(c)
    if c in "\n\t\r":
        return repr(c)[1:-1]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
