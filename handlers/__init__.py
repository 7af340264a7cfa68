"""Every behaviour of the bot, registered here, in order. Order matters: first match wins.

Handlers may import bot.core and the services they are given (posts, congrats, ops); each
gets exactly what it uses, when it is built here. Commands are rows beside their methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.congrats.service import Congratulations
from bot.core.commands import CommandBook, CommandSpec, help_row, specs_of
from bot.core.config import Settings
from bot.core.errors import ReportUnexpected
from bot.core.replies import Replies
from bot.core.router import Place, Route
from bot.ops.status import StatusBoard
from bot.posts.desk import PostDesk
from handlers.congrats import CongratulationCollector, CongratulationCommands
from handlers.everyone import EveryoneCommands
from handlers.faq import FaqResponder
from handlers.posts import PostCommands
from handlers.status import StatusCommands

COMMAND_HANDLERS = (EveryoneCommands, PostCommands, CongratulationCommands, StatusCommands)


def command_table() -> list[CommandSpec]:
    """Every command's row, as #帮助 lists them to an admin."""
    return [help_row(), *specs_of(*COMMAND_HANDLERS)]


@dataclass(frozen=True)
class Services:
    """What the bot hands its handlers; each handler below takes only its part."""

    settings: Settings
    replies: Replies
    desk: PostDesk
    congratulations: Congratulations
    status: StatusBoard
    report_unexpected: ReportUnexpected


def build_routes(services: Services) -> list[Route[Any]]:
    settings, replies = services.settings, services.replies
    book = CommandBook(
        [
            EveryoneCommands(),
            PostCommands(services.desk),
            CongratulationCommands(services.congratulations, services.desk, replies),
            StatusCommands(services.status),
        ],
        settings.roles, replies, services.report_unexpected,
    )
    faq = FaqResponder(settings.faq, replies)
    congratulations = CongratulationCollector(services.congratulations)
    return [
        # Anything starting with # is a command, never a question for the FAQ.
        Route("commands", book.match, book.run, place=Place.ANYWHERE),
        # A contact question is answered, not counted as a congratulation.
        Route("faq", faq.matches, faq.answer, place=Place.ANYWHERE),
        Route("congratulations", congratulations.matches, congratulations.record,
              place=Place.GROUP),
    ]
