"""Find the line of a TOML document where a field (a pydantic error location) is written.

tomllib gives values without positions, so validation errors would otherwise name a field
but not a line. This walks the table headers and keys of the document, the way a reader
would, and answers with the line that holds the field or, for a missing field, the line
of the table it belongs in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_\-.]+)\s*=""")


def _split_dotted(name: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in name.split("."))


def field_lines(text: str) -> dict[tuple[str | int, ...], int]:
    """Map each table header and key path in `text` to its 1-based line number."""
    found: dict[tuple[str | int, ...], int] = {}
    table: tuple[str | int, ...] = ()
    array_counts: dict[tuple[str, ...], int] = {}
    in_multiline: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if in_multiline:
            if line.count(in_multiline) % 2 == 1:
                in_multiline = None
            continue
        header = _HEADER.match(line)
        if header:
            names = _split_dotted(header.group(2))
            if header.group(1) == "[[":
                index = array_counts.get(names, 0)
                array_counts[names] = index + 1
                table = (*names, index)
            else:
                table = names
            found.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key:
            found.setdefault((*table, *_split_dotted(key.group(1))), number)
            for quote in ('"""', "'''"):
                if line.count(quote) % 2 == 1:
                    in_multiline = quote
    return found


def line_of(text: str, location: Sequence[str | int]) -> int:
    """The line that holds `location`, else the nearest enclosing table's line, else 1."""
    lines = field_lines(text)
    path = tuple(location)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return 1
