"""The simulator, driven by the real python-wechaty client (and raw gRPC where the client can't).

Timeouts appear only to prove that something does NOT happen (a hung gateway); everything else
waits on events.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import time
from collections.abc import AsyncIterator
from typing import Any

# python-wechaty does not import on Python 3.11 without this (see the facts file).
import wechaty_puppet.schemas.puppet as _puppet_schema

_puppet_schema.PuppetOptions.__hash__ = object.__hash__  # type: ignore[assignment]

import pytest  # noqa: E402
from grpclib.client import Channel, UnaryStreamMethod, UnaryUnaryMethod  # noqa: E402
from grpclib.const import Status  # noqa: E402
from grpclib.exceptions import GRPCError, StreamTerminatedError  # noqa: E402
from wechaty_grpc.wechaty import puppet as pb  # noqa: E402
from wechaty_puppet import PuppetOptions  # noqa: E402
from wechaty_puppet_service import PuppetService  # noqa: E402

from bot.simulator import SentMessage, Simulator, World  # noqa: E402
from bot.simulator.protocol import (  # noqa: E402
    ContactAliasRequestV1,
    ContactAliasResponseV1,
    RoomAnnounceRequestV1,
    RoomAnnounceResponseV1,
    RoomTopicRequestV1,
    RoomTopicResponseV1,
)
from bot.simulator.terminal import run_terminal  # noqa: E402

BOT = "wxid_chamber_bot"
GROUP = "presidents@chatroom"
TEA = "tea@chatroom"
ZHU = "wxid_vp_001"
EVENTS = ("login", "ready", "message", "dong", "scan", "logout", "heartbeat", "error")


class Client:
    """python-wechaty's PuppetService with every event collected in a per-name queue."""

    def __init__(self, endpoint: str, token: str = "sim-token") -> None:
        options = PuppetOptions()
        options.token = token
        options.end_point = endpoint
        self.puppet = PuppetService(options)
        self.queues: dict[str, asyncio.Queue[Any]] = {name: asyncio.Queue() for name in EVENTS}
        for name in EVENTS:
            self.puppet.on(name, self.queues[name].put_nowait)
        self.task: asyncio.Task[None] | None = None

    def connect(self) -> None:
        self.task = asyncio.create_task(self.puppet.start())

    async def next(self, name: str, timeout: float = 5.0) -> Any:
        return await asyncio.wait_for(self.queues[name].get(), timeout)

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task
        if self.puppet.channel is not None:
            self.puppet.channel.close()


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    simulator = Simulator(World.presidents_group(), token="sim-token")
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[Client]:
    c = Client(sim.endpoint)
    c.connect()
    await c.next("login")
    yield c
    await c.close()


def raw_channel(sim: Simulator, token: str = "sim-token") -> Channel:
    host, port = sim.endpoint.rsplit(":", 1)
    channel = Channel(host, int(port))
    channel._authority = token  # what python-wechaty does: the token rides as :authority
    return channel


async def raw_call(channel: Channel, name: str, request: Any, reply_type: type) -> Any:
    method = UnaryUnaryMethod(channel, f"/wechaty.Puppet/{name}", type(request), reply_type)
    return await method(request)


# ----- connecting -------------------------------------------------------------------------------


async def test_login_then_ready_when_a_client_connects(sim: Simulator) -> None:
    c = Client(sim.endpoint)
    c.connect()
    try:
        login = await c.next("login")
        assert login.contact_id == BOT
        assert (await c.next("ready")).data
        assert sim.connected
        assert sim.rpc_counts["Stop"] == 1 and sim.rpc_counts["Start"] == 1  # the client's ritual
    finally:
        await c.close()


async def test_wrong_token_is_unauthenticated(sim: Simulator) -> None:
    c = Client(sim.endpoint, token="wrong-token")
    with pytest.raises(GRPCError) as info:
        await c.puppet.start()
    assert info.value.status is Status.UNAUTHENTICATED
    await c.close()

    channel = raw_channel(sim, "wrong-token")
    try:
        with pytest.raises(GRPCError) as info:
            await raw_call(channel, "Ding", pb.DingRequest(data="x"), pb.DingResponse)
        assert info.value.status is Status.UNAUTHENTICATED
    finally:
        channel.close()
    assert sim.rpc_counts["Ding"] == 0


async def test_unimplemented_rpc_fails_cleanly_and_the_gateway_keeps_serving(
    sim: Simulator,
) -> None:
    channel = raw_channel(sim)
    try:
        request = pb.MessageRecallRequest(id="any")
        with pytest.raises(GRPCError) as info:
            await raw_call(channel, "MessageRecall", request, pb.MessageRecallResponse)
        assert info.value.status is Status.UNIMPLEMENTED
        reply = await raw_call(channel, "Version", pb.VersionRequest(), pb.VersionResponse)
        assert reply.version
    finally:
        channel.close()


async def test_one_event_stream_at_a_time_like_the_official_gateway(
    sim: Simulator, client: Client
) -> None:
    channel = raw_channel(sim)
    try:
        stream = UnaryStreamMethod(
            channel, "/wechaty.Puppet/Event", pb.EventRequest, pb.EventResponse
        )
        with pytest.raises(GRPCError) as info:
            await stream(pb.EventRequest())
        assert info.value.status is Status.ALREADY_EXISTS
    finally:
        channel.close()


# ----- messages ---------------------------------------------------------------------------------


async def test_member_group_message_arrives_with_its_payload(
    sim: Simulator, client: Client
) -> None:
    text = "@商会小助手\u2005明天的理事会几点开始？"
    message_id = await sim.say(ZHU, text, room_id=GROUP, mention_ids=[BOT])

    event = await client.next("message")
    assert event.message_id == message_id
    payload = await client.puppet.message_payload(message_id)
    assert payload.from_id == ZHU
    assert payload.room_id == GROUP
    assert payload.text == text
    assert list(payload.mention_ids) == [BOT]
    assert payload.type == pb.MessageType.MESSAGE_TYPE_TEXT  # the client remapped 7
    assert abs(payload.timestamp / 1000 - time.time()) < 60  # milliseconds


async def test_private_message_and_other_types(sim: Simulator, client: Client) -> None:
    private_id = await sim.say("wxid_secretary_liu", "在吗")
    envelope_id = await sim.say(ZHU, "恭喜发财", room_id=TEA, message_type=12)
    assert private_id != envelope_id

    assert (await client.next("message")).message_id == private_id
    private = await client.puppet.message_payload(private_id)
    assert (private.from_id, private.room_id, private.to_id) == ("wxid_secretary_liu", "", BOT)

    assert (await client.next("message")).message_id == envelope_id
    envelope = await client.puppet.message_payload(envelope_id)
    assert envelope.type == pb.MessageType.MESSAGE_TYPE_RED_ENVELOPE
    assert envelope.room_id == TEA


async def test_say_rejects_people_outside_the_group(sim: Simulator) -> None:
    with pytest.raises(ValueError):
        await sim.say("wxid_vp_005", "我不在茶话会里", room_id=TEA)


async def test_bot_text_reaches_sent_and_comes_back_as_its_own_message(
    sim: Simulator, client: Client
) -> None:
    text = "@朱会长\u2005收到，下午三点"
    message_id = await client.puppet.message_send_text(GROUP, text, [ZHU])

    sent = await sim.wait_for_sent()
    assert sent == SentMessage(GROUP, GROUP, text, (ZHU,), message_id, sent.at)
    assert sim.sent == [sent]

    echo = await client.next("message")
    assert echo.message_id == message_id
    payload = await client.puppet.message_payload(message_id)
    assert (payload.from_id, payload.room_id, list(payload.mention_ids)) == (BOT, GROUP, [ZHU])

    second = await client.puppet.message_send_text(ZHU, "私聊回复")
    assert second != message_id
    private = await sim.wait_for_sent(lambda s: s.room_id is None)
    assert (private.conversation_id, private.text) == (ZHU, "私聊回复")


async def test_wait_for_sent_returns_each_message_once_in_order(
    sim: Simulator, client: Client
) -> None:
    heard: list[str] = []
    unsubscribe = sim.on_sent(lambda sent: heard.append(sent.text))
    for text in ("一", "二", "三"):
        await client.puppet.message_send_text(GROUP, text)
    unsubscribe()
    await client.puppet.message_send_text(GROUP, "四")
    assert heard == ["一", "二", "三"]
    assert (await sim.wait_for_sent(lambda s: s.text == "二")).text == "二"
    assert [(await sim.wait_for_sent()).text for _ in range(3)] == ["一", "三", "四"]
    with pytest.raises(TimeoutError):
        await sim.wait_for_sent(timeout=0.05)


async def test_raw_events_pass_through_unchanged(sim: Simulator) -> None:
    channel = raw_channel(sim)
    try:
        method = UnaryStreamMethod(
            channel, "/wechaty.Puppet/Event", pb.EventRequest, pb.EventResponse
        )
        async with method.open() as stream:
            await stream.send_message(pb.EventRequest(), end=True)
            login = await stream.recv_message()
            assert login.type == pb.EventType.EVENT_TYPE_LOGIN
            assert login.payload == '{"contactId":"wxid_chamber_bot"}'
            assert (await stream.recv_message()).type == pb.EventType.EVENT_TYPE_READY
            await sim.emit_raw_event(27, '{"payloadType":2,"payloadId":"wxid_vp_001"}')
            dirty = await stream.recv_message()
            assert (dirty.type, dirty.payload) == (27, '{"payloadType":2,"payloadId":"wxid_vp_001"}')
            await stream.cancel()
    finally:
        channel.close()


# ----- liveness ---------------------------------------------------------------------------------


async def test_ding_comes_back_as_dong(sim: Simulator, client: Client) -> None:
    await client.puppet.ding("ping-1")
    assert (await client.next("dong")).data == "ping-1"


async def test_hung_gateway_answers_nothing_until_resumed(sim: Simulator, client: Client) -> None:
    sim.hang()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(client.puppet.ding("while-hung"), 0.3)
    message_id = await sim.say(ZHU, "有人吗", room_id=GROUP)  # the world goes on
    with pytest.raises(TimeoutError):
        await client.next("message", timeout=0.3)

    sim.resume()
    assert (await client.next("message")).message_id == message_id
    await client.puppet.ding("after-resume")
    while (dong := await client.next("dong")).data != "after-resume":
        pass  # a ding abandoned while hung may still be answered first
    assert dong.data == "after-resume"


async def test_stop_then_start_on_the_same_port(sim: Simulator, client: Client) -> None:
    endpoint = sim.endpoint
    before = await sim.say(ZHU, "重启前", room_id=GROUP)
    await client.next("message")

    await sim.stop()
    assert client.task is not None
    with pytest.raises((StreamTerminatedError, ConnectionError, OSError)):
        await asyncio.wait_for(client.task, 5)  # the client sees the gateway die at once

    await sim.start()
    assert sim.endpoint == endpoint
    again = Client(sim.endpoint)
    again.connect()
    try:
        assert (await again.next("login")).contact_id == BOT
        after = await sim.say(ZHU, "重启后", room_id=GROUP)
        assert after != before
        assert (await again.next("message")).message_id == after
        assert (await again.puppet.message_payload(before)).text == "重启前"  # world kept
    finally:
        await again.close()


# ----- login ------------------------------------------------------------------------------------


async def test_scan_flow_then_logout() -> None:
    sim = Simulator(World.presidents_group(), require_scan=True)
    await sim.start()
    c = Client(sim.endpoint)
    c.connect()
    try:
        scan = await c.next("scan")
        assert scan.status.value == 2  # Waiting
        assert scan.qrcode.startswith("https://login.weixin.qq.com/l/sim-")
        with pytest.raises(RuntimeError):
            await sim.say(ZHU, "没人登录", room_id=GROUP)

        sim.confirm_scan()
        assert (await c.next("scan")).status.value == 4  # Confirmed
        assert (await c.next("login")).contact_id == BOT
        await c.next("ready")

        await sim.logout()
        assert (await c.next("logout")).contact_id == BOT
        assert (await c.next("scan")).status.value == 2  # a new QR code to scan
    finally:
        await c.close()
        await sim.stop()


# ----- gateway generations ----------------------------------------------------------------------


@pytest.fixture(params=["0.x", "1.x"])
async def generation_sim(request: pytest.FixtureRequest) -> AsyncIterator[Simulator]:
    simulator = Simulator(World.presidents_group(), generation=request.param)
    await simulator.start()
    yield simulator
    await simulator.stop()


# Per generation: (request class, reply class, name of the optional field) for each get/set RPC.
# Raw calls, because tests/conftest.py loads bot.wechat.compat, which patches the client stubs.
LAYOUTS = {
    "0.x": {
        "RoomAnnounce": (pb.RoomAnnounceRequest, pb.RoomAnnounceResponse, "text"),
        "RoomTopic": (pb.RoomTopicRequest, pb.RoomTopicResponse, "topic"),
        "ContactAlias": (pb.ContactAliasRequest, pb.ContactAliasResponse, "alias"),
    },
    "1.x": {
        "RoomAnnounce": (RoomAnnounceRequestV1, RoomAnnounceResponseV1, "text"),
        "RoomTopic": (RoomTopicRequestV1, RoomTopicResponseV1, "topic"),
        "ContactAlias": (ContactAliasRequestV1, ContactAliasResponseV1, "alias"),
    },
}


async def get_set(
    channel: Channel, generation: str, rpc: str, target: str, value: str | None = None
) -> str | None:
    """One get (value None) or set call in the given generation's layout; the reply's value."""
    request_type, reply_type, field = LAYOUTS[generation][rpc]
    request = request_type(id=target)
    if value is not None:
        setattr(request, field, value)
    reply = await raw_call(channel, rpc, request, reply_type)
    return getattr(reply, field)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("rpc", "target", "value", "stored"),
    [
        ("RoomAnnounce", GROUP, "周五下午三点理事会", lambda w: w.rooms[GROUP].announce),
        ("RoomTopic", GROUP, "山西省山东商会会长群", lambda w: w.rooms[GROUP].topic),
        ("ContactAlias", ZHU, "朱总", lambda w: w.contacts[ZHU].alias),
    ],
)
async def test_get_set_rpcs_in_both_gateway_generations(
    generation_sim: Simulator, rpc: str, target: str, value: str, stored: Any
) -> None:
    generation = generation_sim.generation
    channel = raw_channel(generation_sim)
    try:
        await get_set(channel, generation, rpc, target, value)
        assert stored(generation_sim.world) == value
        assert await get_set(channel, generation, rpc, target) == value
    finally:
        channel.close()


async def test_a_1x_gateway_reads_an_old_client_set_as_a_get(sim: Simulator) -> None:
    # What python-wechaty's own stubs do against today's official gateway: the set is lost,
    # and the reply's text sits in a field the old client does not read.
    channel = raw_channel(sim)
    try:
        old = pb.RoomAnnounceRequest(id=GROUP, text="旧客户端的公告")
        reply = await raw_call(channel, "RoomAnnounce", old, pb.RoomAnnounceResponse)
        assert reply.text is None
        assert sim.world.rooms[GROUP].announce == ""

        sim.world.rooms[GROUP].announce = "现有公告"
        reply = await raw_call(channel, "RoomAnnounce", pb.RoomAnnounceRequest(id=GROUP),
                               pb.RoomAnnounceResponse)
        assert reply.text is None

        # Setting "" is a set, not a get (proto3 optional presence).
        await get_set(channel, "1.x", "RoomAnnounce", GROUP, "")
        assert sim.world.rooms[GROUP].announce == ""
    finally:
        channel.close()


async def test_only_owner_or_admin_may_set_the_announcement(sim: Simulator) -> None:
    channel = raw_channel(sim)
    try:
        with pytest.raises(GRPCError) as info:  # the tea group belongs to 朱会长
            await get_set(channel, "1.x", "RoomAnnounce", TEA, "喝茶")
        assert info.value.status is Status.PERMISSION_DENIED
    finally:
        channel.close()


async def test_room_and_contact_payloads(sim: Simulator, client: Client) -> None:
    puppet = client.puppet
    assert set(await puppet.room_list()) == {GROUP, TEA}
    room = await puppet.room_payload(GROUP)
    assert (room.topic, room.owner_id) == ("山西省山东商会会长官方群", BOT)
    assert len(await puppet.room_members(GROUP)) == 9
    member = await puppet.room_member_payload(GROUP, "wxid_secretary_liu")
    assert member.name == "刘秘书长"
    assert (await puppet.contact_payload(BOT)).name == "商会小助手"
    assert ZHU in await puppet.contact_list()
    assert await puppet.contact_self_qr_code()


# ----- terminal ---------------------------------------------------------------------------------


class Screen(io.StringIO):
    """A fake stdout that lets the test wait for text to appear."""

    def __init__(self) -> None:
        super().__init__()
        self.changed = asyncio.Event()

    def write(self, text: str) -> int:
        self.changed.set()
        return super().write(text)

    async def wait_for(self, text: str, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while text not in self.getvalue():
                self.changed.clear()
                await self.changed.wait()


async def test_terminal_typed_lines_become_member_messages_and_show_bot_replies(
    sim: Simulator, client: Client
) -> None:
    read_fd, write_fd = os.pipe()
    stdin = os.fdopen(read_fd, "r", encoding="utf-8")
    keyboard = os.fdopen(write_fd, "w", encoding="utf-8")
    screen = Screen()
    terminal = asyncio.create_task(run_terminal(sim, stdin, screen))

    def type_line(line: str) -> None:
        keyboard.write(line + "\n")
        keyboard.flush()

    try:
        await screen.wait_for("/帮助")  # the help is shown at start
        type_line("/切换 朱会长")
        type_line("/@ 明天开会吗")
        event = await client.next("message")
        payload = await client.puppet.message_payload(event.message_id)
        assert (payload.from_id, payload.room_id) == (ZHU, GROUP)
        assert list(payload.mention_ids) == [BOT]
        assert payload.text == "@商会小助手\u2005明天开会吗"

        await client.puppet.message_send_text(GROUP, "@朱会长\u2005明天上午九点", [ZHU])
        await client.next("message")  # the bot's own message, echoed
        await screen.wait_for("【机器人】商会小助手: @朱会长 明天上午九点")

        type_line("/私聊")
        type_line("私下问一句")
        private = await client.puppet.message_payload((await client.next("message")).message_id)
        assert (private.from_id, private.room_id, private.text) == (ZHU, "", "私下问一句")
        await screen.wait_for("[私聊 朱会长] 朱会长: 私下问一句")

        type_line("/成员")
        await screen.wait_for("刘秘书长（秘书长）")
    finally:
        keyboard.close()  # EOF ends the terminal
        await asyncio.wait_for(terminal, 5)
        stdin.close()
    assert "再见" in screen.getvalue()


async def test_terminal_paste_mode_sends_the_lines_as_one_message_and_cancel_ends_it(
    sim: Simulator, client: Client
) -> None:
    read_fd, write_fd = os.pipe()
    stdin = os.fdopen(read_fd, "r", encoding="utf-8")
    keyboard = os.fdopen(write_fd, "w", encoding="utf-8")
    screen = Screen()
    terminal = asyncio.create_task(run_terminal(sim, stdin, screen))

    def type_lines(*lines: str) -> None:
        keyboard.write("".join(line + "\n" for line in lines))
        keyboard.flush()

    try:
        await screen.wait_for("/多行 (/paste)")  # the help says how
        type_lines("/切换 朱会长", "/多行", "各位会长：", "", "  周五下午开会。", ".")
        event = await client.next("message")
        payload = await client.puppet.message_payload(event.message_id)
        assert (payload.from_id, payload.room_id) == (ZHU, GROUP)
        assert payload.text == "各位会长：\n\n  周五下午开会。"
        await screen.wait_for("[会长群] 朱会长: 各位会长：\n\n  周五下午开会。")

        type_lines("/私聊", "/paste", "#新建 gala", "迎新年联谊会", "/发送")
        payload = await client.puppet.message_payload((await client.next("message")).message_id)
        assert (payload.from_id, payload.room_id, payload.text) == (ZHU, "", "#新建 gala\n迎新年联谊会")

        type_lines("/多行", "写了一半", "/取消", "单行")  # cancelled: only the next line goes
        payload = await client.puppet.message_payload((await client.next("message")).message_id)
        assert payload.text == "单行"
        await screen.wait_for("已放弃这条多行消息")
    finally:
        terminal.cancel()  # what Ctrl-C does: the terminal ends at once, stdin still open
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(terminal, 5)
        keyboard.close()
        stdin.close()
    assert screen.getvalue().endswith("再见\n")
    assert "写了一半" not in [m.text for m in sim.world.messages.values()]
