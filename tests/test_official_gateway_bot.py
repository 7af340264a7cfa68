"""The same scenarios against the official gateway (npm wechaty-puppet-service + puppet-mock).

The simulator is ours; this is the truth: the gateway the `wechaty/wechaty` image runs.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.core.messages import State
from bot.wechat import compat
from tests.conftest import (
    BOT_ID,
    PRESIDENTS,
    TEA,
    RunningBot,
    collector_of,
    decided,
    settings_for,
    write_post,
)
from tests.official_gateway.harness import OfficialGateway
from tests.web_helpers import LINK, console_client

TOKEN = "insecure_chamber_test"
PHONE_ANSWER = "电话/传真：0351-8224667"
POSTCODE_ANSWER = "邮政编码：030006"


@pytest.fixture
async def gateway() -> AsyncIterator[OfficialGateway]:
    official = OfficialGateway(TOKEN)
    await official.start()
    yield official
    await official.stop()


@pytest.fixture
async def official_bot(gateway: OfficialGateway, start_bot: Any) -> RunningBot:
    running: RunningBot = await start_bot(settings_for(gateway.endpoint, token=TOKEN))
    return running


async def test_faq_scenario(gateway: OfficialGateway, official_bot: RunningBot) -> None:
    await gateway.say("wxid_vp_001", "我回头给你打电话", room=PRESIDENTS)  # conversation
    await gateway.say("wxid_vp_001", "電話多少？", room=PRESIDENTS)  # traditional
    sent = await gateway.wait_bot_sent(timeout=10)
    assert sent["conversation"] == PRESIDENTS
    assert sent["text"] == f"@朱会长\u2005{PHONE_ANSWER}"
    assert sent["mentions"] == ["wxid_vp_001"]

    await gateway.say("wxid_vp_002", "电话是多少", room=PRESIDENTS)  # within the cooldown
    await gateway.say("wxid_vp_001", "邮编？", room=TEA)  # a group the bot does not serve
    await gateway.say(BOT_ID, "电话多少？", room=PRESIDENTS)  # the bot's own account
    await gateway.say("wxid_vp_003", "邮政编码", room=None)  # private chat
    sent = await gateway.wait_bot_sent(timeout=10)
    assert (sent["conversation"], sent["text"]) == ("wxid_vp_003", POSTCODE_ANSWER)
    assert len(gateway.bot_sent()) == 2


async def test_gateway_restarted_under_the_bot(
    gateway: OfficialGateway, official_bot: RunningBot
) -> None:
    killed_at = time.monotonic()
    await gateway.restart()
    await official_bot.states.wait_for(State.DISCONNECTED, after=killed_at, timeout=10)
    await official_bot.states.wait_for(State.LOGGED_IN, after=killed_at, timeout=30)
    await gateway.say("wxid_vp_004", "邮编？", room=PRESIDENTS)
    sent = await gateway.wait_bot_sent(timeout=10)
    assert sent["text"] == f"@张会长\u2005{POSTCODE_ANSWER}"


async def test_hung_gateway_detected_within_30_seconds(
    gateway: OfficialGateway, official_bot: RunningBot
) -> None:
    hung_at = time.monotonic()
    gateway.hang()
    try:
        detail, detected_at = await official_bot.states.wait_for(
            State.DISCONNECTED, after=hung_at, timeout=35)
    finally:
        gateway.resume()
    assert "hung" in detail and detected_at - hung_at < 30
    await official_bot.states.wait_for(State.LOGGED_IN, after=detected_at, timeout=30)
    await gateway.say("wxid_vp_005", "邮编？", room=PRESIDENTS)
    assert (await gateway.wait_bot_sent(timeout=10))["text"].endswith(POSTCODE_ANSWER)


async def test_wrong_token_is_a_clear_error(
    gateway: OfficialGateway, start_bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="bot.wechat.connection"):
        running: RunningBot = await start_bot(
            settings_for(gateway.endpoint, token="insecure_wrong"), wait_login=False)
        await running.states.wait_for(State.TOKEN_REJECTED, timeout=15)
    assert any("rejected the token" in r.getMessage() for r in caplog.records)
    assert not running.task.done()


async def test_gateway_error_and_unknown_events_leave_the_bot_listening(
    gateway: OfficialGateway, official_bot: RunningBot
) -> None:
    await gateway.emit("error", {"gerror": "something broke in the puppet"})
    await gateway.emit("dirty", {"payloadType": 2, "payloadId": "wxid_vp_001"})
    await gateway.say("wxid_vp_001", "（视频号）", room=PRESIDENTS, message_type="Post")
    await gateway.say("wxid_vp_002", "邮编？", room=PRESIDENTS)
    assert (await gateway.wait_bot_sent(timeout=10))["text"].endswith(POSTCODE_ANSWER)


async def test_announce_topic_and_alias_through_the_compat_layer(gateway: OfficialGateway) -> None:
    puppet = compat.new_puppet(gateway.endpoint, TOKEN, 10)
    await compat.open_session(puppet)
    try:
        await puppet.room_announce(PRESIDENTS, "热烈祝贺我会获评2019-2020年度全国“四好”商会！")
        assert await gateway.announcement(PRESIDENTS) == "热烈祝贺我会获评2019-2020年度全国“四好”商会！"
        assert await puppet.room_announce(PRESIDENTS) == "热烈祝贺我会获评2019-2020年度全国“四好”商会！"
        await puppet.room_topic(PRESIDENTS, "山西省山东商会会长群")
        assert await gateway.topic(PRESIDENTS) == "山西省山东商会会长群"
        await puppet.contact_alias("wxid_vp_001", "朱英海副会长")
        assert await puppet.contact_alias("wxid_vp_001") == "朱英海副会长"
    finally:
        await puppet.stop()


async def test_secretary_publishes_with_mention_all_and_group_announcement(
    gateway: OfficialGateway, start_bot: Any, tmp_path: Path
) -> None:
    write_post(tmp_path, "notice", 'title = "喜讯：我会获评全国“四好”商会"\nmention_all = true\n'
               "set_announcement = true", "详见秘书处通知。")
    await start_bot(settings_for(gateway.endpoint, token=TOKEN, home=tmp_path))
    await gateway.say("wxid_secretary_liu", "#预览 notice")
    intro = await gateway.wait_bot_sent(timeout=10)
    assert intro["conversation"] == "wxid_secretary_liu" and intro["text"].startswith("预览")
    preview = await gateway.wait_bot_sent(timeout=10)
    assert preview["text"] == "@所有人\u2005喜讯：我会获评全国“四好”商会\n\n详见秘书处通知。"
    assert preview["mentions"] == []  # a preview notifies no one
    await gateway.wait_bot_sent(lambda e: e["text"].startswith("【群公告】"), timeout=10)

    await gateway.say("wxid_secretary_liu", "#发布 notice")
    sent = await gateway.wait_bot_sent(lambda e: e["conversation"] == PRESIDENTS, timeout=10)
    assert sent["text"] == "@所有人\u2005喜讯：我会获评全国“四好”商会\n\n详见秘书处通知。"
    assert sent["mentions"] == ["notify@all"]
    done = await gateway.wait_bot_sent(lambda e: e["conversation"] == "wxid_secretary_liu", timeout=10)
    assert done["text"] == "已发布“喜讯：我会获评全国“四好”商会”到 1 个群，共 2 条。"
    assert await gateway.announcement(PRESIDENTS) == "喜讯：我会获评全国“四好”商会\n\n详见秘书处通知。"


async def test_congratulations_of_every_kind_the_mock_can_emit(
    gateway: OfficialGateway, start_bot: Any, tmp_path: Path
) -> None:
    write_post(tmp_path, "award", 'title = "喜讯：我会获评全国“四好”商会"\ncollect_congratulations = true',
               "详见秘书处通知。")
    running: RunningBot = await start_bot(settings_for(gateway.endpoint, token=TOKEN, home=tmp_path))
    collector = collector_of(running)
    await gateway.say("wxid_secretary_liu", "#发布 award")
    await gateway.wait_bot_sent(lambda e: e["conversation"] == "wxid_secretary_liu", timeout=10)

    said = [
        ("wxid_vp_001", "", "RedEnvelope"),
        ("wxid_vp_002", "", "Emoticon"),
        ("wxid_vp_003", "热烈祝贺！👏🌹", None),
    ]
    for number, (talker, text, kind) in enumerate(said, start=1):
        await gateway.say(talker, text, room=PRESIDENTS, message_type=kind)
        await decided(collector, number)
    await gateway.say("wxid_vp_004", "收到", room=PRESIDENTS,
                      quote=("wxid_chamber_bot", "喜讯：我会获评全国“四好”商会\n\n详见秘书处通知。"))
    await decided(collector, 4)
    records = [(r.member_id, r.kinds) for r in running.bot.congratulations.records.congratulations("award")]
    assert records == [("wxid_vp_001", ("红包",)), ("wxid_vp_002", ("表情",)),
                       ("wxid_vp_003", ("鲜花", "掌声", "文字")), ("wxid_vp_004", ("文字",))]


async def test_an_admin_writes_a_post_as_a_conversation(
    gateway: OfficialGateway, start_bot: Any, tmp_path: Path
) -> None:
    admin = "wxid_admin_wang"
    running: RunningBot = await start_bot(settings_for(gateway.endpoint, token=TOKEN, home=tmp_path))
    await gateway.say(admin, "#新建 gala 迎新年联谊会通知")
    asked = await gateway.wait_bot_sent(lambda e: e["conversation"] == admin, timeout=10)
    assert asked["text"].startswith("好的，新建“迎新年联谊会通知”（gala）。请在 10 分钟内把正文")
    body = "各位会长：\n\n定于1月10日晚举行迎新年联谊会。"
    await gateway.say(admin, body)
    done = await gateway.wait_bot_sent(lambda e: e["conversation"] == admin, timeout=10)
    assert done["text"] == "已新建“迎新年联谊会通知”（gala），未定时。以下是群里将看到的内容："
    preview = await gateway.wait_bot_sent(lambda e: e["conversation"] == admin, timeout=10)
    assert preview["text"] == f"迎新年联谊会通知\n\n{body}"
    steps = await gateway.wait_bot_sent(lambda e: e["conversation"] == admin, timeout=10)
    assert steps["text"].startswith("下一步：#定时 gala 明天 9:00，或 #发布 gala")
    assert running.bot.library.posts["gala"].body == body
    assert not [e for e in gateway.bot_sent() if e["conversation"] == PRESIDENTS]


async def test_the_console_link_and_a_web_publish_through_the_official_gateway(
    gateway: OfficialGateway, start_bot: Any, tmp_path: Path
) -> None:
    write_post(tmp_path, "notice", 'title = "喜讯：我会获评全国“四好”商会"\nmention_all = true',
               "详见秘书处通知。")
    running: RunningBot = await start_bot(settings_for(gateway.endpoint, token=TOKEN, home=tmp_path))
    await gateway.say("wxid_vp_001", "#后台")  # a member: refused like any command of the secretariat
    refused = await gateway.wait_bot_sent(lambda e: e["conversation"] == "wxid_vp_001", timeout=10)
    assert "/login/" not in refused["text"]
    await gateway.say("wxid_secretary_liu", "#后台")
    answer = await gateway.wait_bot_sent(
        lambda e: e["conversation"] == "wxid_secretary_liu", timeout=10)
    link = LINK.search(answer["text"])
    assert link, answer["text"]
    async with console_client(running) as client:
        assert (await client.get(link.group(0))).status_code == 200
        token = link.group(0).rsplit("/", 1)[1]
        assert (await client.post("/login", data={"token": token})).status_code == 303
        page = (await client.get("/posts/notice/publish")).text
        form = dict(re.findall(r'name="(csrf|confirm|again)" value="([^"]*)"', page))
        done = await client.post("/posts/notice/publish", data=form)
        assert "已发布“喜讯：我会获评全国“四好”商会”到 1 个群，共 1 条。" in done.text
    sent = await gateway.wait_bot_sent(lambda e: e["conversation"] == PRESIDENTS, timeout=10)
    assert sent["text"] == "@所有人\u2005喜讯：我会获评全国“四好”商会\n\n详见秘书处通知。"
    assert sent["mentions"] == ["notify@all"]
    entry = running.bot.store.history("notice")[0]
    assert (entry.actor_id, entry.action, entry.source) == ("wxid_secretary_liu", "publish", "网页")
