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
from bot.core.messages import People
from bot.core.replies import Replies
from bot.core.router import Place, Role, Route
from bot.ops.status import StatusBoard
from bot.posts.desk import PostDesk
from handlers.congrats import CongratulationCollector, CongratulationCommands
from handlers.console import ConsoleCommand, SignInLinks
from handlers.drafting import DraftingCommands
from handlers.everyone import EveryoneCommands
from handlers.faq import FaqResponder
from handlers.history import HistoryCommand
from handlers.posts import PostCommands
from handlers.status import StatusCommands

# The order of #帮助, within each role.
COMMAND_HANDLERS = (EveryoneCommands, DraftingCommands, PostCommands, HistoryCommand,
                    CongratulationCommands, StatusCommands, ConsoleCommand)


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
    people: People
    report_unexpected: ReportUnexpected
    console: SignInLinks | None = None  # the web console; None when [web] enabled = false


def build_routes(services: Services) -> list[Route[Any]]:
    settings, replies = services.settings, services.replies
    group_names = settings.group_names
    drafting = DraftingCommands(services.desk, replies)
    book = CommandBook(
        [
            EveryoneCommands(),
            drafting,
            PostCommands(services.desk),
            HistoryCommand(services.desk, services.people, group_names),
            CongratulationCommands(services.congratulations, services.desk, replies),
            StatusCommands(services.status),
            ConsoleCommand(services.console),
        ],
        settings.roles, replies, services.report_unexpected,
    )
    faq = FaqResponder(settings.faq, replies)
    congratulations = CongratulationCollector(services.congratulations)
    return [
        # Anything starting with # is a command, never a question for the FAQ.
        Route("commands", book.match, book.run, place=Place.ANYWHERE),
        # An admin's next private message after #新建 / #编辑 is the post's body.
        Route("drafting", drafting.awaiting_body, drafting.receive_body, place=Place.PRIVATE,
              role=Role.ADMIN),
        # A contact question is answered, not counted as a congratulation.
        Route("faq", faq.matches, faq.answer, place=Place.ANYWHERE),
        Route("congratulations", congratulations.matches, congratulations.record,
              place=Place.GROUP),
    ]
