"""A post's actions in the web console: publish (and again), pause and resume, 核对完成, delete,
the 回收站 and restore. Over real HTTP to a bot running on the simulator: what a person sees,
the post file on disk, the messages the group got, and the audit rows (source 网页)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx

from bot.core.store import WEB
from bot.simulator import Simulator
from bot.simulator.lines import SentMessage
from tests.conftest import RunningBot, settings_for, write_post
from tests.web_helpers import csrf_of, signed_in

SECRETARY, ADMIN = "wxid_secretary_liu", "wxid_admin_wang"
PRESIDENTS = "presidents@chatroom"
TITLE = "关于召开第三届会员大会的通知"
# Two paragraphs of 1,500 characters: two parts of at most 2,000.
LONG_BODY = "各位会长：" + "会" * 1500 + "\n\n" + "议" * 1500
CONFIRM = re.compile(r'name="confirm" value="([^"]+)"')


async def start(tmp_path: Path, simulator: Simulator, start_bot: Any) -> RunningBot:
    write_post(tmp_path, "assembly", f'title = "{TITLE}"', LONG_BODY)
    write_post(tmp_path, "weekly", 'title = "每周例会提醒"\nschedule = "每周一 09:00"', "周一例会。")
    write_post(tmp_path, "draft", 'title = "导入的新闻稿"\nreview = ["第 2 段疑似缺字：“商□会”"]',
               "正文。")
    running: RunningBot = await start_bot(settings_for(simulator.endpoint, home=tmp_path))
    return running


def to_group(simulator: Simulator) -> list[SentMessage]:
    return [m for m in simulator.sent if m.conversation_id == PRESIDENTS]


def confirmation(page: httpx.Response) -> dict[str, str]:
    """The confirmation form's fields, as the browser sends them."""
    assert page.status_code == 200, page.text
    found = CONFIRM.search(page.text)
    assert found, "no confirmation on the page"
    fields = {"csrf": csrf_of(page.text), "confirm": found.group(1)}
    if 'name="again" value="1"' in page.text:
        fields["again"] = "1"
    return fields


def actions_of(running: RunningBot, post_id: str, action: str) -> list[Any]:
    return [entry for entry in running.bot.store.history(post_id) if entry.action == action]


async def test_a_secretary_publishes_once_however_often_the_confirmation_is_sent(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    async with signed_in(running, simulator, SECRETARY) as client:
        page = await client.get("/posts/assembly/publish")
        assert f"确定现在把“{TITLE}”发到 1 个群（山西省山东商会会长官方群）吗？共 2 条。" in page.text
        assert 'id="confirm-publish"' in page.text and 'id="cancel"' in page.text
        fields = confirmation(page)
        assert to_group(simulator) == []  # the confirmation page sends nothing

        # A double click: the same confirmation twice at once, then once more after a reload.
        first, second = await asyncio.gather(client.post("/posts/assembly/publish", data=fields),
                                             client.post("/posts/assembly/publish", data=fields))
        resent = await client.post("/posts/assembly/publish", data=fields)
        for answer in (first, second, resent):
            assert answer.status_code == 200, answer.text
            assert f"已发布“{TITLE}”到 1 个群，共 2 条。" in answer.text
        assert sum("已经提交过，这次没有重复操作" in a.text for a in (first, second, resent)) == 2

    parts = to_group(simulator)
    assert len(parts) == 2, [m.text[:20] for m in parts]
    assert parts[0].text.startswith(f"{TITLE}（1/2）") and parts[1].text.startswith("（2/2）")
    published = actions_of(running, "assembly", "publish")
    assert [(e.actor_id, e.source) for e in published] == [(SECRETARY, WEB)]


async def test_publishing_again_the_same_day_takes_its_own_confirmation(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    async with signed_in(running, simulator, SECRETARY) as client:
        # Two tabs open on the confirmation; the first publishes.
        tab_one = confirmation(await client.get("/posts/assembly/publish"))
        tab_two = confirmation(await client.get("/posts/assembly/publish"))
        assert (await client.post("/posts/assembly/publish", data=tab_one)).status_code == 200
        assert len(to_group(simulator)) == 2

        late = await client.post("/posts/assembly/publish", data=tab_two)
        assert late.status_code == 409
        assert f"“{TITLE}”今天已经发过了，这次没有发送。" in late.text
        assert 'id="publish-again"' in late.text

        page = await client.get("/posts/assembly/publish")
        assert "已经发过了。确定再发一次到 1 个群（山西省山东商会会长官方群）吗？" in page.text
        assert 'id="confirm-publish-again"' in page.text and 'id="confirm-publish"' not in page.text
        again = confirmation(page)
        assert again["again"] == "1"
        # The confirmation of a second send is good for that only.
        misused = await client.post("/posts/assembly/publish", data={**again, "again": "0"})
        assert misused.status_code == 409 and "没有做任何改动" in misused.text
        assert len(to_group(simulator)) == 2

        sent = await client.post("/posts/assembly/publish", data=again)
        assert sent.status_code == 200 and f"已发布“{TITLE}”到 1 个群，共 2 条。" in sent.text
        assert (await client.post("/posts/assembly/publish", data=again)).status_code == 200

    assert len(to_group(simulator)) == 4
    assert len(actions_of(running, "assembly", "publish")) == 2


async def test_a_post_waiting_for_review_is_not_published_until_an_admin_has_checked_it(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    async with signed_in(running, simulator, SECRETARY) as client:
        page = await client.get("/posts/draft/publish")
        assert page.status_code == 409
        assert "“导入的新闻稿”还有 1 处待核对，暂不能发布" in page.text
        assert "第 2 段疑似缺字" in page.text and 'id="confirm-publish"' not in page.text

        # Flagged while its confirmation page was open: the desk refuses, in its words.
        fields = confirmation(await client.get("/posts/assembly/publish"))
        path = tmp_path / "announcements" / "assembly.md"
        path.write_text(path.read_text(encoding="utf-8").replace(
            "+++\n", '+++\nreview = ["落款日期待核实"]\n', 1), encoding="utf-8")
        running.bot.desk.library.load()  # as the watcher does when the file changes
        refused = await client.post("/posts/assembly/publish", data=fields)
        assert refused.status_code == 409
        assert f"“{TITLE}”还有 1 处待核对，暂不能发布" in refused.text
        assert "落款日期待核实" in refused.text
        assert to_group(simulator) == [] and actions_of(running, "assembly", "publish") == []

        assert (await client.get("/posts/draft/reviewed")).status_code == 403  # admins only

    async with signed_in(running, simulator, ADMIN) as client:
        page = await client.get("/posts/draft/reviewed")
        assert "确定已经通读全文、都改好了吗？" in page.text and "第 2 段疑似缺字" in page.text
        done = await client.post("/posts/draft/reviewed", data=confirmation(page))
        assert done.status_code == 200 and "已标记为核对完成" in done.text
        assert "review" not in (tmp_path / "announcements" / "draft.md").read_text(encoding="utf-8")
        assert [e.source for e in actions_of(running, "draft", "review")] == [WEB]
        published = await client.post("/posts/draft/publish", data=confirmation(
            await client.get("/posts/draft/publish")))
        assert "已发布“导入的新闻稿”到 1 个群，共 1 条。" in published.text
    message = await simulator.wait_for_sent(lambda m: m.conversation_id == PRESIDENTS)
    assert message.text.startswith("导入的新闻稿")


async def test_an_admin_pauses_and_resumes_a_scheduled_post(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    write_post(tmp_path, "once", 'title = "元旦茶话会"\nschedule = "2020-01-01 09:00"\npaused = true',
               "茶话会。")
    running = await start(tmp_path, simulator, start_bot)
    path = tmp_path / "announcements" / "weekly.md"
    async with signed_in(running, simulator, ADMIN) as client:
        csrf = csrf_of((await client.get("/")).text)
        paused = await client.post("/posts/weekly/pause", data={"csrf": csrf})
        assert paused.status_code == 200 and "已暂停“每周例会提醒”" in paused.text
        assert "paused = true" in path.read_text(encoding="utf-8")
        assert running.bot.desk.next_run("weekly") is None

        resumed = await client.post("/posts/weekly/resume", data={"csrf": csrf})
        assert resumed.status_code == 200 and "已恢复“每周例会提醒”。下次：" in resumed.text
        assert "周一 09:00" in resumed.text
        assert "paused = false" in path.read_text(encoding="utf-8")

        past = await client.post("/posts/once/resume", data={"csrf": csrf})
        assert past.status_code == 409 and "这个时间已经过了，恢复后也不会再发" in past.text
        assert "paused = true" in (tmp_path / "announcements" / "once.md").read_text(encoding="utf-8")

    entries = [(e.action, e.actor_id, e.source) for e in running.bot.store.history("weekly")]
    assert entries == [("resume", ADMIN, WEB), ("pause", ADMIN, WEB)]


async def test_a_secretary_may_only_publish(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    path = tmp_path / "announcements" / "weekly.md"
    before = path.read_text(encoding="utf-8")
    async with signed_in(running, simulator, SECRETARY) as client:
        csrf = csrf_of((await client.get("/")).text)
        for url in ("/posts/weekly/pause", "/posts/weekly/resume", "/posts/weekly/delete",
                    "/trash/weekly/restore", "/posts/draft/reviewed"):
            refused = await client.post(url, data={"csrf": csrf})
            assert refused.status_code == 403 and "只有管理员可以使用" in refused.text, url
        for url in ("/posts/weekly/delete", "/trash"):
            assert (await client.get(url)).status_code == 403, url
    assert path.read_text(encoding="utf-8") == before
    assert running.bot.store.history("weekly") == []


async def test_delete_asks_first_and_the_trash_gives_the_post_back(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    path = tmp_path / "announcements" / "weekly.md"
    trash = tmp_path / "data" / "deleted-posts"
    async with signed_in(running, simulator, ADMIN) as client:
        page = await client.get("/posts/weekly/delete")
        assert "确定要删除“每周例会提醒”（weekly）吗？它现在已定时" in page.text
        assert 'id="confirm-delete"' in page.text
        fields = confirmation(page)
        unconfirmed = await client.post("/posts/weekly/delete", data={"csrf": fields["csrf"]})
        assert unconfirmed.status_code == 409 and "没有做任何改动" in unconfirmed.text
        assert path.exists()

        deleted = await client.post("/posts/weekly/delete", data=fields)
        assert deleted.status_code == 200
        assert "已删除“每周例会提醒”，它不会再发送。删除的公告在回收站里" in deleted.text
        assert 'id="restore"' in deleted.text
        assert not path.exists() and len(list(trash.glob("weekly.*.md"))) == 1
        assert running.bot.desk.next_run("weekly") is None
        assert (await client.post("/posts/weekly/delete", data=fields)).status_code == 200

        listed = await client.get("/trash")
        assert "每周例会提醒" in listed.text and "王管理员删除" in listed.text
        assert 'id="restore-weekly"' in listed.text

        restored = await client.post("/trash/weekly/restore", data={"csrf": csrf_of(listed.text)})
        assert restored.status_code == 200 and "已还原“每周例会提醒”，它现在已定时" in restored.text
        assert path.exists() and list(trash.glob("weekly.*.md")) == []
        assert "回收站是空的" in (await client.get("/trash")).text
        again = await client.post("/trash/weekly/restore", data={"csrf": csrf_of(listed.text)})
        assert again.status_code == 409 and "没有被删除，无需还原" in again.text

    entries = [(e.action, e.source) for e in running.bot.store.history("weekly")]
    assert entries == [("restore", WEB), ("delete", WEB)]


async def test_without_the_csrf_token_or_a_session_nothing_is_sent_or_changed(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    async with signed_in(running, simulator, ADMIN) as client:
        fields = confirmation(await client.get("/posts/assembly/publish"))
        forged = await client.post("/posts/assembly/publish", data={"confirm": fields["confirm"]})
        assert forged.status_code == 403 and "校验码" in forged.text
        wrong = await client.post("/posts/weekly/pause", data={"csrf": "x" * 43})
        assert wrong.status_code == 403 and "校验码" in wrong.text
        assert "paused" not in (tmp_path / "announcements" / "weekly.md").read_text(encoding="utf-8")
        assert to_group(simulator) == [] and running.bot.store.history("assembly") == []

        # The confirmation was not used up by the refused POST: the real one sends.
        sent = await client.post("/posts/assembly/publish", data=fields)
        assert sent.status_code == 200 and "已发布" in sent.text

        async with httpx.AsyncClient(base_url=str(client.base_url)) as stranger:
            for url in ("/posts/assembly/publish", "/posts/weekly/pause", "/trash/weekly/restore"):
                answer = await stranger.post(url, data=fields)
                assert answer.status_code == 401 and "#后台" in answer.text, url
            assert (await stranger.get("/trash")).status_code == 401
    assert len(to_group(simulator)) == 2


async def actions_on_post_page(client: httpx.AsyncClient, post_id: str) -> str:
    """The actions card of the post page /posts/{id} (post_actions.html, included there)."""
    page = await client.get(f"/posts/{post_id}")
    assert page.status_code == 200, page.text
    card = re.search(r'<section class="card post-actions" id="actions".*?</section>', page.text,
                     re.S)
    assert card, "no actions on the post page"
    return card.group(0)


def buttons_of(html: str) -> dict[str, tuple[str, str, bool]]:
    """Each button's id: (its form's method, its form's action, disabled)."""
    found = {}
    for method, action, inside in re.findall(
            r'<form method="(get|post)" action="([^"]+)">(.*?)</form>', html, re.S):
        button = re.search(r'<button id="([^"]+)"[^>]*>', inside)
        assert button, inside
        found[button.group(1)] = (method, action, "disabled" in button.group(0))
    return found


async def test_the_post_pages_buttons_follow_the_role_and_lead_to_the_actions(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    async with signed_in(running, simulator, SECRETARY) as client:
        assert buttons_of(await actions_on_post_page(client, "weekly")) == {
            "publish": ("get", "/posts/weekly/publish", False)}
        draft = await actions_on_post_page(client, "draft")
        assert buttons_of(draft) == {"publish": ("get", "/posts/draft/publish", True)}
        assert "还有 1 处待核对，核对完成前不能发布" in draft and 'href="/trash"' not in draft

    async with signed_in(running, simulator, ADMIN) as client:
        weekly = await actions_on_post_page(client, "weekly")
        assert buttons_of(weekly) == {
            "publish": ("get", "/posts/weekly/publish", False),
            "pause": ("post", "/posts/weekly/pause", False),
            "delete": ("get", "/posts/weekly/delete", False)}
        assert 'id="trash" href="/trash"' in weekly
        assert set(buttons_of(await actions_on_post_page(client, "draft"))) == {
            "publish", "reviewed", "delete"}  # not scheduled: nothing to pause

        # Each button does what it says, as the browser sends its form.
        for button in ("delete", "publish"):
            assert (await client.get(buttons_of(weekly)[button][1])).status_code == 200, button
        paused = await client.post(buttons_of(weekly)["pause"][1], data={"csrf": csrf_of(weekly)})
        assert "已暂停“每周例会提醒”" in paused.text
        resumable = buttons_of(await actions_on_post_page(client, "weekly"))
        assert resumable["resume"] == ("post", "/posts/weekly/resume", False)
        assert "pause" not in resumable
