"""The editor's form: what the browser sent, as PostFields and uploads; and what the form shows
beside its fields (the group boxes, the pictures, the schedule's next runs)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from starlette.datastructures import FormData, UploadFile

from bot.core.config import Settings
from bot.core.errors import UserError
from bot.posts.editing import PostFields, schedule_of
from bot.posts.files import MAX_IMAGE_BYTES, Post
from bot.posts.pictures import own_pictures
from bot.posts.schedule_phrases import ScheduleError
from bot.web.context import Web

SHOWN_FILE_NAME = 60  # characters of a client's file name repeated in a sentence


def fields_from(form: FormData) -> PostFields:
    """The form's values as typed; checking them is the desk's (bot/posts/editing.py)."""

    def text(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    def values(name: str) -> tuple[str, ...]:
        return tuple(value for value in form.getlist(name) if isinstance(value, str) and value)

    return PostFields(
        title=text("title"), body=text("body"), schedule=text("schedule"),
        groups=values("groups"), mention_all=bool(text("mention_all")),
        set_announcement=bool(text("set_announcement")),
        collect_congratulations=bool(text("collect_congratulations")),
        congratulation_window_hours=text("congratulation_window_hours"),
        link_title=text("link_title"), link_description=text("link_description"),
        link_url=text("link_url"), link_thumbnail=text("link_thumbnail"),
        images=values("images"))


async def uploads_from(form: FormData) -> list[tuple[str, bytes]]:
    """The pictures chosen, as (file name for sentences, bytes): a byte over the limit is
    read, no more, so that the check can say it is too big."""
    uploads = []
    for item in form.getlist("picture"):
        if not isinstance(item, UploadFile) or not (item.filename or item.size):
            continue  # a file box left empty still sends an empty part
        data = await item.read(MAX_IMAGE_BYTES + 1)
        uploads.append(((item.filename or "")[:SHOWN_FILE_NAME], data))
    return uploads


def file_version(post: Post) -> str:
    """A fingerprint of the post file the form was drawn from: a save over changes made since
    (in chat, by another admin, on disk) is refused instead of quietly undoing them."""
    try:
        return hashlib.sha256(post.path.read_bytes()).hexdigest()[:16]
    except OSError:
        return ""


@dataclass(frozen=True)
class GroupChoice:
    value: str  # as the post file names the group (an id or a topic)
    label: str  # the topic, for people
    checked: bool


def group_choices(settings: Settings, ticked: Sequence[str]) -> list[GroupChoice]:
    """Every group of config.toml, spelled as the post spells it (else by id), then any group
    the post names that config.toml does not, so that saving does not drop it unseen."""
    named, choices, known = set(ticked), [], set()
    for group in settings.groups:
        spellings = [spelling for spelling in (group.id, group.topic) if spelling]
        value = next((spelling for spelling in spellings if spelling in named), spellings[0])
        choices.append(GroupChoice(value, group.topic or group.id, value in named))
        known.update(spellings)
    choices += [GroupChoice(name, f"{name}（config.toml 里没有这个群）", True)
                for name in dict.fromkeys(ticked) if name not in known]
    return choices


def check_groups(settings: Settings, current: Post | None, fields: PostFields) -> None:
    """Only groups the editor offered: those of config.toml and those the post already names."""
    offered = {spelling for group in settings.groups for spelling in (group.id, group.topic)}
    offered |= set(current.meta.groups if current else ())
    unknown = [name for name in fields.groups if name not in offered]
    if unknown:
        raise UserError(f"没有“{unknown[0]}”这个群可选，没有保存。请刷新页面后重新勾选目标群。")


@dataclass(frozen=True)
class PictureRow:
    name: str
    kept: bool  # ticked: sent with the post
    shown: bool  # in the saved post's list, so the page may show it (/posts/{id}/images/...)


def picture_rows(post: Post | None, fields: PostFields) -> list[PictureRow]:
    """The form's pictures first, then the post's earlier uploads it no longer sends (ticking
    one brings it back: removing a picture never deletes its file)."""
    saved = set(post.meta.images) if post else set()
    rows = [PictureRow(name, True, name in saved) for name in dict.fromkeys(fields.images)]
    if post is not None:
        rows += [PictureRow(name, False, name in saved)
                 for name in own_pictures(post.path.parent, post.id) if name not in fields.images]
    return rows


@dataclass(frozen=True)
class ScheduleCheck:
    """What the schedule field says: when the post will go out, or the parser's sentence."""

    rule_text: str = ""  # what the file will say; "" for no schedule
    recurring: bool = False
    runs: tuple[datetime, ...] = ()
    note: str = ""
    problem: str = ""
    blocked: bool = False  # review flags remain: saving it will be refused


def check_schedule(web: Web, phrase: str, current: Post | None) -> ScheduleCheck:
    """The same parser as #定时, with the same reading of "无" and of the saved schedule."""
    try:
        rule = schedule_of(phrase, current, web.tz, web.now())
    except ScheduleError as error:
        return ScheduleCheck(problem=str(error))
    if rule is None:
        return ScheduleCheck()
    blocked = bool(current and current.meta.review and rule.text != current.meta.schedule)
    return ScheduleCheck(rule.text, rule.recurring, tuple(rule.next_runs(web.now(), 3)),
                         rule.note, blocked=blocked)
