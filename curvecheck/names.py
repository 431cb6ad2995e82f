"""Names are data: series, tag and file names made safe for each place they are shown.

A log's column or tag names come from whoever wrote the log. They may hold terminal escapes
(``\\x1b]0;title\\x07``, ``\\x1b[2J``, OSC-8 hyperlinks), a newline that would split a one-line
error, Rich markup (``val_[link=http://x]loss[/link]``), Markdown or HTML (``<img src=x>``),
``$...$`` that matplotlib would typeset as maths, or characters XML forbids. Each output escapes
them its own way; JSON keeps the exact name (``json.dumps`` escapes what JSON needs).
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from typing import TypeVar

T = TypeVar("T")

# Bidirectional overrides and isolates reorder what is shown ("Trojan Source"); treat them as controls.
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def _is_control(ch: str) -> bool:
    return ch in _BIDI or unicodedata.category(ch) in ("Cc", "Zl", "Zp")


def _escape_char(ch: str) -> str:
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if ch in named:
        return named[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_text(text: str) -> str:
    """One line of plain text for a terminal: control characters shown as ``\\x1b``, ``\\n``...

    Rich markup is not escaped here: the terminal renderers print names as ``rich.text.Text``
    (or through a console with markup off), which never interprets brackets.
    """
    if text.isprintable():
        return text
    return "".join(_escape_char(ch) if _is_control(ch) else ch for ch in text)


def one_line(text: str) -> str:
    """An error message as exactly one line (a newline in a file name must not split it)."""
    return terminal_text(text)


# XML 1.0 allows only these characters (https://www.w3.org/TR/xml/#charsets); others make a file ill-formed.
_XML_BAD = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def figure_text(text: str) -> str:
    """Text for a matplotlib figure: printable, so an SVG stays well-formed XML, and ``$`` escaped
    so that ``$...$`` in a name is drawn as written, never as mathtext."""
    return _XML_BAD.sub(lambda m: _escape_char(m.group()), terminal_text(text)).replace("$", r"\$")


def xml_text(text: str) -> str:
    """Text or attribute content for XML/HTML: entities for ``& < > " '`` and no forbidden characters."""
    import html

    return html.escape(_XML_BAD.sub(lambda m: _escape_char(m.group()), text), quote=True)


# Inline specials only: every line curvecheck writes starts with its own text or a table pipe, so
# block syntax (#, -, 1.) cannot start inside a name; '(' only matters after an (escaped) ']'.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~$])")


def markdown_text(text: str) -> str:
    """Inline Markdown text that renders as the literal name: no emphasis, links, tags or table breaks.

    Markdown punctuation is backslash-escaped, ``<``/``&`` become entities (so ``<img>`` stays text
    in a PR comment) and control characters are shown escaped.
    """
    safe = terminal_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", safe)


def markdown_code(text: str) -> str:
    """A name as inline code in Markdown (backticks inside are handled by a longer fence)."""
    safe = terminal_text(text).replace("|", "\\|")  # a pipe would still end a table cell
    fence = "`" * (max((len(m) for m in re.findall("`+", safe)), default=0) + 1)
    pad = " " if safe.startswith("`") or safe.endswith("`") else ""
    return f"{fence}{pad}{safe}{pad}{fence}"


def workflow_command_data(text: str) -> str:
    """The message part of a GitHub workflow command (``::error ...::MESSAGE``): one line."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_command_property(text: str) -> str:
    """A property value of a GitHub workflow command (``file=...,title=...``)."""
    return workflow_command_data(text).replace(":", "%3A").replace(",", "%2C")


def terminal_safe(obj: T) -> T:
    """A copy of a report object (dataclasses, dicts, lists) with every string passed through
    :func:`terminal_text`, so that a renderer cannot print a raw control character from a log."""
    if isinstance(obj, str):
        return terminal_text(obj)  # type: ignore[return-value]
    if isinstance(obj, dict):
        return {terminal_safe(k): terminal_safe(v) for k, v in obj.items()}  # type: ignore[return-value]
    if isinstance(obj, (list, tuple)):
        if {*map(type, obj)} <= {float}:  # speed: a series' values (10^6 of them) hold no text
            return type(obj)(obj)  # type: ignore[return-value]
        return type(obj)(terminal_safe(v) for v in obj)  # type: ignore[return-value]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {f.name: terminal_safe(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.init}
        return dataclasses.replace(obj, **changes)
    return obj
