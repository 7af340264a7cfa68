"""The two gateways a bot is benchmarked through, behind one small interface.

- SimulatorSide: our simulator (bot/simulator), in the benchmark's own process.
- OfficialSide: the official gateway (npm wechaty-puppet-service + wechaty-puppet-mock,
  tests/official_gateway/server.mjs), a node process of its own, whose CPU is measured too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bot.simulator import Contact, Room, SentMessage, Simulator, World
from tests.bench.common import (
    BOT_ID,
    GROUP_SIZE,
    GROUPS,
    PRESIDENTS,
    Reply,
    Say,
    group_id,
    member_id,
)
from tests.official_gateway.harness import OfficialGateway

OnSaid = Callable[[Say, float], None]
OnReply = Callable[[Reply], None]


def simulator_world() -> World:
    """The presidents' group (500 members wxid_m000 ..., for the posts and congratulation
    figures) and the bench groups."""
    people = [Contact(BOT_ID, "商会小助手")] + [
        Contact(f"wxid_m{n:03d}", f"会员{n:03d}") for n in range(500)]
    rooms = {PRESIDENTS: Room(PRESIDENTS, "山西省山东商会会长官方群", BOT_ID,
                              [p.id for p in people])}
    for g in range(GROUPS):
        members = [Contact(member_id(g, n), f"会员{g}-{n}") for n in range(GROUP_SIZE)]
        people += members
        rooms[group_id(g)] = Room(group_id(g), f"商会群{g}", BOT_ID,
                                  [BOT_ID, *(m.id for m in members)])
    return World(BOT_ID, {p.id: p for p in people}, rooms)


class SimulatorSide:
    name = "simulator"
    gateway_pid: int | None = None  # in this process: its CPU is not the gateway's alone

    def __init__(self, token: str) -> None:
        self.ping_talkers = [f"wxid_m{n:03d}" for n in range(490, 500)]
        self.sim = Simulator(simulator_world(), token=token)

    @property
    def endpoint(self) -> str:
        return self.sim.endpoint

    async def start(self) -> None:
        await self.sim.start()

    async def stop(self) -> None:
        await self.sim.stop()

    async def say_many(self, says: list[Say], on_said: OnSaid) -> None:
        for say in says:
            on_said(say, time.monotonic())
            await self.sim.say(say.talker, say.text, room_id=say.room, mention_ids=say.mentions)

    def subscribe(self, on_reply: OnReply) -> Callable[[], None]:
        def forward(sent: SentMessage) -> None:
            on_reply(Reply(sent.conversation_id, sent.text, sent.mention_ids, sent.at))
        return self.sim.on_sent(forward)


class OfficialSide:
    name = "official gateway"

    def __init__(self, token: str, *, bench_groups: bool = True) -> None:
        self.ping_talkers = [f"wxid_vp_00{n}" for n in range(1, 6)]
        self.gateway = OfficialGateway(
            token, env={"BENCH_GROUPS": str(GROUPS if bench_groups else 0)}, record=False)

    @property
    def endpoint(self) -> str:
        return self.gateway.endpoint

    @property
    def gateway_pid(self) -> int | None:
        return self.gateway.pid

    async def start(self) -> None:
        await self.gateway.start()

    async def stop(self) -> None:
        await self.gateway.stop()

    async def say_many(self, says: list[Say], on_said: OnSaid) -> None:
        """All at once: the gateway emits them in one go (server.mjs say_many)."""
        fields: list[dict[str, Any]] = []
        for say in says:
            one: dict[str, Any] = {"talker": say.talker, "text": say.text,
                                   "mentions": list(say.mentions)}
            if say.room:
                one["room"] = say.room
            fields.append(one)
        at = time.monotonic()
        for say in says:
            on_said(say, at)
        await self.gateway.command("say_many", says=fields, timeout=120)

    def subscribe(self, on_reply: OnReply) -> Callable[[], None]:
        def forward(event: dict[str, Any]) -> None:
            if event.get("event") == "bot_sent":
                on_reply(Reply(event["conversation"], event["text"],
                               tuple(event.get("mentions", ())), time.monotonic()))
        self.gateway.listeners.append(forward)
        return lambda: self.gateway.listeners.remove(forward)
