"""The 回收站: deleted posts, as the desk left them in the data folder
(`{id}.{YYYYmmdd-HHMMSS}.md`), newest first, one row per post id: restoring brings back the
newest version of that id (PostDesk.restore)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.posts.files import SUFFIX, split_front_matter
from bot.web.context import Web

STAMP = "%Y%m%d-%H%M%S"  # PostDesk.delete names the file with its clock's local time


@dataclass(frozen=True)
class Deleted:
    post_id: str
    title: str  # from the file; the id when it does not parse
    deleted_at: datetime | None
    deleted_by: str  # a WeChat name; empty when the audit log does not say
    older: int  # earlier deleted versions of the same id, kept in the folder
    listed: bool  # a post with this id is in the list again: restoring is refused


def title_in(path: Path) -> str | None:
    try:
        front, _body = split_front_matter(path.read_text(encoding="utf-8"))
        title = tomllib.loads(front).get("title")
    except (OSError, UnicodeDecodeError, ValueError):  # TOMLDecodeError is a ValueError
        return None
    return title if isinstance(title, str) and title.strip() else None


def deleted_at(path: Path, web: Web) -> datetime | None:
    try:
        return datetime.strptime(path.name.split(".")[1], STAMP).replace(tzinfo=web.tz)
    except (IndexError, ValueError):
        return None


async def deleted_posts(web: Web) -> list[Deleted]:
    """Every post id in the trash, the most recently deleted first."""
    trash = web.desk.trash
    files = sorted(trash.glob(f"*{SUFFIX}")) if trash.is_dir() else []
    versions: dict[str, list[Path]] = {}
    for path in files:  # by name: a post's versions oldest to newest
        versions.setdefault(path.name.split(".")[0], []).append(path)
    names: dict[str, str] = {}
    found = []
    for post_id, paths in versions.items():
        newest = paths[-1]
        actor = next((entry.actor_id for entry in web.desk.store.history(post_id, limit=100)
                      if entry.action == "delete" and entry.detail == newest.name), "")
        if actor and actor not in names:
            names[actor] = await web.name_of(actor)
        found.append(Deleted(post_id, title_in(newest) or post_id, deleted_at(newest, web),
                             names.get(actor, ""), len(paths) - 1,
                             post_id in web.desk.library.posts))
    never = datetime.min.replace(tzinfo=web.tz)
    return sorted(found, key=lambda deleted: deleted.deleted_at or never, reverse=True)
