"""How a post looks in WeChat: a title line, paragraphs, no markup, long bodies in parts.

A body longer than the limit is split at paragraph boundaries (a paragraph longer than the
limit at sentence ends) into numbered parts: "（1/3）" after the title, then "（2/3）" ... at
the top of each later part, so readers can tell the parts belong together.
"""

from __future__ import annotations

import re

SENTENCE_END = re.compile(r"(?<=[。！？；!?;])")


def paragraphs(body: str) -> list[str]:
    """Paragraphs separated by blank lines; single line breaks inside are kept."""
    return [block.strip() for block in re.split(r"\n\s*\n", body.strip()) if block.strip()]


def _pieces(paragraph: str, limit: int) -> list[str]:
    if len(paragraph) <= limit:
        return [paragraph]
    pieces: list[str] = []
    current = ""
    for sentence in SENTENCE_END.split(paragraph):
        while len(sentence) > limit:  # no sentence end in reach: cut hard
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:limit])
            sentence = sentence[limit:]
        if len(current) + len(sentence) > limit:
            pieces.append(current)
            current = ""
        current += sentence
    if current:
        pieces.append(current)
    return pieces


def render_parts(title: str, body: str, limit: int) -> list[str]:
    """The texts to send, in order; one part when it fits in `limit` characters."""
    whole = f"{title}\n\n" + "\n\n".join(paragraphs(body))
    if len(whole) <= limit:
        return [whole]
    room = limit - 12  # leave space for the "（n/m）" marks
    # A piece must fit in the first part too, beside the title (a 1,980-character paragraph
    # after a 30-character title made a 2,008-character first part).
    piece_limit = max(room - len(title) - 2, room // 2)
    chunks: list[list[str]] = [[]]
    used = len(title) + 2
    for paragraph in paragraphs(body):
        for piece in _pieces(paragraph, piece_limit):
            if chunks[-1] and used + len(piece) + 2 > room:
                chunks.append([])
                used = 0
            chunks[-1].append(piece)
            used += len(piece) + 2
    total = len(chunks)
    parts = []
    for number, chunk in enumerate(chunks, start=1):
        head = f"{title}（{number}/{total}）" if number == 1 else f"（{number}/{total}）"
        parts.append(head + "\n\n" + "\n\n".join(chunk))
    return parts
