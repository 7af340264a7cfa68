"""Answers to people, through the outbox like every other send."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Protocol

from bot.core.messages import COMMAND_REPLY, Incoming, Outgoing, OutKind
from bot.core.outbox import Outcome


class Sender(Protocol):
    def send(self, message: Outgoing) -> asyncio.Future[Outcome]: ...


class Replies:
    def __init__(self, outbox: Sender) -> None:
        self.outbox = outbox

    def tell(self, chat_id: str, text: str) -> asyncio.Future[Outcome]:
        """A text to one chat (a person's id: privately)."""
        return self.outbox.send(Outgoing(chat_id, text, reason=COMMAND_REPLY))

    def reply(self, message: Incoming, text: str) -> asyncio.Future[Outcome]:
        """Answer where the message was written; in a group, @-mention the asker."""
        mentions = (message.talker_id,) if message.in_group else ()
        return self.outbox.send(
            Outgoing(message.chat_id, text, mentions, reason=f"reply to {message.message_id}"))

    def picture(self, chat_id: str, path: Path, reason: str) -> asyncio.Future[Outcome]:
        return self.outbox.send(Outgoing(chat_id, reason=reason, kind=OutKind.IMAGE,
                                         image_path=str(path)))
