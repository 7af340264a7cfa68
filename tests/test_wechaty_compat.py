"""One test per python-wechaty workaround in bot/wechat/compat.py, each against a gateway.

Where it can, a test also shows the unpatched behaviour, so it would fail without the fix.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import subprocess
import sys
import telnetlib
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from grpclib.client import Channel
from grpclib.exceptions import GRPCError
from wechaty_grpc.wechaty import puppet as pb

from bot.simulator import Simulator, World
from bot.wechat import compat
from bot.wechat.coalesce import CoalescingTransport
from tests.conftest import BOT_ID, PRESIDENTS, TOKEN, RunningBot

POSTCODE_ANSWER = "邮政编码：030006"


async def connected_puppet(sim: Simulator, rpc_timeout: float = 5.0) -> compat.PuppetService:
    puppet = compat.new_puppet(sim.endpoint, TOKEN, rpc_timeout)
    await compat.open_session(puppet)
    return puppet


@pytest.fixture(params=["1.x", "0.x"])
async def any_generation(request: pytest.FixtureRequest) -> AsyncIterator[Simulator]:
    sim = Simulator(World.presidents_group(), token=TOKEN, generation=request.param)
    await sim.start()
    yield sim
    await sim.stop()


def test_fix1_wechaty_imports_on_python_311_only_with_the_fix() -> None:
    # (an empty telnetlib, so that Python 3.13 too reaches the dataclass error: fix 9 is apart)
    empty_telnetlib = ("import sys, types; sys.modules['telnetlib'] = types.ModuleType('telnetlib'); "
                       "sys.modules['telnetlib'].Telnet = object; ")
    bare = subprocess.run([sys.executable, "-c", empty_telnetlib + "import wechaty"],
                          capture_output=True, text=True, check=False)
    assert bare.returncode != 0 and "mutable default" in bare.stderr
    fixed = subprocess.run(
        [sys.executable, "-c", "import bot.wechat.compat, wechaty; print(wechaty.Wechaty.__name__)"],
        capture_output=True, text=True, check=False,
    )
    assert fixed.returncode == 0, fixed.stderr
    assert fixed.stdout.strip() == "Wechaty"


async def test_fix2_announce_topic_and_alias_work_on_old_and_new_gateways(
    any_generation: Simulator,
) -> None:
    sim = any_generation
    puppet = await connected_puppet(sim)
    try:
        await puppet.room_announce(PRESIDENTS, "热烈祝贺我会获评全国“四好”商会！")
        assert sim.world.rooms[PRESIDENTS].announce == "热烈祝贺我会获评全国“四好”商会！"
        assert await puppet.room_announce(PRESIDENTS) == "热烈祝贺我会获评全国“四好”商会！"

        await puppet.room_topic(PRESIDENTS, "山西省山东商会会长群")
        assert sim.world.rooms[PRESIDENTS].topic == "山西省山东商会会长群"
        assert await puppet.room_topic(PRESIDENTS) == "山西省山东商会会长群"

        await puppet.contact_alias("wxid_vp_001", "朱英海")
        assert sim.world.contacts["wxid_vp_001"].alias == "朱英海"
        assert await puppet.contact_alias("wxid_vp_001") == "朱英海"

        await puppet.room_announce(PRESIDENTS, "")  # clearing is a set, not a get
        assert sim.world.rooms[PRESIDENTS].announce == ""
    finally:
        await puppet.stop()


async def test_fix2_is_needed_the_stock_request_sets_nothing_on_a_1x_gateway(
    simulator: Simulator,
) -> None:
    puppet = await connected_puppet(simulator)
    try:
        stock = pb.RoomAnnounceRequest(id=PRESIDENTS, text="不会生效")
        await puppet.puppet_stub._unary_unary(
            "/wechaty.Puppet/RoomAnnounce", stock, pb.RoomAnnounceResponse
        )
        assert simulator.world.rooms[PRESIDENTS].announce == ""
    finally:
        await puppet.stop()


async def test_fix3_message_types_beyond_15_do_not_crash(
    simulator: Simulator, running_bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    # What python-wechaty alone does with the 1.x gateway's Post (16) and System types:
    with pytest.raises(IndexError):
        compat._original_map_message_type(pb.MessagePayloadResponse(id="m", type=16))
    with caplog.at_level(logging.DEBUG):
        await simulator.say("wxid_vp_001", "（视频号动态）", room_id=PRESIDENTS, message_type=16)
        await simulator.say("wxid_vp_001", "邮编？", room_id=PRESIDENTS)
        assert (await simulator.wait_for_sent(timeout=5)).text.endswith(POSTCODE_ANSWER)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert simulator.rpc_counts["MessagePayload"] == 2  # the post's payload was loaded too


async def test_fix6_unknown_and_error_events_do_not_end_the_event_stream(
    simulator: Simulator, running_bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    await simulator.emit_raw_event(27, '{"payloadType":1,"payloadId":"wxid_vp_001"}')  # DIRTY
    await simulator.emit_raw_event(99, "{}")  # a type no one knows yet
    await simulator.emit_raw_event(16, '{"gerror":"gateway trouble"}')  # ERROR, as 1.x sends it
    await simulator.emit_raw_event(16, '{"data":"older gateways"}')  # ERROR, as 0.x sent it
    await simulator.say("wxid_vp_001", "邮编？", room_id=PRESIDENTS)
    assert (await simulator.wait_for_sent(timeout=5)).text.endswith(POSTCODE_ANSWER)
    assert running_bot.bot.connection.state.value == "logged in"
    reported = [r.getMessage() for r in caplog.records if r.name == "bot.wechat.connection"]
    assert "gateway reported an error: gateway trouble" in reported
    assert "gateway reported an error: older gateways" in reported


async def test_fix4_unary_calls_have_deadlines(simulator: Simulator) -> None:
    puppet = await connected_puppet(simulator, rpc_timeout=0.5)
    simulator.hang()
    started = time.monotonic()
    try:
        with pytest.raises((TimeoutError, GRPCError)):
            await puppet.room_list()
    finally:
        simulator.resume()
        await puppet.stop()
    assert time.monotonic() - started < 3


async def test_fix5_connecting_does_not_use_telnet(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_telnet(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("telnetlib used")

    monkeypatch.setattr(telnetlib.Telnet, "open", no_telnet)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    puppet = compat.new_puppet(f"127.0.0.1:{port}", TOKEN, 2.0)
    with pytest.raises(OSError):
        await compat.open_session(puppet)


async def test_fix7_wechaty_logs_go_through_ours_without_the_token(
    simulator: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    compat.route_wechaty_logging()
    service_log = logging.getLogger("PuppetService")
    assert service_log.propagate and not service_log.handlers
    with caplog.at_level(logging.DEBUG):
        puppet = compat.new_puppet(simulator.endpoint, "secret-token-123", 1.0)
    assert puppet.options.token == "secret-token-123"
    assert not any("secret-token-123" in record.getMessage() for record in caplog.records)


async def test_replayed_message_ids_are_answered_once(
    simulator: Simulator, running_bot: RunningBot
) -> None:
    # Gateways replay messages after a reconnect; the bot keeps the recent ids (bounded).
    asked = await simulator.say("wxid_vp_001", "@商会小助手\u2005邮编？", room_id=PRESIDENTS,
                                mention_ids=(BOT_ID,))
    await simulator.wait_for_sent(timeout=5)
    await simulator.emit_raw_event(2, json.dumps({"messageId": asked}))  # MESSAGE, again
    await simulator.say("wxid_vp_002", "电话？", room_id=PRESIDENTS)
    assert (await simulator.wait_for_sent(timeout=5)).text.startswith("@黄会长")
    assert len(simulator.sent) == 2
    assert running_bot.bot.connection._seen.capacity <= 20_000


async def test_fix8_http2_closed_stream_record_is_bounded(simulator: Simulator) -> None:
    puppet = await connected_puppet(simulator)
    try:
        for _ in range(4_500):  # each RPC is one HTTP/2 stream
            await puppet.puppet_stub.version()
        h2_connection = puppet.channel._protocol.connection._connection
        assert len(h2_connection._closed_streams) == 4_096  # h2's own limit was 65,536
    finally:
        await puppet.stop()


def test_fix9_puppet_service_imports_without_telnetlib_as_on_python_313() -> None:
    """Python 3.13 removed telnetlib; hiding it shows the same on 3.11 and 3.12."""
    hidden = "import sys; sys.modules['telnetlib'] = None; "
    bare = subprocess.run([sys.executable, "-c", hidden + "import wechaty_puppet_service"],
                          capture_output=True, text=True, check=False)
    assert bare.returncode != 0 and "ModuleNotFoundError" in bare.stderr and "telnetlib" in bare.stderr
    with socket.socket() as listening, socket.socket() as closed:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        closed.bind(("127.0.0.1", 0))  # bound, not listening: the connection is refused
        ports = listening.getsockname()[1], closed.getsockname()[1]
        # What puppet-service does with it: is anything listening at host:port?
        fixed = subprocess.run([sys.executable, "-c", hidden + (
            "import bot.wechat.compat, telnetlib, wechaty; "
            "from wechaty_puppet_service.utils import ping_endpoint; "
            f"print(telnetlib.Telnet.__name__, ping_endpoint('127.0.0.1:{ports[0]}'), "
            f"ping_endpoint('127.0.0.1:{ports[1]}'))")],
            capture_output=True, text=True, check=False)
    assert fixed.returncode == 0, fixed.stderr
    assert fixed.stdout.split() == ["TelnetStandIn", "True", "False"]


def test_fix9_the_stand_in_is_there_exactly_where_telnetlib_is_gone() -> None:
    assert (telnetlib.Telnet is compat.TelnetStandIn) == (sys.version_info >= (3, 13))


async def rpc_burst_writes(sim: Simulator) -> int:
    """Socket writes while 20 RPCs (a HEADERS and a DATA frame each) run at once."""
    puppet = await connected_puppet(sim)
    try:
        socket_transport = puppet.channel._protocol.connection._transport
        socket_transport = getattr(socket_transport, "_transport", socket_transport)
        writes: list[int] = []
        real_write = socket_transport.write

        def counted(data: bytes) -> None:
            writes.append(len(data))
            real_write(data)

        socket_transport.write = counted
        replies = await asyncio.gather(*(puppet.puppet_stub.version() for _ in range(20)))
        assert len(replies) == 20 and all(reply.version for reply in replies)
        return len(writes)
    finally:
        await puppet.stop()


async def test_fix10_the_frames_of_one_loop_turn_go_out_in_one_write(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    coalesced = await rpc_burst_writes(simulator)
    monkeypatch.setattr(compat, "CoalescingChannel", Channel)  # grpclib as shipped
    one_by_one = await rpc_burst_writes(simulator)
    assert one_by_one >= 40  # a system call per frame
    assert coalesced <= 4  # the 40 frames in one (and perhaps flow-control updates for replies)


async def test_fix10_held_frames_go_out_before_a_close_and_in_order() -> None:
    class Recording(asyncio.Transport):
        def __init__(self) -> None:
            super().__init__()
            self.calls: list[object] = []

        def write(self, data: bytes | bytearray | memoryview) -> None:
            self.calls.append(bytes(data))

        def close(self) -> None:
            self.calls.append("close")

    socket_transport = Recording()
    transport = CoalescingTransport(socket_transport)
    transport.write(b"GOAWAY")  # what grpclib writes before it closes
    transport.write(b"")
    transport.write(b"+RST")
    transport.close()
    assert socket_transport.calls == [b"GOAWAY+RST", "close"]
    transport.write(b"late")  # a later turn: one write of its own, once this turn is over
    turn_over = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_soon(turn_over.set_result, None)
    assert socket_transport.calls[-1] == "close"
    await turn_over
    assert socket_transport.calls[-1] == b"late"
