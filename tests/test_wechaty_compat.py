"""One test per python-wechaty workaround in bot/wechat/compat.py, each against a gateway.

Where it can, a test also shows the unpatched behaviour, so it would fail without the fix.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import socket
import subprocess
import sys
import telnetlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import betterproto
import pytest
from grpclib.client import Channel
from grpclib.const import Status
from grpclib.exceptions import GRPCError, StreamTerminatedError
from hypothesis import given
from hypothesis import strategies as st
from wechaty_grpc.wechaty import puppet as pb

from bot.simulator import Simulator, World
from bot.wechat import compat, replies
from bot.wechat.core_channel import CoreChannel
from bot.wechat.replies import decode
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


# --- fix 8: the transport; each failure keeps the meaning the outbox relies on ------------


async def test_fix8_calls_are_carried_by_grpcio_not_by_grpclib(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    grpclib_channels: list[object] = []
    monkeypatch.setattr(Channel, "__init__", lambda self, *a, **k: grpclib_channels.append(a))
    puppet = await connected_puppet(simulator)
    try:
        replies = await asyncio.gather(*(puppet.contact_payload("wxid_vp_001") for _ in range(20)))
        assert {reply.name for reply in replies} == {"朱会长"}
        assert isinstance(puppet.channel, CoreChannel) and grpclib_channels == []
    finally:
        await puppet.stop()


async def test_fix8_nothing_listening_means_surely_not_sent() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, not listening: the connection is refused
        puppet = compat.new_puppet(f"127.0.0.1:{closed.getsockname()[1]}", TOKEN, 5.0)
        puppet._init_puppet()
        try:
            with pytest.raises(ConnectionRefusedError):
                await puppet.message_send_text(PRESIDENTS, "测试")
        finally:
            puppet.channel.close()


async def test_fix8_a_connection_lost_mid_call_may_have_been_acted_on(
    simulator: Simulator,
) -> None:
    puppet = await connected_puppet(simulator)
    simulator.hang()
    send = asyncio.create_task(puppet.message_send_text(PRESIDENTS, "测试"))
    await simulator.requests.wait_for("MessageSendText", 1)  # in the gateway's hands
    await simulator.stop()
    with pytest.raises(StreamTerminatedError):
        await send
    puppet.channel.close()


async def test_fix8_closing_the_channel_ends_calls_as_a_lost_connection_not_a_cancel(
    simulator: Simulator,
) -> None:
    puppet = await connected_puppet(simulator)
    simulator.hang()
    try:
        send = asyncio.create_task(puppet.message_send_text(PRESIDENTS, "测试"))
        await simulator.requests.wait_for("MessageSendText", 1)
        puppet.channel.close()  # what the connection does when it gives a gateway up
        with pytest.raises(StreamTerminatedError):
            await send  # a CancelledError here would look like the sender's own cancel
        assert not send.cancelled()
        with pytest.raises(ConnectionRefusedError):  # nothing more leaves a closed channel
            await puppet.message_send_text(PRESIDENTS, "测试")
    finally:
        simulator.resume()


async def test_fix8_the_gateways_own_status_and_a_deadline_keep_their_meaning(
    simulator: Simulator,
) -> None:
    stranger = compat.new_puppet(simulator.endpoint, "wrong-token", 5.0)
    with pytest.raises(GRPCError) as rejected:
        await compat.open_session(stranger)
    assert rejected.value.status == Status.UNAUTHENTICATED
    stranger.channel.close()
    puppet = await connected_puppet(simulator, rpc_timeout=0.3)
    simulator.hang()
    try:
        with pytest.raises(TimeoutError):
            await puppet.message_send_text(PRESIDENTS, "测试")
    finally:
        simulator.resume()
        await puppet.stop()


# --- fix 10: replies decoded as betterproto would, for every reply python-wechaty reads -----

REPLY_TYPES = [*sorted(
    (kind for name, kind in vars(pb).items() if name.endswith("Response")
     and isinstance(kind, type) and issubclass(kind, betterproto.Message)),
    key=lambda kind: kind.__name__,
), compat.OptionalStringReply]
PLAIN_VALUES: dict[str, st.SearchStrategy[Any]] = {
    betterproto.TYPE_STRING: st.text(),
    betterproto.TYPE_BYTES: st.binary(),
    betterproto.TYPE_BOOL: st.booleans(),
    betterproto.TYPE_ENUM: st.integers(0, 40),
    betterproto.TYPE_INT32: st.integers(-(2**31), 2**31 - 1),
    betterproto.TYPE_INT64: st.integers(-(2**63), 2**63 - 1),
    betterproto.TYPE_UINT32: st.integers(0, 2**32 - 1),
    betterproto.TYPE_UINT64: st.integers(0, 2**64 - 1),
}


@st.composite
def reply_bytes(draw: st.DrawFn, kind: type[betterproto.Message]) -> bytes:
    """A reply of `kind` with some plain fields set, on the wire; sometimes with a field the
    client does not know (a newer gateway's), or cut short."""
    reply = kind()
    for field in dataclasses.fields(kind):
        meta = betterproto.FieldMetadata.get(field)
        values = PLAIN_VALUES.get(meta.proto_type)
        if values is None or meta.wraps or not draw(st.booleans()):
            continue
        repeated = isinstance(getattr(reply, field.name), list)
        setattr(reply, field.name, draw(st.lists(values, max_size=3)) if repeated
                else draw(values))
    data = bytes(reply) + draw(st.sampled_from([b"", b"\xfa\x06\x03new"]))  # field 111
    return data[:draw(st.integers(0, len(data)))] if draw(st.booleans()) else data


def parsed(parse: Callable[[], betterproto.Message]) -> Any:
    try:
        return state(parse())
    except Exception as error:  # both ways must fail alike
        return type(error)


def state(value: Any) -> Any:
    """A message as comparable values (betterproto 1.x messages compare by identity)."""
    if isinstance(value, betterproto.Message):
        return {name: state(item) for name, item in vars(value).items()}
    return [state(item) for item in value] if isinstance(value, list) else value


@pytest.mark.parametrize("kind", REPLY_TYPES, ids=lambda kind: kind.__name__)
@given(data=st.data())
def test_fix10_replies_decode_as_betterproto_parses_them(
    kind: type[betterproto.Message], data: st.DataObject
) -> None:
    wire = data.draw(reply_bytes(kind))
    betterprotos = parsed(lambda: kind().parse(wire))
    assert parsed(lambda: decode(kind, wire)) == betterprotos


def test_fix10_the_replies_of_an_answer_take_the_fast_way() -> None:
    for kind in (pb.EventResponse, pb.MessagePayloadResponse, pb.RoomMemberPayloadResponse,
                 pb.ContactPayloadResponse):
        decode(kind, b"")
        assert replies._layouts[kind] is not None, kind.__name__


# --- fix 11: pyee without trio ------------------------------------------------------------------


def test_fix11_pyee_does_not_import_trio_even_where_it_is_installed() -> None:
    pytest.importorskip("trio")  # the dev extra's selenium brings it
    # pyee's own import is where trio comes in (puppet-service imports pyee; compat imports both,
    # and on 3.13 puppet-service does not import without compat's fix 9).
    check = "import sys, {}; print('trio' in sys.modules, 'pyee' in sys.modules)"
    bare = subprocess.run([sys.executable, "-c", check.format("pyee")], capture_output=True,
                          text=True, check=True)
    fixed = subprocess.run([sys.executable, "-c", check.format("bot.wechat.compat")],
                           capture_output=True, text=True, check=True)
    assert (bare.stdout.split(), fixed.stdout.split()) == (["True", "True"], ["False", "True"])


# --- fix 12: grpclib's HTTP/2 left unloaded ----------------------------------------------------


def test_fix12_grpclibs_http2_is_not_loaded_and_grpclib_client_still_imports() -> None:
    check = ("import sys, {}, wechaty_puppet_service.puppet as service; "
             "print('h2' in sys.modules, 'grpclib.client' in sys.modules, "
             "service.Channel.__module__); "
             "import grpclib.client; print(grpclib.client.Channel.__module__)")
    fixed = subprocess.run([sys.executable, "-c", check.format("bot.wechat.compat")],
                           capture_output=True, text=True, check=True)
    assert fixed.stdout.split() == ["False", "False", "bot.wechat.core_channel",
                                    "grpclib.client"]
    if sys.version_info < (3, 13):  # without compat, puppet-service needs telnetlib (fix 9)
        bare = subprocess.run([sys.executable, "-c", check.format("sys")],
                              capture_output=True, text=True, check=True)
        assert bare.stdout.split() == ["True", "True", "grpclib.client", "grpclib.client"]
