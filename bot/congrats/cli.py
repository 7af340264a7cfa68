"""`python -m bot congrats export <id>`: the CSV (UTF-8 with BOM, for Excel) and the picture.

Its arguments are declared in bot/cli.py; this module is imported only when it runs."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from bot.congrats.card import FontMissing, render_png
from bot.congrats.records import CongratulationRecords
from bot.congrats.report import tally, write_csv
from bot.core.config import Settings
from bot.core.store import DATABASE, Store
from bot.posts.files import load_posts


def run(args: argparse.Namespace, settings: Settings) -> int:
    tz = settings.general.tz
    posts, _ = load_posts(settings.posts_dir, tz, datetime.now(tz)) \
        if settings.posts_dir.is_dir() else ({}, [])
    post = posts.get(args.post_id)
    store = Store(settings.data_dir / DATABASE)
    try:
        records = CongratulationRecords(store)
        found = tally(records, args.post_id, post.title if post else args.post_id)
    finally:
        store.close()
    if found is None:
        print(f"no congratulations collected for {args.post_id!r} (was it sent with "
              "collect_congratulations = true?)", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    print(write_csv(found, args.out / f"祝贺统计-{found.post_id}.csv", tz))
    try:
        print(render_png(found, args.out / f"祝贺统计-{found.post_id}.png", tz))
    except FontMissing as error:
        print(f"picture not drawn: {error}", file=sys.stderr)
        return 1
    return 0
