"""Normalising what members type, so 電話？ and 电话? read the same."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

_to_simplified = opencc.OpenCC("t2s")
# WeChat's built-in smileys arrive as text codes such as [强] or [玫瑰].
_SMILEY_CODE = re.compile(r"\[[^\[\]\s]{1,6}\]")
_MENTION = re.compile(r"@[^\s\u2005@]{1,30}[\s\u2005]")


def to_simplified(text: str) -> str:
    # OpenCC encodes to UTF-8 and raises on a lone surrogate: no such text is worth a crash.
    if not text.isascii():
        text = text.encode("utf-8", "replace").decode("utf-8")
    return str(_to_simplified.convert(text))


def _is_decoration(char: str) -> bool:
    """Emoji, pictographs, variation selectors and joiners: they carry no words."""
    category = unicodedata.category(char)
    return category in ("So", "Sk", "Cf", "Mn", "Cs", "Co") or char.isspace()


# A question or a congratulation is short: of a long message only this much is read, so a
# member pasting 100,000 characters costs no more than a sentence (time, and cache memory).
READ_AT_MOST = 500


def normalize(text: str) -> str:
    """Simplified, half-width, lower-case, without spaces, emoji, smiley codes or @names;
    of the first READ_AT_MOST characters."""
    return _normalize(text[:READ_AT_MOST])


@lru_cache(maxsize=1024)  # at most ~2 MB: keys and values are at most READ_AT_MOST long
def _normalize(text: str) -> str:
    text = _MENTION.sub(" ", text + " ")
    text = unicodedata.normalize("NFKC", text)
    text = _SMILEY_CODE.sub("", text)
    text = to_simplified(text).lower()
    return "".join(char for char in text if not _is_decoration(char))
