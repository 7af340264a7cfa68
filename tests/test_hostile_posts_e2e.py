"""A post file may not send what is not a picture of the post folder: refused by `check`, at
load (skipped, nothing sent) and at send time."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.simulator import SentMessage, Simulator
from tests.conftest import PRESIDENTS, REPO, TEST_CONFIG, settings_for, write_post

SECRETARY = "wxid_secretary_liu"
HOSTILE = ["/etc/passwd", "../config.toml", "../data/bot.sqlite3", "/proc/self/environ",
           "/dev/zero", "outside-link.png", "folder.png", "huge.png"]


def to(chat: str) -> Callable[[SentMessage], bool]:
    return lambda sent: sent.conversation_id == chat


def hostile_posts(home: Path) -> None:
    posts = home / "announcements"
    posts.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("secret", encoding="utf-8")
    (posts / "outside-link.png").symlink_to(home / "config.toml")
    (posts / "folder.png").mkdir()
    with (posts / "huge.png").open("wb") as huge:
        huge.truncate(11 * 1024 * 1024)
    for number, image in enumerate(HOSTILE):
        write_post(home, f"bad-{number}", f'title = "坏图片{number}"\nimages = ["{image}"]', "正文。")


def test_check_refuses_each_hostile_image_naming_file_line_and_field(tmp_path: Path) -> None:
    hostile_posts(tmp_path)
    config = tmp_path / "check.toml"
    config.write_text(TEST_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "bot", "check", "--config", str(config)],
                         capture_output=True, text=True, cwd=REPO, check=False, timeout=60)
    assert run.returncode == 1
    for number in range(len(HOSTILE)):
        assert f"bad-{number}.md, line 3, field 'images.0'" in run.stderr
    assert "0 post(s) OK, 0 waiting for review, 8 with errors" in run.stdout


async def test_hostile_images_are_never_sent(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    hostile_posts(tmp_path)
    running = await start_bot(settings_for(simulator.endpoint, home=tmp_path))
    assert not running.bot.library.posts  # every one skipped at load
    for number in range(len(HOSTILE)):
        await simulator.say(SECRETARY, f"#预览 bad-{number}")
        assert (await simulator.wait_for_sent(to(SECRETARY))).text.startswith(
            f"没有编号为“bad-{number}”的公告。")
    assert not [s for s in simulator.sent if s.kind == "file"]


async def test_an_image_swapped_after_load_stops_the_whole_post(
    tmp_path: Path, simulator: Simulator, start_bot: Any
) -> None:
    posts = tmp_path / "announcements"
    posts.mkdir(parents=True)
    (posts / "plaque.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    write_post(tmp_path, "plaque", 'title = "授牌仪式"\nimages = ["plaque.png"]', "正文。")
    await start_bot(settings_for(simulator.endpoint, home=tmp_path))
    (posts / "plaque.png").unlink()
    (posts / "plaque.png").symlink_to("/etc/passwd")  # between load and send
    await simulator.say(SECRETARY, "#发布 plaque")
    refusal = (await simulator.wait_for_sent(to(SECRETARY))).text
    assert refusal.startswith("“授牌仪式”的图片不能发送，整条公告未发出：image 'plaque.png' is outside")
    assert not [s for s in simulator.sent if s.conversation_id == PRESIDENTS]


@pytest.mark.parametrize("name", ["/dev/zero", "/tmp"])
async def test_the_wechat_side_reads_only_regular_files_of_a_picture_size(
    name: str, simulator: Simulator, running_bot: Any
) -> None:
    from bot.core.errors import NotSent
    from bot.core.messages import Outgoing, OutKind

    with pytest.raises(NotSent, match="图片不是普通文件"):
        await running_bot.bot.wechat.deliver(Outgoing(PRESIDENTS, kind=OutKind.IMAGE, image_path=name))
