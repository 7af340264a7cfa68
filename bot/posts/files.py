"""Post files: `announcements/*.md`, TOML front matter between `+++` lines, then the body.

A bad file is reported with file, line and field and skipped; the other posts keep working.
Edits made in chat are written back atomically with tomlkit, so the file's comments survive.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import tomlkit
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.core.messages import LinkCard
from bot.core.toml_lines import line_of
from bot.posts.schedule_rules import ScheduleError, ScheduleRule, parse_schedule

FENCE = "+++"
SUFFIX = ".md"
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}\Z")  # \Z: no trailing newline
MAX_IMAGE_BYTES = 10 * 1024 * 1024  # WeChat's own limit for a picture is about this


class PostMeta(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = ""
    title: Annotated[str, Field(min_length=1)]
    groups: list[str] = []  # ids or topics; empty = every configured group
    schedule: str = ""
    paused: bool = False
    mention_all: bool = False
    set_announcement: bool = False
    images: list[str] = []
    link: LinkCard | None = None
    collect_congratulations: bool = False
    # None: [congratulations] window_hours of config.toml
    congratulation_window_hours: Annotated[float, Field(gt=0)] | None = None
    grace_minutes: Annotated[float, Field(ge=0)] = 10.0
    # Places an import flagged for a person to check (posts import writes them). While any
    # remain, the post can be neither published nor scheduled: nothing unreviewed reaches
    # the group. `#核对完成 编号` (or deleting the list from the file) clears them.
    review: list[str] = []

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if value and not ID_PATTERN.match(value):
            raise ValueError("letters, digits, - and _ only, e.g. 'award-2021'")
        return value


@dataclass(frozen=True)
class Post:
    id: str
    meta: PostMeta
    body: str
    path: Path
    rule: ScheduleRule | None

    @property
    def title(self) -> str:
        return self.meta.title

    def runs_after(self, now: datetime) -> bool:
        """Scheduled, not paused, not waiting for review, and with a run still to come."""
        return (self.rule is not None and not self.meta.paused and not self.meta.review
                and (self.rule.recurring or bool(self.rule.next_runs(now, 1))))


@dataclass(frozen=True)
class PostError:
    path: Path
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f", field '{self.field}'" if self.field else ""
        return f"{self.path}, line {self.line}{where}: {self.message}"


class PostFileError(Exception):
    def __init__(self, error: PostError) -> None:
        super().__init__(str(error))
        self.error = error


def split_front_matter(text: str) -> tuple[str, str]:
    """(front matter, body); the front matter starts on the file's line 2."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != FENCE:
        raise ValueError(f"the file must start with a '{FENCE}' line")
    for index in range(1, len(lines)):
        if lines[index].strip() == FENCE:
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1 :]).strip("\n")
    raise ValueError(f"the front matter has no closing '{FENCE}' line")


def parse_post(path: Path, text: str, tz: ZoneInfo, now: datetime) -> Post:
    """A Post from a file's text, or PostFileError naming file, line and field."""
    try:
        front, body = split_front_matter(text)
    except ValueError as error:
        raise PostFileError(PostError(path, 1, "", str(error))) from None
    try:
        raw = tomllib.loads(front)
    except ValueError as error:  # TOMLDecodeError; or a number of over 4,300 digits (int())
        # tomllib says "(at line N, column M)" counting from the front matter's first line,
        # or "(at end of document)" or nothing: then the front matter's last line is named.
        found = re.search(r"\(at line (\d+), column \d+\)", str(error))
        line = int(found.group(1)) + 1 if found else front.count("\n") + 2
        message = re.sub(r"\s*\(at line.*\)$", "", str(error))
        raise PostFileError(PostError(path, line, "", f"not valid TOML: {message}")) from None
    try:
        meta = PostMeta.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        location = tuple(first["loc"])
        field = ".".join(str(part) for part in location)
        line = line_of(front, location) + 1
        raise PostFileError(PostError(path, line, field, first["msg"])) from None
    if not body.strip():
        raise PostFileError(PostError(path, len(text.splitlines()), "", "the post has no body"))
    rule = None
    if meta.schedule:
        line = line_of(front, ("schedule",)) + 1
        try:
            rule = parse_schedule(meta.schedule, tz, now, allow_past=True)
            # A one-off time relative to today (明天 9:00, 周五 15:00, 5:24) would mean another
            # day at every load and restart, and could send the post twice: a file needs the date.
            later = parse_schedule(meta.schedule, tz, now + timedelta(days=8), allow_past=True)
        except ScheduleError as error:
            raise PostFileError(PostError(path, line, "schedule", str(error))) from None
        if not rule.recurring and later.text != rule.text:
            raise PostFileError(PostError(path, line, "schedule", (
                f"“{meta.schedule}”是相对今天的时间，写在文件里每次载入意思都会变；"
                f"请写具体日期，例如 {rule.text}（在微信里发 #定时 会自动写成具体日期）")))
    for number, image in enumerate(meta.images):
        try:
            image_path(path.parent, image)
        except ValueError as error:
            line = line_of(front, ("images", number)) + 1
            raise PostFileError(PostError(path, line, f"images.{number}", str(error))) from None
    post_id = meta.id or path.stem
    if not ID_PATTERN.match(post_id):
        problem = f"{post_id!r} cannot be an id: set one such as 'award-2021'"
        raise PostFileError(PostError(path, 1, "id", problem))
    return Post(post_id, meta, body, path, rule)


def image_path(posts_dir: Path, name: str) -> Path:
    """The picture a post names, if it is a regular file inside the post folder and not too
    big; else ValueError saying why. A post must not send /etc/passwd, the database or the
    environment (the gateway token) to 150 people, nor read /dev/zero until memory runs out."""
    folder = posts_dir.resolve()
    path = (folder / name).resolve()  # follows links: a link out of the folder is out
    if not path.is_relative_to(folder):
        raise ValueError(f"image {name!r} is outside the post folder {folder}; put it there")
    try:
        status = path.stat()
    except OSError as error:
        raise ValueError(f"image {name!r} cannot be read: {error.strerror}") from None
    if not stat.S_ISREG(status.st_mode):
        raise ValueError(f"image {name!r} is not a regular file")
    if status.st_size > MAX_IMAGE_BYTES:
        raise ValueError(f"image {name!r} is {status.st_size // 1024 // 1024} MB; "
                         f"at most {MAX_IMAGE_BYTES // 1024 // 1024} MB")
    return path


# A parsed post by file, with what it was parsed from: (inode, mtime in ns, size, day; every
# edit writes a new file and renames it over the old, so a new inode). Reused while
# the file is unchanged, so a change to one post of 1,000 does not parse the 999 others again
# (~0.6 s that blocked the loop); at most once a day everything is read afresh.
ParsedFiles = dict[Path, tuple[tuple[int, int, int, str], Post]]


def load_posts(
    directory: Path, tz: ZoneInfo, now: datetime, parsed: ParsedFiles | None = None
) -> tuple[dict[str, Post], list[PostError]]:
    """Every valid post by id, and the errors of the others (file, line, field)."""
    posts: dict[str, Post] = {}
    errors: list[PostError] = []
    seen: set[Path] = set()
    for path in sorted(directory.glob(f"*{SUFFIX}")):
        seen.add(path)
        try:
            status = path.stat()
            key = (status.st_ino, status.st_mtime_ns, status.st_size, now.date().isoformat())
            known = parsed.get(path) if parsed is not None else None
            if known is not None and known[0] == key:
                post = known[1]
            else:
                post = parse_post(path, path.read_text(encoding="utf-8"), tz, now)
                if parsed is not None:
                    parsed[path] = (key, post)
        except PostFileError as failure:
            errors.append(failure.error)
            continue
        except (OSError, UnicodeDecodeError) as error:
            errors.append(PostError(path, 1, "", f"cannot read the file: {error}"))
            continue
        if post.id in posts:
            errors.append(PostError(path, 1, "id", f"id {post.id!r} is already used by "
                                                   f"{posts[post.id].path.name}"))
            continue
        posts[post.id] = post
    if parsed is not None:
        for gone in set(parsed) - seen:
            del parsed[gone]
    return posts, errors


def directory_state(directory: Path) -> dict[str, tuple[float, int]]:
    """Name -> (mtime, size) of the post files, to notice edits made on disk."""
    state: dict[str, tuple[float, int]] = {}
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.name.endswith(SUFFIX) and entry.is_file():
                stat = entry.stat()
                state[entry.name] = (stat.st_mtime, stat.st_size)
    return state


# --- writing ------------------------------------------------------------------------------


def render_file(front: str, body: str) -> str:
    return f"{FENCE}\n{front.rstrip()}\n{FENCE}\n{body.strip()}\n"


def write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, then rename: readers never see half a file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def edit_post_file(
    path: Path, change: Callable[[Any], None], body: str | None = None
) -> None:
    """Apply `change` to the front matter (a tomlkit document, comments kept); maybe a body."""
    front, old_body = split_front_matter(path.read_text(encoding="utf-8"))
    document = tomlkit.parse(front)
    change(document)
    write_atomically(path, render_file(tomlkit.dumps(document), old_body if body is None else body))


def new_post_file(directory: Path, post_id: str, title: str, body: str, groups: list[str]) -> Path:
    document = tomlkit.document()
    document.add(tomlkit.comment("由管理员在微信中创建 / created by an admin in chat"))
    document["id"] = post_id
    document["title"] = title
    document["groups"] = groups
    document["paused"] = False
    path = directory / f"{post_id}{SUFFIX}"
    write_atomically(path, render_file(tomlkit.dumps(document), body))
    return path
