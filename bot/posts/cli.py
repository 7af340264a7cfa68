"""`python -m bot posts list|show|check|preview|import`: the admin's tools on the server.

Its arguments are declared in bot/cli.py; this module is imported only when it runs."""

from __future__ import annotations

import argparse
import os
import re
import sys
import unicodedata
from datetime import datetime
from pathlib import Path

from bot.core.config import Settings
from bot.core.messages import OutKind
from bot.posts.files import ID_PATTERN, SUFFIX, Post, PostError, load_posts
from bot.posts.publisher import post_messages


def run(args: argparse.Namespace, settings: Settings) -> int:
    """The action's exit code; output cut short by a closed pipe (`| head`) is not an error."""
    try:
        code = _run(args, settings)
        sys.stdout.flush()  # inside the try: the last buffered lines may meet the closed pipe
    except BrokenPipeError:
        # The reader has all it wanted. Point stdout at /dev/null so the interpreter's own
        # flush at exit does not fail again (the recipe of Python's signal documentation).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return code


def _run(args: argparse.Namespace, settings: Settings) -> int:
    tz = settings.general.tz
    now = datetime.now(tz)
    if args.action == "import":
        return import_article(args.source, args.post_id, settings.posts_dir)
    posts, errors = load_posts(settings.posts_dir, tz, now)
    if args.action == "check":
        for error in errors:
            print(error, file=sys.stderr)
        waiting = [post for post in posts.values() if post.meta.review]
        for post in waiting:  # nothing unreviewed may be published: not OK yet
            print(f"{post.path}: waiting for review, {len(post.meta.review)} place(s) to check "
                  "(then #核对完成 in chat, or delete the review list):", file=sys.stderr)
            for flag in post.meta.review:
                print(f"  {flag}", file=sys.stderr)
        print(f"{len(posts) - len(waiting)} post(s) OK, {len(waiting)} waiting for review, "
              f"{len(errors)} with errors in {settings.posts_dir}")
        return 1 if errors or waiting else 0
    if args.action == "list":
        print("\n".join(post_table(posts, errors, now)))
        return 0
    for error in errors:
        print(f"skipped: {error}", file=sys.stderr)
    found = posts.get(args.post_id)
    if found is None:
        print(f"no post {args.post_id!r}; ids: {', '.join(sorted(posts)) or 'none'}",
              file=sys.stderr)
        return 1
    post = found
    if args.action == "show":
        print(post.path.read_text(encoding="utf-8"))
        print(f"# {status(post, now)}; next run: {next_run(post, now)}")
        return 0
    for message in post_messages(post, "preview", settings.sending.max_text_length, True):
        if message.kind is OutKind.IMAGE:
            print(f"[图片 {message.image_path}]")
        elif message.kind is OutKind.LINK and message.link is not None:
            print(f"[链接卡片 {message.link.title} {message.link.url}]")
        else:
            print(message.text)
        print("-" * 40)
    return 0


LIST_HEADER = ("编号", "状态", "定时", "下次发送", "标题")
NONE = "-"


def post_table(posts: dict[str, Post], errors: list[PostError], now: datetime) -> list[str]:
    """Every post file, one line each: id, status, schedule, next run, title (or the error).
    Columns are padded by display width: a Chinese character takes two columns."""
    rows = [(post.id, status(post, now), post.rule.text if post.rule else NONE,
             next_run(post, now), post.title) for post in posts.values()]
    rows += [error_row(error) for error in errors]
    rows = [LIST_HEADER, *sorted(rows)]
    widths = [max(display_width(row[column]) for row in rows) for column in range(4)]
    return ["  ".join([*map(pad, row[:4], widths), row[4]]) for row in rows]


def error_row(error: PostError) -> tuple[str, str, str, str, str]:
    where = f"{error.path.name} 第 {error.line} 行" + (f" {error.field}" if error.field else "")
    return (error.path.stem, "文件有误，未载入", NONE, NONE, f"{where}：{error.message}")


def status(post: Post, now: datetime) -> str:
    """草稿待核对 / 已暂停 / 未定时 / 已定时 / 定时已过, in the words of #公告列表."""
    if post.meta.review:
        return f"草稿待核对（{len(post.meta.review)} 处）"
    if post.meta.paused:
        return "已暂停"
    if post.rule is None:
        return "未定时"
    return "已定时" if post.runs_after(now) else "定时已过"


def next_run(post: Post, now: datetime) -> str:
    """The next time the schedule sends the post, or "-" (none, paused or waiting for review)."""
    runs = post.rule.next_runs(now, count=1) if post.rule and post.runs_after(now) else []
    return f"{runs[0]:%Y-%m-%d %H:%M}" if runs else NONE


def display_width(text: str) -> int:
    """Terminal columns: East Asian wide and full-width characters take two, combining none."""
    return sum(0 if unicodedata.combining(char) else
               2 if unicodedata.east_asian_width(char) in ("W", "F") else 1 for char in text)


def pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def import_article(source: str, post_id: str | None, directory: Path) -> int:
    from bot.posts.article import clean_article, draft_post
    from bot.posts.article_source import FetchError, extract_text, fetch_url

    try:
        if re.match(r"https?://", source):
            raw, name = fetch_url(source), source.rstrip("/").rsplit("/", 1)[-1]
        else:
            raw, name = Path(source).read_text(encoding="utf-8"), Path(source).stem
    except (OSError, FetchError) as error:
        print(f"cannot read {source}: {error}", file=sys.stderr)
        return 1
    if "<html" in raw[:2000].lower() or "<p" in raw[:2000].lower():
        raw = extract_text(raw)
    post_id = post_id or re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:40] or "imported"
    if not ID_PATTERN.match(post_id):  # e.g. --id ../../pwn: never a path out of the folder
        print(f"--id {post_id!r}: letters, digits, - and _ only, e.g. award-2021", file=sys.stderr)
        return 2
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{post_id}{SUFFIX}"
    if target.exists():
        print(f"{target} exists: choose another --id", file=sys.stderr)
        return 1
    cleaned = clean_article(raw)
    target.write_text(draft_post(raw, source=source, post_id=post_id), encoding="utf-8")
    print(f"draft written: {target} (paused; review it, then set paused = false)")
    for flag in cleaned.flags:
        print(f"  to check, body line {flag.line}: {flag.snippet} ({flag.why})")
    return 0
