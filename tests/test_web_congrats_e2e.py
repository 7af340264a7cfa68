"""The console's 祝贺: after members congratulate in the simulated group, the page shows the
counts, the names in order, who has not yet and a timeline; the CSV and the card download; 致谢
goes to the group once, after a confirmation, through the same service as #致谢."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import lxml.html
import pytest
from PIL import Image

from bot.simulator import Simulator
from tests.conftest import PRESIDENTS, RunningBot, collector_of, decided
from tests.test_congrats_e2e import RED_ENVELOPE, SECRETARY, TITLE, publish, start_award_bot, to
from tests.web_helpers import console_client, csrf_of, signed_in

ADMIN = "wxid_admin_wang"
STREAM = [  # five members, five messages, seven kinds
    ("wxid_vp_001", "恭喜恭喜！实至名归[强]", 7),  # 点赞 and 文字
    ("wxid_vp_002", "🌹", 7),
    ("wxid_vp_003", "[鼓掌]", 7),
    ("wxid_vp_004", "", RED_ENVELOPE),
    ("wxid_president_yi", "熱烈祝賀！🎉", 7),  # 表情 and 文字
]
IN_ORDER = ["朱会长", "黄会长", "周会长", "张会长", "伊会长"]
THANKS = "感谢朱会长、黄会长、周会长、张会长、伊会长的祝贺与支持！"


def text_of(html: str, element_id: str) -> str:
    return " ".join(lxml.html.fromstring(html).get_element_by_id(element_id).text_content().split())


def items_of(html: str, element_id: str) -> list[str]:
    element = lxml.html.fromstring(html).get_element_by_id(element_id)
    return [" ".join(item.text_content().split()) for item in element.findall("li")]


async def congratulated(tmp_path: Path, simulator: Simulator, start_bot: Any) -> RunningBot:
    """The award post published and congratulated by five members, the first two an hour
    earlier than the rest (so the timeline has more than one bar)."""
    running = await start_award_bot(tmp_path, simulator, start_bot)
    await publish(simulator)
    collector = collector_of(running)
    for number, (talker, text, kind) in enumerate(STREAM, start=1):
        await simulator.say(talker, text, room_id=PRESIDENTS, message_type=kind)
        await decided(collector, number)
    db = running.bot.store.db
    db.execute("UPDATE collections SET opened_at = opened_at - 7200, closes_at = closes_at - 7200")
    db.execute("UPDATE congratulations SET at = at - 3600 WHERE member_id IN ('wxid_vp_001', 'wxid_vp_002')")
    return running


async def test_the_page_shows_counts_names_in_order_who_has_not_yet_and_a_timeline(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await congratulated(tmp_path, simulator, start_bot)
    async with signed_in(running, simulator, SECRETARY) as client:
        listing = await client.get("/congrats")
        assert listing.status_code == 200
        row = text_of(listing.text, "congrats-award")
        assert TITLE in row and "5 位会长祝贺，共 5 条消息" in row and "征集中，还有" in row

        page = await client.get("/congrats/award")
        assert page.status_code == 200
        assert text_of(page.text, "congrats-totals") == "5 位会长祝贺，合计 5 条消息"
        assert items_of(page.text, "congrats-kinds") == [
            "1 鲜花", "1 掌声", "1 点赞", "1 红包", "1 表情", "2 文字"]
        assert items_of(page.text, "congrats-names") == IN_ORDER
        # Not the bot, the secretary or the admin: as #祝贺统计 未祝贺.
        assert items_of(page.text, "congrats-missing") == ["李会长"]
        bars = items_of(page.text, "congrats-timeline")
        assert len(bars) > 1 and sum(int(bar or 0) for bar in bars) == 5
        assert 'id="thank"' in page.text and 'id="thanked"' not in page.text
        assert "style=" not in page.text  # the CSP allows no inline styles: bars use classes


async def test_the_csv_and_the_card_download_and_leave_no_temporary_folder(
    tmp_path: Path, simulator: Simulator, start_bot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where the bot makes the files
    running = await congratulated(tmp_path, simulator, start_bot)
    async with signed_in(running, simulator, ADMIN) as client:
        table = await client.get("/congrats/award.csv")
        assert table.status_code == 200 and table.headers["content-type"].startswith("text/csv")
        disposition = table.headers["content-disposition"]
        assert disposition.startswith("attachment;") and 'filename="congrats-award.csv"' in disposition
        assert unquote(disposition.split("filename*=UTF-8''")[1]) == "祝贺统计-award.csv"
        rows = list(csv.reader(io.StringIO(table.content.decode("utf-8-sig"))))
        assert rows[0][:5] == ["时间（北京时间）", "微信ID", "群昵称", "类型", "内容"]
        assert [row[2] for row in rows[1:]] == IN_ORDER
        assert rows[1][1] == "wxid_vp_001" and rows[1][4] == "恭喜恭喜！实至名归[强]"

        card = await client.get("/congrats/award/card.png")
        assert card.status_code == 200 and card.headers["content-type"] == "image/png"
        assert "祝贺统计-award.png" in unquote(card.headers["content-disposition"])
        picture = Image.open(io.BytesIO(card.content))
        assert picture.format == "PNG" and picture.width == 1080
        assert list(scratch.iterdir()) == []

        unknown = await client.get("/congrats/nothing-here.csv")
        assert unknown.status_code == 404 and "还没有发到群里，或没有征集祝贺" in unknown.text
    async with console_client(running) as stranger:
        refused = await stranger.get("/congrats/award.csv")
        assert refused.status_code == 401 and "朱会长" not in refused.text


async def thank(client: httpx.AsyncClient) -> httpx.Response:
    confirm = await client.get("/congrats/award/thank")
    assert confirm.status_code == 200
    return await client.post("/congrats/award/thank", data={"csrf": csrf_of(confirm.text)})


async def test_thanks_go_to_the_group_once_after_a_confirmation(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await congratulated(tmp_path, simulator, start_bot)
    async with signed_in(running, simulator, SECRETARY) as client:
        confirm = await client.get("/congrats/award/thank")
        assert text_of(confirm.text, "thanks-text") == THANKS
        assert "“山西省山东商会会长官方群”" in text_of(confirm.text, "question")
        assert not [s for s in simulator.sent if s.text == THANKS]  # asking changes nothing

        refused = await client.post("/congrats/award/thank", data={})  # no CSRF token
        assert refused.status_code == 403 and "校验码" in refused.text

        done = await thank(client)
        assert done.status_code == 200
        assert text_of(done.text, "notice") == f"已在群里致谢：{THANKS}"
        assert (await simulator.wait_for_sent(to(PRESIDENTS))).text == THANKS

        again = await thank(client)
        assert text_of(again.text, "notice") == f"“{TITLE}”的致谢已经发过了，不再重复。"
        page = await client.get("/congrats/award")
        assert 'id="thanked"' in page.text and 'id="thank"' not in page.text

    await simulator.say(SECRETARY, "#致谢 award")  # chat and web share the service
    assert (await simulator.wait_for_sent(to(SECRETARY))).text == f"“{TITLE}”的致谢已经发过了，不再重复。"
    assert [s.text for s in simulator.sent if s.conversation_id == PRESIDENTS].count(THANKS) == 1
