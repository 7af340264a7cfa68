"""What counts as a congratulation, and of which kinds (鲜花, 掌声, 点赞, 红包, 表情, 文字).

Words, WeChat smiley codes ([玫瑰]) and emoji come from config.toml; a red envelope or a
sticker counts by its message type; a quoted reply to the post counts as words. A question
that only has words ("祝贺什么？") is a question, not a congratulation; commands and FAQ
requests never reach this (the router sends them elsewhere first).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.core.config import CONGRATULATION_KINDS, CongratulationSettings
from bot.core.messages import Incoming, MessageKind
from bot.core.textnorm import READ_AT_MOST, to_simplified

RED_ENVELOPE, STICKER, WORDS = "红包", "表情", "文字"
QUESTION = re.compile(r"[?？]|吗|什么|怎么|哪|多少|几时|何时")
# iPad-protocol gateways render a quoted reply as 「name：quoted」, a dashed line, the reply.
QUOTE = re.compile(r"^「(?P<who>[^：:]{1,40})[：:](?P<quoted>.*)」\s*\n-( -)+\s*\n(?P<reply>.*)$",
                   re.DOTALL)


def _plain(text: str) -> str:
    """Simplified characters; emoji without variation selectors or skin tones."""
    text = to_simplified(unicodedata.normalize("NFC", text[:READ_AT_MOST]))
    return "".join(c for c in text if c != "\ufe0f" and not "\U0001f3fb" <= c <= "\U0001f3ff")


@dataclass(frozen=True)
class Quote:
    who: str
    quoted: str
    reply: str


def quote_in(text: str) -> Quote | None:
    found = QUOTE.match(text)
    return Quote(found["who"], found["quoted"], found["reply"]) if found else None


class CongratulationDetector:
    def __init__(self, settings: CongratulationSettings) -> None:
        self.tokens = [(kind, _plain(token)) for kind in CONGRATULATION_KINDS
                       for token in settings.kinds.get(kind, []) if token.strip()]

    def kinds_in(self, message: Incoming, post_title: str = "") -> tuple[str, ...]:
        """The kinds of congratulation in a group message, in the configured order ('' if none)."""
        if message.kind is MessageKind.RED_ENVELOPE:
            return (RED_ENVELOPE,)
        if message.kind is MessageKind.STICKER:
            return (STICKER,)
        if message.kind is not MessageKind.TEXT:
            return ()
        text, quoted_post = message.text, False
        quote = quote_in(text)
        if quote is not None:
            text = quote.reply
            quoted_post = bool(post_title) and _plain(post_title[:8]) in _plain(quote.quoted)
        plain = _plain(text)
        found = {kind for kind, token in self.tokens if token in plain}
        if found == {WORDS} and QUESTION.search(plain):
            found = set()  # "祝贺什么？" asks; it does not congratulate
        if quoted_post and not QUESTION.search(plain):
            found.add(WORDS)
        return tuple(kind for kind in CONGRATULATION_KINDS if kind in found)
