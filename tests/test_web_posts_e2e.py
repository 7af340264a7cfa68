"""The console's post list: status words as chat has them, search, pages of 100."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.simulator import Simulator
from tests.conftest import RunningBot, settings_for, write_post
from tests.web_helpers import signed_in

SECRETARY = "wxid_secretary_liu"


async def test_the_list_shows_each_posts_status_next_run_and_groups(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    write_post(tmp_path, "weekly", 'title = "每周例会通知"\nschedule = "每周一 09:00"', "正文。")
    write_post(tmp_path, "paused", 'title = "暂停的公告"\nschedule = "每天 08:00"\npaused = true',
               "正文。")
    write_post(tmp_path, "draft", 'title = "导入的草稿"\nreview = ["第 1 行：疑似乱码"]', "正文。")
    write_post(tmp_path, "plain", 'title = "没有定时的公告"\ngroups = ["presidents@chatroom"]', "正文。")
    running: RunningBot = await start_bot(settings_for(simulator.endpoint, home=tmp_path))
    async with signed_in(running, simulator, SECRETARY) as client:
        page = (await client.get("/")).text
    rows = {title: page.split(title, 1)[1].split("</tr>", 1)[0]
            for title in ("每周例会通知", "暂停的公告", "导入的草稿", "没有定时的公告")}
    assert "已定时" in rows["每周例会通知"] and " 周一 09:00" in rows["每周例会通知"]
    assert "已暂停" in rows["暂停的公告"]
    assert "草稿待核对（1 处）" in rows["导入的草稿"]
    assert "未定时" in rows["没有定时的公告"] and "山西省山东商会会长官方群" in rows["没有定时的公告"]
    assert "全部群" in rows["每周例会通知"]


async def test_search_and_pages_of_a_hundred(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    for n in range(150):
        write_post(tmp_path, f"post-{n:03d}", f'title = "第{n}号公告"', f"正文{n}。")
    write_post(tmp_path, "gala", 'title = "迎新年联谊会通知"', "地点：火炬创业大厦C座15层。")
    running: RunningBot = await start_bot(settings_for(simulator.endpoint, home=tmp_path))
    async with signed_in(running, simulator, SECRETARY) as client:
        first = (await client.get("/")).text
        assert "共 151 条" in first and "第 1 / 2 页" in first
        # numbered by id, as #公告列表: gala first, then post-000 ...
        assert "迎新年联谊会通知" in first and "第98号公告" in first and "第99号公告" not in first
        second = (await client.get("/", params={"page": "2"})).text
        assert "第99号公告" in second and "第149号公告" in second and "迎新年" not in second
        assert "第 1 / 2 页" in (await client.get("/", params={"page": "x"})).text
        found = (await client.get("/", params={"q": "火炬"})).text  # the body is searched too
        assert "迎新年联谊会通知" in found and "第1号公告" not in found
        none = (await client.get("/", params={"q": "不存在的词"})).text
        assert "没有找到含“不存在的词”的公告" in none


async def test_an_address_naming_no_post_is_a_404_page_with_the_closest_id(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    write_post(tmp_path, "gala", 'title = "迎新年联谊会通知"', "正文。")
    running: RunningBot = await start_bot(settings_for(simulator.endpoint, home=tmp_path))
    async with signed_in(running, simulator, "wxid_admin_wang") as client:
        for address in ("/posts/gaal", "/posts/gaal/publish", "/posts/gaal/delete",
                        "/posts/gaal/reviewed", "/congrats/gaal/thank"):
            page = await client.get(address)
            assert page.status_code == 404, address
            assert "没有编号为“gaal”的公告" in page.text and "gala" in page.text, address
