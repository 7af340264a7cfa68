"""Saving a whole post from the web editor: every field at once, checked before anything is written.

The editor sends the post as a person sees it: title, body, schedule phrase, groups, options,
link card and pictures. Here it is checked, with sentences in Chinese; turned into the file's
front matter with tomlkit (the file's comments, and the fields the editor does not show: id,
paused, grace_minutes, review, are kept); read back in memory with parse_post exactly as the
library will read it; and only then written. A schedule is saved as the parser's absolute
text, as #定时 does: "明天 9:00" becomes "2026-12-03 09:00".
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import tomlkit

from bot.core.errors import UserError
from bot.core.messages import LinkCard
from bot.posts.files import (
    Post,
    PostFileError,
    parse_post,
    render_file,
    split_front_matter,
    write_atomically,
)
from bot.posts.pictures import (
    Picture,
    checked_picture,
    own_pictures,
    remove_pictures,
    save_pictures,
)
from bot.posts.schedule_rules import ScheduleRule, parse_schedule

CLEAR_SCHEDULE = ("无", "取消", "none")
MOST_TITLE = 200
MOST_WINDOW_HOURS = 24 * 365
WEB_ADDRESS = re.compile(r"https?://\S+\Z")
# What the audit log says changed, in the order the editor shows the fields.
CHANGES = {"title": "标题", "body": "正文", "schedule": "定时", "groups": "目标群",
           "mention_all": "@所有人", "set_announcement": "设为群公告",
           "collect_congratulations": "收集祝贺", "congratulation_window_hours": "祝贺统计时长",
           "link": "链接卡片", "images": "图片"}
# Defaults a file need not spell out: left unwritten unless the file already has the key.
OMITTED: dict[str, Any] = {"mention_all": False, "set_announcement": False,
                           "collect_congratulations": False, "images": []}


@dataclass(frozen=True)
class PostFields:
    """A whole post as the editor shows it, each value as typed (a form sent back keeps them)."""

    title: str = ""
    body: str = ""
    schedule: str = ""  # a phrase for parse_schedule; "" or 无: no schedule
    groups: tuple[str, ...] = ()  # ids or topics; none: every group
    mention_all: bool = False
    set_announcement: bool = False
    collect_congratulations: bool = False
    congratulation_window_hours: str = ""  # "": config.toml's [congratulations] window_hours
    link_title: str = ""
    link_description: str = ""
    link_url: str = ""
    link_thumbnail: str = ""
    images: tuple[str, ...] = ()  # names in the post folder, in sending order

    @classmethod
    def of(cls, post: Post) -> PostFields:
        meta, link = post.meta, post.meta.link
        window = meta.congratulation_window_hours
        return cls(meta.title, post.body, meta.schedule, tuple(meta.groups), meta.mention_all,
                   meta.set_announcement, meta.collect_congratulations,
                   "" if window is None else f"{window:g}",
                   link.title if link else "", link.description if link else "",
                   link.url if link else "", link.thumbnail if link else "", tuple(meta.images))


def schedule_of(phrase: str, current: Post | None, tz: ZoneInfo, now: datetime
                ) -> ScheduleRule | None:
    """None for no schedule; the post's own rule while the phrase is what its file says (a
    one-off time already past stays as it is); else the parser's rule, or its ScheduleError."""
    phrase = phrase.strip()
    if phrase in ("", *CLEAR_SCHEDULE):
        return None
    if current is not None and current.rule is not None and phrase == current.meta.schedule:
        return current.rule
    return parse_schedule(phrase, tz, now)


def window_of(typed: str) -> float | None:
    typed = typed.strip()
    if not typed:
        return None
    try:
        hours = float(typed)
    except ValueError:
        raise UserError(f"祝贺统计时长“{typed}”不是数字。请填小时数，例如 72；"
                        "留空则用默认时长。") from None
    if not math.isfinite(hours) or not 0 < hours <= MOST_WINDOW_HOURS:
        raise UserError(f"祝贺统计时长要大于 0、最多 {MOST_WINDOW_HOURS} 小时（填的是 {typed}）。"
                        "请填小时数，例如 72；留空则用默认时长。")
    return hours


def link_of(fields: PostFields) -> LinkCard | None:
    url, title = fields.link_url.strip(), " ".join(fields.link_title.split())
    description, thumbnail = fields.link_description.strip(), fields.link_thumbnail.strip()
    if not (url or title or description or thumbnail):
        return None
    if not WEB_ADDRESS.match(url):
        raise UserError("链接卡片的网址要以 http:// 或 https:// 开头" +
                        (f"（填的是“{url}”）。" if url else "，现在没有填。") +
                        "不要链接卡片的话，请把它的各项都清空。")
    if not title:
        raise UserError("链接卡片缺少标题（群里卡片上显示的文字）。请填写标题。")
    if thumbnail and not WEB_ADDRESS.match(thumbnail):
        raise UserError(f"缩略图网址要以 http:// 或 https:// 开头（填的是“{thumbnail}”）。"
                        "不需要缩略图就留空。")
    return LinkCard(url=url, title=title, description=description, thumbnail=thumbnail)


@dataclass(frozen=True)
class Draft:
    """PostFields checked: what the file will say once written."""

    fields: PostFields
    title: str
    body: str
    rule: ScheduleRule | None
    window: float | None
    link: LinkCard | None
    pictures: tuple[Picture, ...]
    tz: ZoneInfo
    now: datetime

    @classmethod
    def checked(cls, fields: PostFields, current: Post | None,
                uploads: Sequence[tuple[str, bytes]], tz: ZoneInfo, now: datetime) -> Draft:
        """A UserError naming the first thing wrong; nothing is written either way."""
        title = " ".join(fields.title.split())
        if not title:
            raise UserError("标题不能为空。请写上标题，例如：12月1日会长办公会通知")
        if len(title) > MOST_TITLE:
            raise UserError(f"标题有 {len(title)} 个字，最多 {MOST_TITLE} 个。请缩短后再保存。")
        body = fields.body.replace("\r\n", "\n").replace("\r", "\n").strip()
        if not body:
            raise UserError("正文不能为空。请写上正文（段落之间空一行）。")
        rule = schedule_of(fields.schedule, current, tz, now)
        window, link = window_of(fields.congratulation_window_hours), link_of(fields)
        pictures = tuple(checked_picture(data, name) for name, data in uploads)
        return cls(fields, title, body, rule, window, link, pictures, tz, now)

    def write(self, path: Path, current: Post | None) -> tuple[Post, str]:
        """Write the post file at `path` (new when `current` is None) and the new pictures.
        Returns the post as the library will read it and what changed ("": nothing, and
        nothing was written)."""
        folder, post_id = path.parent, current.id if current else path.stem
        images = self._kept_images(folder, post_id, current)
        if current is None:
            document = tomlkit.document()
            document.add(tomlkit.comment("由管理员在网页后台创建 / created in the web console"))
            document["id"] = post_id
            document["paused"] = False  # as a post created in chat
        else:
            document = tomlkit.parse(split_front_matter(path.read_text(encoding="utf-8"))[0])
        added = save_pictures(folder, post_id, list(self.pictures)) if self.pictures else []
        try:
            self._fill(document, images + added)
            text = render_file(tomlkit.dumps(document), self.body)
            try:
                post = parse_post(path, text, self.tz, self.now)
            except PostFileError as failure:  # the checks above should leave nothing for here
                error = failure.error
                raise UserError(f"没有保存：公告文件检查未通过（第 {error.line} 行 {error.field}："
                                f"{error.message}）。请修改后再试。") from None
            changes = "新建" if current is None else changes_between(current, post)
            if changes:
                write_atomically(path, text)
        except BaseException:
            remove_pictures(folder, added)
            raise
        return post, changes

    def _kept_images(self, folder: Path, post_id: str, current: Post | None) -> list[str]:
        """The pictures the form keeps: the post's own, or ones uploaded for it earlier."""
        known = set(current.meta.images if current else ()) | set(own_pictures(folder, post_id))
        for name in self.fields.images:
            if name not in known:
                raise UserError(f"图片“{name}”不是这条公告的图片，没有保存。请刷新页面后重试。")
        return list(dict.fromkeys(self.fields.images))

    def _fill(self, document: Any, images: list[str]) -> None:
        window = self.window
        if window is not None and window.is_integer():
            window = int(window)  # 72, not 72.0, in the file
        values: dict[str, Any] = {
            "title": self.title, "groups": list(self.fields.groups),
            "schedule": self.rule.text if self.rule else None,
            "mention_all": self.fields.mention_all,
            "set_announcement": self.fields.set_announcement,
            "collect_congratulations": self.fields.collect_congratulations,
            "congratulation_window_hours": window, "images": images}
        for key, value in values.items():
            if value is None:
                document.pop(key, None)
            elif key not in document and key in OMITTED and OMITTED[key] == value:
                continue  # a default the file does not spell out stays unwritten
            elif document.get(key) != value:  # an unchanged key keeps its line and comment
                document[key] = value
        _fill_link(document, self.link)


def _fill_link(document: Any, link: LinkCard | None) -> None:
    if link is None:
        document.pop("link", None)
        return
    if "link" not in document:
        document["link"] = tomlkit.table()
    table = document["link"]
    for key in ("url", "title", "description", "thumbnail"):
        value = getattr(link, key)
        if not value and key in ("description", "thumbnail"):
            table.pop(key, None)
        elif table.get(key) != value:
            table[key] = value


def changes_between(old: Post, new: Post) -> str:
    """What the audit log says changed: "标题、定时（2026-12-03 09:00）"; "" for nothing."""
    changed = []
    for key, label in CHANGES.items():
        before, after = ((old.body, new.body) if key == "body"
                         else (getattr(old.meta, key), getattr(new.meta, key)))
        if before != after:
            changed.append(f"{label}（{new.meta.schedule or '无'}）" if key == "schedule" else label)
    return "、".join(changed)
