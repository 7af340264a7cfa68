"""Every behaviour of the bot, registered here, in order. Order matters: first match wins."""

from __future__ import annotations

from typing import Any

from bot.congrats.detector import CongratulationDetector
from bot.core.config import Settings
from bot.core.router import Place, Route
from handlers.commands import BOOK
from handlers.congrats import CongratulationCollector
from handlers.faq import FaqResponder


def build_routes(settings: Settings) -> list[Route[Any]]:
    faq = FaqResponder(settings.faq)
    congratulations = CongratulationCollector(CongratulationDetector(settings.congratulations))
    return [
        # Anything starting with # is a command, never a question for the FAQ.
        Route("commands", BOOK.match, BOOK.run, place=Place.ANYWHERE),
        # A contact question is answered, not counted as a congratulation.
        Route("faq", faq.matches, faq.answer, place=Place.ANYWHERE),
        Route("congratulations", congratulations.matches, congratulations.record,
              place=Place.GROUP),
    ]
