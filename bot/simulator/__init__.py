"""A stand-in WeChat for tests and demos: our own Wechaty puppet-service gateway over gRPC.

It never imports the bot: it tests the bot the way WeChat (through the gateway) would.
"""

from bot.simulator.server import SentMessage, Simulator, TranscriptLine
from bot.simulator.terminal import run_terminal
from bot.simulator.world import ChatMessage, Contact, Room, World

__all__ = [
    "ChatMessage",
    "Contact",
    "Room",
    "SentMessage",
    "Simulator",
    "TranscriptLine",
    "World",
    "run_terminal",
]
