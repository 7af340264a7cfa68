"""The post page and its editor, over real HTTP to a bot running on the simulator.

Forms are sent as a browser sends them: the fields the page drew (read from its HTML), with the
changes a person typed. What is asserted is what a person sees: the page, the file on disk,
the audit row (source 网页), the scheduler's next run.
"""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from bot.core.chinese_time import day_and_time
from bot.core.store import WEB
from bot.posts.files import MAX_IMAGE_BYTES
from bot.posts.render import render_parts
from bot.posts.schedule_rules import parse_schedule
from bot.simulator import Simulator
from tests.conftest import RunningBot, settings_for, write_post
from tests.web_helpers import csrf_of, signed_in

SECRETARY, ADMIN = "wxid_secretary_liu", "wxid_admin_wang"
PRESIDENTS = "presidents@chatroom"
COMMENTED = '''
# 这条公告由秘书处维护 / kept by the secretariat
title = "喜讯：我会获评全国“四好”商会"  # 标题按正式文件
groups = ["presidents@chatroom"]
paused = false
'''


class EditorForm(HTMLParser):
    """The fields of the page's form#editor as a browser would send them (no file chosen)."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._inside = False
        self._textarea: str | None = None
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "form" and found.get("id") == "editor":
            self._inside = True
        elif self._inside and tag == "input" and found.get("name"):
            kind = found.get("type", "text")
            if kind == "file" or (kind == "checkbox" and "checked" not in found):
                return
            self.fields.append((found["name"], found.get("value", "")))
        elif self._inside and tag == "textarea":
            self._textarea = found["name"]
            self.fields.append((self._textarea, ""))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            name, text = self.fields[-1]
            self.fields[-1] = (name, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._inside = False

    def changed(self, **typed: str | list[str]) -> dict[str, Any]:
        """The form with some fields typed over (a list for boxes: the ones ticked)."""
        values: dict[str, Any] = {}
        for name, value in self.fields:
            values.setdefault(name, []).append(value.removeprefix("\n"))  # as browsers read it
        values.update({name: value if isinstance(value, list) else [value]
                       for name, value in typed.items()})
        return values


async def start(tmp_path: Path, simulator: Simulator, start_bot: Any, front: str = COMMENTED,
                body: str = "第一段。\n\n第二段。") -> RunningBot:
    write_post(tmp_path, "award", front, body)
    running: RunningBot = await start_bot(settings_for(simulator.endpoint, home=tmp_path))
    return running


def post_file(tmp_path: Path, post_id: str = "award") -> str:
    return (tmp_path / "announcements" / f"{post_id}.md").read_text(encoding="utf-8")


def folder_listing(tmp_path: Path) -> list[str]:
    return sorted(path.name for path in (tmp_path / "announcements").iterdir())


def sentence_of(page: httpx.Response) -> str:
    found = re.search(r'id="form-error"[^>]*>(.*?)</div>', page.text, re.S)
    assert found, page.text
    return html.unescape(found.group(1))


def png(size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (7, 193, 96)).save(out, "PNG")
    return out.getvalue()


async def test_an_admin_creates_a_post_and_schedules_it_for_tomorrow(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    async with signed_in(running, simulator, ADMIN) as client:
        blank = await client.get("/posts/new")
        assert blank.status_code == 200 and 'id="save"' in blank.text
        form = EditorForm(blank.text).changed(
            id="gala", title="迎新年联谊会通知", body="各位会长：\n\n12月28日晚举行迎新年联谊会。",
            schedule="明天 9:00", groups=[PRESIDENTS], mention_all="1")
        created = await client.post("/posts/new", data=form)
        assert created.status_code == 303, created.text
        assert created.headers["location"] == "/posts/gala?done=created"
        page = await client.get(created.headers["location"])

    web = running.bot.web
    assert web is not None
    tomorrow_nine = (web.now() + timedelta(days=1)).replace(hour=9, minute=0, second=0,
                                                            microsecond=0)
    saved = post_file(tmp_path, "gala")
    assert f'schedule = "{tomorrow_nine:%Y-%m-%d} 09:00"' in saved  # absolute, as #定时 writes
    assert 'title = "迎新年联谊会通知"' in saved and "mention_all = true" in saved
    assert saved.rstrip().endswith("12月28日晚举行迎新年联谊会。")
    assert running.bot.desk.next_run("gala") == tomorrow_nine  # the scheduler has it already
    assert f"已新建，请看“群里将看到”的预览。已定时，下次发送：{day_and_time(tomorrow_nine)}。" in page.text
    entry = running.bot.store.history("gala")[0]
    assert (entry.actor_id, entry.action, entry.source) == (ADMIN, "create", WEB)
    assert entry.detail == f"迎新年联谊会通知，定时 {tomorrow_nine:%Y-%m-%d} 09:00"


async def test_saving_from_the_editor_keeps_the_files_comments(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    async with signed_in(running, simulator, ADMIN) as client:
        page = await client.get("/posts/award")
        form = EditorForm(page.text)
        unchanged = await client.post("/posts/award", data=form.changed())
        assert unchanged.headers["location"] == "/posts/award?done=unchanged"
        saved = await client.post("/posts/award", data=form.changed(
            title="喜讯：我会荣获全国“四好”商会称号", body="新的第一段。\n\n新的第二段。"))
        assert saved.status_code == 303
        shown = await client.get(saved.headers["location"])

    text = post_file(tmp_path)
    assert "# 这条公告由秘书处维护 / kept by the secretariat" in text
    assert 'title = "喜讯：我会荣获全国“四好”商会称号"  # 标题按正式文件' in text
    assert text.split("+++\n")[2] == "新的第一段。\n\n新的第二段。\n"
    assert "已保存" in shown.text and "喜讯：我会荣获全国“四好”商会称号" in shown.text
    changes = running.bot.store.history("award")
    assert len(changes) == 1  # the unchanged save wrote nothing and recorded nothing
    assert (changes[0].action, changes[0].source, changes[0].detail) == ("save", WEB, "标题、正文")
    await simulator.say(ADMIN, "#历史 award")  # chat's record says it in words
    record = await simulator.wait_for_sent(lambda m: m.conversation_id == ADMIN)
    assert "王管理员 修改（网页）：标题、正文" in record.text


async def test_the_schedule_check_answers_the_next_three_runs_or_the_parsers_sentence(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    web = running.bot.web
    assert web is not None
    async with signed_in(running, simulator, ADMIN) as client:
        token = csrf_of((await client.get("/posts/award")).text)
        headers = {"X-CSRF-Token": token, "HX-Request": "true"}  # as htmx sends it
        weekly = await client.post("/posts/schedule-check", headers=headers,
                                   data={"schedule": "每周一 9点", "post": "award"})
        nonsense = await client.post("/posts/schedule-check", headers=headers,
                                     data={"schedule": "下下个月圆之夜", "post": "award"})
        none = await client.post("/posts/schedule-check", headers=headers, data={"schedule": "无"})
        unsigned = await client.post("/posts/schedule-check", data={"schedule": "每周一 9点"})

    expected = parse_schedule("每周一 9点", web.tz, web.now()).next_runs(web.now(), 3)
    assert weekly.status_code == 200 and "每周一 09:00" in weekly.text
    assert [day_and_time(run) for run in expected] == re.findall(
        r"<li>([^<]+)</li>", weekly.text)
    assert "看不懂“下下个月圆之夜”这个时间" in html.unescape(nonsense.text)
    assert "不定时" in none.text
    assert unsigned.status_code == 403


async def test_the_preview_of_a_long_body_is_split_as_the_group_will_get_it(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    paragraphs = [f"第{n}段：" + "会长们为商会发展作出了重要贡献。" * 25 for n in range(1, 14)]
    body = "\n\n".join(paragraphs)
    assert len(body) > 5_000
    async with signed_in(running, simulator, ADMIN) as client:
        page = await client.get("/posts/award")
        preview = await client.post(
            "/posts/preview", headers={"X-CSRF-Token": csrf_of(page.text)},
            data=EditorForm(page.text).changed(title="长公告", body=body, mention_all="1"))

    assert preview.status_code == 200
    parts = render_parts("长公告", body, running.bot.settings.sending.max_text_length)
    assert len(parts) >= 3
    shown = [html.unescape(words) for words in
             re.findall(r'<div class="words">(.*?)</div>', preview.text, re.S)]
    assert shown == parts
    first, second = preview.text.split('id="message-2"')[:2]
    assert "@所有人" in first and "@所有人" not in second  # on the first part only
    assert f"正文 1/{len(parts)}" in preview.text and f"分 {len(parts)} 段" in preview.text


async def test_a_secretary_reads_the_post_and_cannot_save_it(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    before = post_file(tmp_path)
    async with signed_in(running, simulator, SECRETARY) as client:
        page = await client.get("/posts/1")  # by its number in #公告列表, as in chat
        refused = await client.post("/posts/award", data={
            "csrf": csrf_of(page.text), "title": "改掉", "body": "改掉"})
        new = await client.get("/posts/new")
        missing = await client.get("/posts/no-such-post")

    assert page.status_code == 200
    assert "喜讯：我会获评全国“四好”商会" in page.text and "山西省山东商会会长官方群" in page.text
    assert 'id="editor"' not in page.text and 'id="save"' not in page.text
    assert re.search(r'<div class="words">[^<]*第二段。', page.text)  # the preview, read-only
    assert refused.status_code == 403 and "管理员" in refused.text
    assert new.status_code == 403
    assert missing.status_code == 404 and "没有编号为“no-such-post”的公告" in missing.text
    assert post_file(tmp_path) == before
    assert running.bot.store.history("award") == []


async def test_a_save_without_the_csrf_token_changes_nothing(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    before = post_file(tmp_path)
    async with signed_in(running, simulator, ADMIN) as client:
        form = EditorForm((await client.get("/posts/award")).text).changed(title="改掉")
        del form["csrf"]
        refused = await client.post("/posts/award", data=form)
    assert refused.status_code == 403 and "校验码" in refused.text
    assert post_file(tmp_path) == before


async def test_uploads_that_are_not_pictures_or_too_big_are_refused_and_nothing_is_written(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    before, listing = post_file(tmp_path), folder_listing(tmp_path)
    too_big = png() + b"\0" * (MAX_IMAGE_BYTES + 1 - len(png()))
    async with signed_in(running, simulator, ADMIN) as client:
        form = EditorForm((await client.get("/posts/award")).text).changed(body="改过的正文。")
        text_file = await client.post("/posts/award", data=form, files={
            "picture": ("photo.png", b"not a picture at all\n" * 10, "image/png")})
        oversize = await client.post("/posts/award", data=form, files={
            "picture": ("big.png", too_big, "image/png")})

    assert text_file.status_code == 400
    assert "“photo.png”不是可用的图片" in sentence_of(text_file)
    assert oversize.status_code == 400 and "超过 10 MB" in sentence_of(oversize)
    assert "改过的正文。" in text_file.text  # the typed body is kept
    assert post_file(tmp_path) == before and folder_listing(tmp_path) == listing


async def test_a_picture_uploaded_is_saved_in_the_post_folder_listed_and_removable(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    picture = png()
    async with signed_in(running, simulator, ADMIN) as client:
        form = EditorForm((await client.get("/posts/award")).text)
        saved = await client.post("/posts/award", data=form.changed(), files={
            "picture": ("../../config.toml", picture, "image/png")})
        assert saved.status_code == 303, saved.text
        page = await client.get("/posts/award")
        served = await client.get("/posts/award/images/award-1.png")
        outside = await client.get("/posts/award/images/..%2Faward.md")
        removed = await client.post("/posts/award", data=EditorForm(page.text).changed(images=[]))
        after = await client.get(removed.headers["location"])

    stored = tmp_path / "announcements" / "award-1.png"
    assert stored.read_bytes() == picture  # under the name the bot gave it
    assert 'id="image-1"' in page.text and "award-1.png" in page.text
    assert re.search(r'<img src="/posts/award/images/award-1.png"', page.text)  # in the preview
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert served.content == picture
    assert outside.status_code == 404
    assert "images = []" in post_file(tmp_path)  # removed from the post ...
    assert stored.exists() and "已移除，勾选可加回" in after.text  # ... the file kept
    actions = [(entry.action, entry.detail) for entry in running.bot.store.history("award")]
    assert actions == [("save", "图片"), ("save", "图片")]


async def test_a_bad_form_comes_back_with_the_sentence_and_what_was_typed(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    before = post_file(tmp_path)
    async with signed_in(running, simulator, ADMIN) as client:
        form = EditorForm((await client.get("/posts/award")).text)
        window = await client.post("/posts/award", data=form.changed(
            body="刚刚打好的一段正文。", collect_congratulations="1",
            congratulation_window_hours="-1"))
        schedule = await client.post("/posts/award", data=form.changed(
            body="刚刚打好的一段正文。", schedule="下下个月圆之夜"))

    assert window.status_code == 400 and "祝贺统计时长要大于 0" in sentence_of(window)
    assert "刚刚打好的一段正文。</textarea>" in window.text
    assert 'value="-1"' in window.text
    assert schedule.status_code == 400 and "看不懂“下下个月圆之夜”" in sentence_of(schedule)
    assert 'value="下下个月圆之夜"' in schedule.text
    assert post_file(tmp_path) == before


async def test_a_post_with_review_flags_shows_them_and_cannot_be_scheduled(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    flagged = COMMENTED.replace("paused = false", 'paused = true\nreview = ["第2段：“會長”疑为繁体，请核对"]')
    running = await start(tmp_path, simulator, start_bot, front=flagged)
    before = post_file(tmp_path)
    async with signed_in(running, simulator, ADMIN) as client:
        page = await client.get("/posts/award")
        form = EditorForm(page.text)
        refused = await client.post("/posts/award", data=form.changed(schedule="明天 9:00"))
        after_refusal = post_file(tmp_path)
        fixed = await client.post("/posts/award", data=form.changed(body="第一段。\n\n第二段（已核对）。"))

    assert "第2段：“會長”疑为繁体，请核对" in html.unescape(page.text)
    assert "核对完成前不能发布，也不能定时" in page.text
    assert refused.status_code == 400
    assert "还有 1 处待核对，暂不能定时" in sentence_of(refused)
    assert after_refusal == before
    assert fixed.status_code == 303  # the body can still be fixed, unscheduled, flags kept
    text = post_file(tmp_path)
    assert "第二段（已核对）。" in text and "schedule" not in text and "review = [" in text


async def test_a_save_over_a_change_made_in_chat_meanwhile_is_refused_then_confirmed(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    running = await start(tmp_path, simulator, start_bot)
    async with signed_in(running, simulator, ADMIN) as client:
        form = EditorForm((await client.get("/posts/award")).text)
        await simulator.say(ADMIN, "#定时 award 每周一 9:00")  # while the page is open
        answer = await simulator.wait_for_sent(lambda m: m.conversation_id == ADMIN)
        assert "已定时" in answer.text
        refused = await client.post("/posts/award", data=form.changed(title="网页上改的标题"))
        assert 'schedule = "每周一 09:00"' in post_file(tmp_path)  # chat's change stands
        again = await client.post("/posts/award", data=EditorForm(refused.text).changed())

    assert refused.status_code == 400 and "被改过" in sentence_of(refused)
    assert 'value="网页上改的标题"' in refused.text  # what was typed is kept
    assert "每周一 09:00" in refused.text.split('id="editor"')[0]  # the summary is the latest
    assert again.status_code == 303  # the admin saw it and saves on purpose
    assert 'title = "网页上改的标题"' in post_file(tmp_path)
