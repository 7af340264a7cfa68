"""`python -m bot posts ...` as the admin runs it on the server: a real process, real files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

from tests.bot_process import write_config
from tests.conftest import REPO, write_post

LONG_PARAGRAPH = "会员企业踊跃参与公益活动，商会工作稳步推进。" * 40


def posts_command(config: Path, *args: str, stdout: int | None = subprocess.PIPE
                  ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "posts", *args, "--config", str(config)],
        env={**os.environ, "PYTHONPATH": str(REPO)}, stdin=subprocess.DEVNULL, stdout=stdout,
        stderr=subprocess.PIPE, text=True, encoding="utf-8", timeout=60, check=False)


def columns(text: str) -> int:
    """How many terminal columns `text` takes (wide and full-width characters: two)."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def cell_starts(line: str) -> list[int]:
    """The terminal column where each cell (separated by two or more spaces) starts."""
    return [columns(line[: found.end()]) for found in re.finditer(r" {2,}", line)]


def test_list_shows_every_post_with_its_status_in_aligned_columns(tmp_path: Path) -> None:
    config = write_config(tmp_path, "", "", {})
    write_post(tmp_path, "weekly", 'title = "每周例会提醒"\nschedule = "每周一 09:00"', "例会。")
    write_post(tmp_path, "meeting", 'title = "理事会通知"\nschedule = "每天 09:00"\npaused = true',
               "理事会。")
    write_post(tmp_path, "draft", 'title = "A draft, no schedule"\npaused = true', "草稿。")
    write_post(tmp_path, "award", 'title = "喜讯：商会获评“四好”商会"', "喜讯。")
    write_post(tmp_path, "old", 'title = "元旦团拜会"\nschedule = "2020-01-01 09:00"', "团拜。")
    write_post(tmp_path, "broken", 'title = "坏文件"\nschedule = "每周八"', "正文")
    write_post(tmp_path, "imported", 'title = "商会简讯"\nschedule = "每天 09:00"\n'
               'review = ["第2行：乱码", "第5行：缺字"]', "简讯。")

    listed = posts_command(config, "list")

    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    rows = [re.split(r" {2,}", line) for line in lines]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d 09:00", rows[-1][3])  # the next Monday
    rows[-1][3] = "NEXT MONDAY"
    assert rows[2][4].startswith("broken.md 第 3 行 schedule：看不懂“每周八”"), rows[2]
    rows[2][4] = "THE ERROR"
    assert rows == [
        ["编号", "状态", "定时", "下次发送", "标题"],
        ["award", "未定时", "-", "-", "喜讯：商会获评“四好”商会"],
        ["broken", "文件有误，未载入", "-", "-", "THE ERROR"],
        ["draft", "已暂停", "-", "-", "A draft, no schedule"],
        ["imported", "草稿待核对（2 处）", "每天 09:00", "-", "商会简讯"],
        ["meeting", "已暂停", "每天 09:00", "-", "理事会通知"],
        ["old", "定时已过", "2020-01-01 09:00", "-", "元旦团拜会"],
        ["weekly", "已定时", "每周一 09:00", "NEXT MONDAY", "每周例会提醒"],
    ]
    assert len({tuple(cell_starts(line)) for line in lines}) == 1, listed.stdout  # lined up


def test_output_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    config = write_config(tmp_path, "", "", {})
    write_post(tmp_path, "long", 'title = "长公告"', "\n\n".join([LONG_PARAGRAPH] * 50))
    for args in (("preview", "long"), ("list",), ("show", "long")):
        reader, writer = os.pipe()
        os.close(reader)  # the reader has quit before the first line
        try:
            done = posts_command(config, *args, stdout=writer)
        finally:
            os.close(writer)
        assert (done.returncode, done.stderr) == (0, ""), args


def test_preview_piped_into_head(tmp_path: Path) -> None:
    config = write_config(tmp_path, "", "", {})
    # Far more than a pipe holds: the bot is still writing when head has had its line.
    write_post(tmp_path, "long", 'title = "长公告"', "\n\n".join([LONG_PARAGRAPH] * 200))
    shell = subprocess.run(
        ["bash", "-c", f'"{sys.executable}" -m bot posts preview long --config "{config}" '
                       '| head -n 1; echo "exit codes: ${PIPESTATUS[*]}" >&2'],
        env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
        encoding="utf-8", timeout=60, check=False)
    assert shell.stdout == "长公告（1/" + shell.stdout.split("（1/", 1)[1]
    assert shell.stdout.count("\n") == 1
    assert shell.stderr == "exit codes: 0 0\n"


def test_check_fails_listing_the_places_a_draft_still_needs_checked(tmp_path: Path) -> None:
    config = write_config(tmp_path, "", "", {})
    write_post(tmp_path, "ok", 'title = "会长办公会通知"', "请准时参加。")
    write_post(tmp_path, "draft", 'title = "喜讯"\npaused = true\n'
               'review = ["正文第 1 行：担当？shù)募核阏 —— 疑似乱码"]', "担当？shù)募核阏")
    run = posts_command(config, "check")
    assert run.returncode == 1
    assert "draft.md: waiting for review, 1 place(s) to check" in run.stderr
    assert "  正文第 1 行：担当？shù)募核阏 —— 疑似乱码" in run.stderr
    assert run.stdout.strip().endswith("1 post(s) OK, 1 waiting for review, 0 with errors in "
                                       f"{tmp_path / 'announcements'}")


def test_import_refuses_an_id_that_is_a_path(tmp_path: Path) -> None:
    config = write_config(tmp_path, "", "", {})
    (tmp_path / "article.txt").write_text("商会喜讯。\n\n我会获评全国“四好”商会。", encoding="utf-8")
    run = posts_command(config, "import", str(tmp_path / "article.txt"), "--id", "../../pwn")
    assert run.returncode == 2
    assert run.stderr == "--id '../../pwn': letters, digits, - and _ only, e.g. award-2021\n"
    assert not list(tmp_path.parent.glob("pwn*")) and not list(tmp_path.rglob("pwn*"))
