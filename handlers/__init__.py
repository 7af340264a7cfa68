"""Every behaviour of the bot, registered here, in order. Order matters: first match wins."""

from __future__ import annotations

from typing import Any

from bot.config import Settings
from bot.router import Place, Route
from handlers.commands import BOOK
from handlers.faq import FaqResponder


def build_routes(settings: Settings) -> list[Route[Any]]:
    faq = FaqResponder(settings.faq)
    return [
        # Anything starting with # is a command, never a question for the FAQ.
        Route("commands", BOOK.match, BOOK.run, place=Place.ANYWHERE),
        Route("faq", faq.matches, faq.answer, place=Place.ANYWHERE),
    ]
