"""A stand-in WeChat for tests and demos: our own Wechaty puppet-service gateway over gRPC.
May import only grpclib, wechaty_grpc's message classes (betterproto) and the stdlib; no bot code.

It never imports the bot: it tests the bot the way WeChat (through the gateway) would.
Modules: `server` (the test-facing `Simulator`), `lines` (`SentMessage`, `TranscriptLine`),
`rpc` (the gRPC method handlers), `events` (the event stream and scan loop), `requests` (what it
received), `transport` (grpclib plumbing), `protocol` (wire layouts per gateway generation),
`world` (the data), `terminal` (a chat window).
"""

from bot.simulator.lines import SentMessage, TranscriptLine
from bot.simulator.server import Simulator
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
