"""What the simulator records: each message the bot sent, and each chat line for displays."""

from __future__ import annotations

from dataclasses import dataclass

from bot.simulator.world import ChatMessage


@dataclass(frozen=True)
class SentMessage:
    """A text the bot sent (MessageSendText)."""

    conversation_id: str
    room_id: str | None  # None for a private chat
    text: str
    mention_ids: tuple[str, ...]
    message_id: str
    at: float  # time.monotonic() when the gateway received it
    kind: str = "text"  # "text", "file" (images and files: text is "[文件] name") or "url"


@dataclass(frozen=True)
class TranscriptLine:
    """One chat line, from a member or from the bot, for displays such as the terminal."""

    message: ChatMessage
    talker_name: str
    from_bot: bool
    room_topic: str | None  # None for a private chat
    private_with: str | None  # the member's id in a private chat with the bot
    mention_names: tuple[str, ...]
