"""`python -m bot posts list|show|check|preview|import`: the admin's tools on the server.

Its arguments are declared in bot/cli.py; this module is imported only when it runs."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import datetime
from pathlib import Path

from bot.core.config import Settings
from bot.core.messages import OutKind
from bot.posts.files import SUFFIX, Post, load_posts
from bot.posts.publisher import post_messages


def run(args: argparse.Namespace, settings: Settings) -> int:
    tz = settings.general.tz
    now = datetime.now(tz)
    if args.action == "import":
        return import_article(args.source, args.post_id, settings.posts_dir)
    posts, errors = load_posts(settings.posts_dir, tz, now)
    if args.action == "check":
        for error in errors:
            print(error, file=sys.stderr)
        print(f"{len(posts)} post(s) OK, {len(errors)} with errors in {settings.posts_dir}")
        return 1 if errors else 0
    for error in errors:
        print(f"skipped: {error}", file=sys.stderr)
    if args.action == "list":
        for post in sorted(posts.values(), key=lambda p: p.id):
            print(f"{post.id:<28} {next_run(post, now):<26} {post.title}")
        return 0
    found = posts.get(args.post_id)
    if found is None:
        print(f"no post {args.post_id!r}; ids: {', '.join(sorted(posts)) or 'none'}",
              file=sys.stderr)
        return 1
    post = found
    if args.action == "show":
        print(post.path.read_text(encoding="utf-8"))
        print(f"# next run: {next_run(post, now)}")
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


def next_run(post: Post, now: datetime) -> str:
    if post.rule is None:
        return "未定时"
    if post.meta.paused:
        return f"已暂停（{post.rule.text}）"
    runs = post.rule.next_runs(now, count=1)
    return f"{runs[0]:%Y-%m-%d %H:%M}（{post.rule.text}）" if runs else "已发过"


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
