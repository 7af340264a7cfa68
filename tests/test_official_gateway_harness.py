"""The official-gateway harness works with the real python-wechaty client (PuppetService).

Each test runs its own `node server.mjs` (PuppetServer + mock WeChat, ~0.7 s to ready).
Synchronisation is by events with timeouts only: the harness's reader task and the client's
event callbacks feed asyncio queues/conditions.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

# python-wechaty 0.10.7 on Python 3.11: its dataclasses need a hashable PuppetOptions, so patch
# before anything imports `wechaty*` further.
import wechaty_puppet.schemas.puppet as _puppet_schema

_puppet_schema.PuppetOptions.__hash__ = object.__hash__

from grpclib.const import Status  # noqa: E402
from grpclib.exceptions import GRPCError, StreamTerminatedError  # noqa: E402
from wechaty_grpc.wechaty.puppet import MessageType  # noqa: E402
from wechaty_puppet import PuppetOptions  # noqa: E402
from wechaty_puppet_service import PuppetService  # noqa: E402

try:  # tests/ as a package (tests/__init__.py) or as rootdir-relative modules
    from tests.official_gateway.harness import OfficialGateway
except ImportError:
    from official_gateway.harness import OfficialGateway  # type: ignore[no-redef]

TOKEN = "insecure_chamber_test"
BOT = "wxid_chamber_bot"
PRESIDENTS = "presidents@chatroom"
TEA = "tea@chatroom"


class Client:
    """A connected PuppetService with its events in a queue (name, payload)."""

    def __init__(self, endpoint: str, token: str = TOKEN) -> None:
        self.puppet = PuppetService(PuppetOptions(end_point=endpoint, token=token))
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        for name in ("login", "logout", "ready", "message", "heartbeat"):
            self.puppet.on(name, self._recorder(name))
        self.task: asyncio.Task[None] | None = None

    def _recorder(self, name: str) -> Any:
        return lambda payload: self.events.put_nowait((name, payload))

    async def connect(self) -> None:
        # PuppetService.start() only returns when the event stream ends: run it as a task.
        self.task = asyncio.create_task(self.puppet.start())
        await self.next_event("login")

    async def next_event(self, name: str, match: Any = None, timeout: float = 10.0) -> Any:
        """The next event `name` (whose payload satisfies `match`), skipping others."""

        async def find() -> Any:
            while True:
                got, payload = await self.events.get()
                if got == name and (match is None or match(payload)):
                    return payload

        try:
            return await asyncio.wait_for(find(), timeout)
        except TimeoutError:
            failed = self.task.exception() if self.task and self.task.done() else None
            raise AssertionError(f"no {name} event in {timeout}s (client: {failed!r})") from None

    async def message(self, message_id: str) -> Any:
        await self.next_event("message", lambda p: p.message_id == message_id)
        return await self.puppet.message_payload(message_id)

    async def close(self) -> None:
        gone = (GRPCError, StreamTerminatedError, OSError)  # the gateway went away first
        if self.task is not None and not self.task.done():
            with contextlib.suppress(*gone):
                await self.puppet.stop()  # ends the event stream, so the task too
            with contextlib.suppress(TimeoutError, *gone):
                await asyncio.wait_for(self.task, 5)
        if self.puppet.channel is not None:
            self.puppet.channel.close()


@pytest.fixture
async def gateway() -> AsyncIterator[OfficialGateway]:
    async with OfficialGateway(TOKEN) as gw:
        yield gw


@pytest.fixture
async def client(gateway: OfficialGateway) -> AsyncIterator[Client]:
    c = Client(gateway.endpoint)
    await c.connect()
    yield c
    await c.close()


async def test_member_message_in_and_bot_mention_out(
    gateway: OfficialGateway, client: Client
) -> None:
    assert client.puppet.login_user_id == BOT

    message_id = await gateway.say("wxid_vp_001", "电话多少？", room=PRESIDENTS, mentions=[BOT])
    payload = await client.message(message_id)
    assert payload.text == "电话多少？"
    assert payload.from_id == "wxid_vp_001"
    assert payload.room_id == PRESIDENTS
    assert payload.mention_ids == [BOT]
    assert payload.type == MessageType.MESSAGE_TYPE_TEXT

    # python-wechaty's Room.say puts "@name " in the text itself; the mention ids travel apart.
    sent_id = await client.puppet.message_send_text(
        PRESIDENTS, "@朱会长 0351-1234567", mention_ids=["wxid_vp_001"]
    )
    sent = await gateway.wait_bot_sent(lambda e: e["conversation"] == PRESIDENTS)
    assert sent["text"] == "@朱会长 0351-1234567"
    assert sent["mentions"] == ["wxid_vp_001"]
    assert sent["id"] == sent_id  # the harness's mock returns ids (the stock mock does not)

    # Like WeChat, the bot's own message comes back to it as a message event.
    own = await client.message(sent_id)
    assert own.from_id == BOT
    assert own.room_id == PRESIDENTS


async def test_private_chat_and_unusual_message_types(
    gateway: OfficialGateway, client: Client
) -> None:
    message_id = await gateway.say("wxid_secretary_liu", "你好")
    payload = await client.message(message_id)
    # The 0.20 stubs still call talker/listener from_id/to_id (same field numbers 6 and 8).
    assert (payload.room_id, payload.from_id, payload.to_id) == ("", "wxid_secretary_liu", BOT)

    await client.puppet.message_send_text("wxid_secretary_liu", "您好")
    sent = await gateway.wait_bot_sent()
    assert sent["conversation"] == "wxid_secretary_liu"
    assert (sent["text"], sent["mentions"]) == ("您好", [])

    expected = {
        "RedEnvelope": MessageType.MESSAGE_TYPE_RED_ENVELOPE,
        "Emoticon": MessageType.MESSAGE_TYPE_EMOTICON,
        "Image": MessageType.MESSAGE_TYPE_IMAGE,
    }
    for name, message_type in expected.items():
        message_id = await gateway.say("wxid_vp_002", "", room=TEA, message_type=name)
        assert (await client.message(message_id)).type == message_type

    message_id = await gateway.say("wxid_vp_002", "大家好", room=TEA, mentions=["notify@all"])
    assert (await client.message(message_id)).mention_ids == ["notify@all"]


async def test_announcement_and_topic_as_the_gateway_holds_them(gateway: OfficialGateway) -> None:
    assert await gateway.announcement(PRESIDENTS) == ""
    await gateway.set_announcement(PRESIDENTS, "周五下午三点理事会")
    assert await gateway.announcement(PRESIDENTS) == "周五下午三点理事会"
    assert await gateway.topic(TEA) == "鲁商老乡茶话会"


async def test_restart_same_endpoint_same_world(gateway: OfficialGateway) -> None:
    await gateway.set_announcement(PRESIDENTS, "临时公告")
    endpoint, old_pid = gateway.endpoint, gateway.pid
    first = Client(endpoint)
    await first.connect()

    gateway.kill()
    assert first.task is not None
    with pytest.raises(StreamTerminatedError):  # the client's event stream breaks at once
        await asyncio.wait_for(first.task, 10)
    await first.close()

    await gateway.restart()
    assert (gateway.endpoint, gateway.pid != old_pid) == (endpoint, True)
    assert await gateway.announcement(PRESIDENTS) == ""  # rebuilt, not remembered

    again = Client(endpoint)
    await again.connect()  # login is replayed to the new event stream
    await again.next_event("ready")
    message_id = await gateway.say("wxid_vp_003", "重启后", room=PRESIDENTS)
    assert (await again.message(message_id)).from_id == "wxid_vp_003"
    await again.close()


async def test_wrong_token_is_unauthenticated(gateway: OfficialGateway) -> None:
    bad = PuppetService(PuppetOptions(end_point=gateway.endpoint, token="not_the_token"))
    with pytest.raises(GRPCError) as error:
        await asyncio.wait_for(bad.start(), 10)
    assert error.value.status == Status.UNAUTHENTICATED
    assert error.value.message == 'Invalid Wechaty TOKEN "not_the_token"'
    if bad.channel is not None:
        bad.channel.close()


async def test_gateway_errors_are_replies_not_crashes(gateway: OfficialGateway) -> None:
    with pytest.raises(Exception, match="wxid_nobody"):
        await gateway.say("wxid_nobody", "hi", room=PRESIDENTS)
    with pytest.raises(Exception, match="not in tea@chatroom"):
        await gateway.say("wxid_vp_003", "hi", room=TEA)
    assert (await gateway.command("ping"))["event"] == "pong"


async def test_hang_and_resume(gateway: OfficialGateway) -> None:
    gateway.hang()
    with pytest.raises(TimeoutError):
        await gateway.command("ping", timeout=0.5)
    gateway.resume()
    assert (await gateway.command("ping"))["event"] == "pong"
