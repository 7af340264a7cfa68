"""What the fault tests share: the bot's timings scaled down together, a multi-part post, and
the figures the secretariat would check afterwards (the group's messages, the ledger rows)."""

from __future__ import annotations

from pathlib import Path

import pytest

import bot.core.retry
import bot.core.store
import bot.ops.status
from bot.core.config import Settings
from bot.core.store import Store
from bot.simulator import Simulator
from tests.conftest import PRESIDENTS, settings_for, write_post

# Every timeout of the bot that a fault runs into, at 1/SCALE of what config.toml ships, so a
# 2-minute outage takes 6 s and meets the same timeouts in the same order as in production:
# rpc 10 s, ding after 10 s of silence answered within 10 s, reconnect 1-60 s, alert after
# 60 s, sends 3 s apart in a group and retried 1, 2, 4 s apart, a post's grace 10 minutes.
SCALE = 20.0
GRACE_MINUTES = 10 / SCALE
ALERTS_NAME = "商会机器人（故障测试）"


def scaled(simulator: Simulator, home: Path, webhook_url: str = "") -> Settings:
    return settings_for(
        simulator.endpoint, home=home,
        gateway={"rpc_timeout_seconds": 10 / SCALE, "idle_ding_seconds": 10 / SCALE,
                 "ding_timeout_seconds": 10 / SCALE, "reconnect_min_seconds": 1 / SCALE,
                 "reconnect_max_seconds": 60 / SCALE},
        sending={"messages_per_minute": 40 * SCALE, "per_chat_interval_seconds": 3 / SCALE,
                 "jitter_seconds": 2 / SCALE, "retry_base_seconds": 1 / SCALE,
                 "max_attempts": 4, "max_text_length": 500},
        alerts={"webhook_url": webhook_url, "format": "json", "hung_after_seconds": 60 / SCALE,
                "name": ALERTS_NAME})


def scale_database_timings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bot's database timings are constants, not settings: scaled the same way, here.
    SQLite's wait for a lock (0.5 s), the retries of a refused write (0.2 s doubling to 5 s),
    the status probe that notices the recovery (every 5 s)."""
    for module, name in [(bot.core.store, "BUSY_TIMEOUT_SECONDS"),
                         (bot.core.retry, "WRITE_RETRY_FIRST"), (bot.core.retry, "WRITE_RETRY_MAX"),
                         (bot.ops.status, "WRITE_EVERY_SECONDS")]:
        monkeypatch.setattr(module, name, getattr(module, name) / SCALE)


def four_part_post(home: Path, grace_minutes: float = GRACE_MINUTES) -> list[str]:
    """Post "series" in four parts of at most 500 characters; returns its paragraphs, one a part."""
    paragraphs = [f"第{n}部分：" + "商会工作稳步推进，会员企业积极参与。" * 22 for n in range(1, 5)]
    write_post(home, "series", f'title = "四段公告"\ngrace_minutes = {grace_minutes}',
               "\n\n".join(paragraphs))
    return paragraphs


def group_lines(simulator: Simulator) -> list[str]:
    """The first line of every message the bot sent to the presidents' group, in order."""
    return [sent.text.split("\n")[0] for sent in simulator.sent if sent.conversation_id == PRESIDENTS]


def ledger_rows(home: Path, post_id: str) -> list[tuple[int, str]]:
    """(part, state) of every row of the post in the send ledger, read from the file."""
    store = Store(home / "data" / "bot.sqlite3")
    try:
        return sorted((row.key.part, row.state) for row in store.ledger(post_id))
    finally:
        store.close()
