"""Command line: `python -m bot [run|check|health|posts|congrats] [--config FILE]`.

Each command imports what it needs when it runs: `health` (Docker's HEALTHCHECK, every
minute) loads the config and bot/ops/health.py only; `run` loads the bot (bot/runner.py).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bot.core.config import ConfigError, Settings, load_settings
from bot.ops import health
from bot.ops.instance_lock import AlreadyRunning, DataDirUnwritable, hold_data_dir

DEFAULT_CONFIG = Path("config.toml")
ALREADY_RUNNING = 3  # exit code: another bot holds the data directory
CANNOT_START = 2  # exit code: a setting or a folder the operator must fix first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="山西省山东商会 群公告机器人"
    )
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="run the bot (the default)")
    commands.add_parser("check", help="check config.toml and the post files, then exit")
    commands.add_parser("health", help="exit 0 if the running bot is connected and making "
                                       "progress, else 1 with the reason (Docker HEALTHCHECK)")
    add_posts_parser(commands)
    add_congrats_parser(commands)
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(_config_first(argv))
    args.command = args.command or "run"
    try:
        settings = load_settings(args.config)
    except ConfigError as error:
        print(f"配置错误 / configuration error: {error}", file=sys.stderr)
        return CANNOT_START
    if args.command == "health":  # Docker runs it every minute: it imports nothing more
        healthy, sentence = health.check(settings.data_dir)
        print(sentence, file=sys.stdout if healthy else sys.stderr)
        return 0 if healthy else 1
    if args.command in ("check", "posts"):
        from bot.posts import cli as posts_cli  # each tool's imports only when it runs

    if args.command == "check":
        target = "the built-in simulator" if settings.uses_simulator else settings.gateway.endpoint
        groups = ", ".join(group.id or group.topic for group in settings.groups)
        print(f"{args.config}: OK (gateway: {target}; groups: {groups}; "
              f"{len(settings.faq.entries)} FAQ entries)")
        args.action = "check"
        return posts_cli.run(args, settings)
    if args.command == "posts":
        return posts_cli.run(args, settings)
    if args.command == "congrats":
        from bot.congrats import cli as congrats_cli

        return congrats_cli.run(args, settings)
    # Everything the bot writes from here on (the ledger, its -wal/-shm, status, the QR code,
    # the log, deleted posts) is its user's alone: the data directory is no one else's business.
    os.umask(0o077)
    try:
        with hold_data_dir(settings.data_dir):
            from bot.runner import start  # the bot itself: asyncio, the client, the services

            return start(settings)
    except AlreadyRunning as error:
        print(error, file=sys.stderr)
        return ALREADY_RUNNING
    except DataDirUnwritable as error:
        print(unwritable_sentence(settings, error), file=sys.stderr)
        return CANNOT_START


def unwritable_sentence(settings: Settings, error: DataDirUnwritable) -> str:
    """What to do, in the folder of config.toml (in Docker: the compose folder on the host,
    the bot being user 10001, as README step 2 does)."""
    if error.not_a_folder:
        return (f"数据目录 {settings.data_dir} 无法创建（{error.path}：{error.reason}，路径中有同名"
                f"文件）：请移走该文件，或改 config.toml 的 [storage] data_dir，然后再启动。"
                f" / the data directory {settings.data_dir} cannot be made ({error.path}: "
                f"{error.reason}; a file is in the way): move the file or change [storage] "
                f"data_dir in config.toml, then start again.")
    user = os.getuid()
    command = f"sudo chown -R {user} {settings.storage.data_dir} {settings.storage.posts_dir}"
    return (f"机器人（用户 {user}）无法写入数据目录（{error.path}：{error.reason}），"
            f"请在 config.toml 所在的文件夹运行 `{command}` 后再启动。"
            f" / the bot (user {user}) cannot write its data directory ({error.path}: "
            f"{error.reason}): run `{command}` in the folder of config.toml, then start again.")


def add_posts_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    posts = commands.add_parser("posts", help="list, show, check, preview or import posts")
    actions = posts.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="every post with its schedule and next run")
    actions.add_parser("check", help="validate every post file (exit 1 on errors)")
    for name, help_text in (("show", "one post's settings and body"),
                            ("preview", "exactly what the group would see")):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("post_id")
    importer = actions.add_parser("import", help="a scraped article (text, HTML or URL) "
                                                 "-> a draft post file to review")
    importer.add_argument("source", help="a .txt or .html file, or an http(s) URL")
    importer.add_argument("--id", dest="post_id", help="the new post's id (default: from the name)")


def add_congrats_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    congrats = commands.add_parser("congrats", help="export a post's congratulations")
    actions = congrats.add_subparsers(dest="action", required=True)
    export = actions.add_parser("export", help="CSV (opens in Excel) and PNG of one post")
    export.add_argument("post_id")
    export.add_argument("--out", type=Path, default=Path("."), help="directory (default: here)")


def _config_first(argv: list[str]) -> list[str]:
    """Accept --config anywhere (`python -m bot check --config x.toml` reads naturally)."""
    if "--config" in argv:
        at = argv.index("--config")
        return [*argv[at : at + 2], *argv[:at], *argv[at + 2 :]]
    return argv
