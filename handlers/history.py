"""#历史: who changed or sent a post, and every send, newest first, in people's words."""

from __future__ import annotations

from datetime import datetime

from bot.core.chinese_time import minute
from bot.core.commands import Call, command
from bot.core.errors import MaybeSent, NotSent, UserError
from bot.core.messages import People
from bot.core.router import Place, Role
from bot.core.store import CHAT, THANKS_SUFFIX, AuditEntry, RunSummary
from bot.posts.desk import PostDesk

SHOWN = 20
ACTIONS = {"create": "新建", "edit": "修改正文", "retitle": "改标题", "schedule": "定时",
           "pause": "暂停", "resume": "恢复", "delete": "删除", "restore": "还原",
           "review": "核对完成", "publish": "立即发布", "save": "修改"}  # save: the web editor
UNSHOWN_DETAIL = ("publish", "delete", "restore", "edit")  # a slot, a file name, a whole body


def action_words(entry: AuditEntry) -> tuple[str, str]:
    """What was done and the detail worth showing, e.g. ("定时", "每周一 09:00"); the console's
    history says it in the same words."""
    detail = "" if entry.action in UNSHOWN_DETAIL else entry.detail
    return ACTIONS.get(entry.action, entry.action), detail


def run_words(run: RunSummary, group_names: dict[str, str]) -> str:
    """One send of a post to one group, e.g. "定时发送到“会长群”：1/1 条已发出"."""
    group = group_names.get(run.group_id, run.group_id)
    what = "致谢发" if run.post_id.endswith(THANKS_SUFFIX) else (
        "发布" if run.slot.startswith("manual:") else "定时发送")
    result = (f"{run.sent}/{run.parts} 条已发出" if not run.failed
              else f"{run.sent}/{run.parts} 条已发出，{run.failed} 条未能确认")
    return f"{what}到“{group}”：{result}"


class HistoryCommand:
    def __init__(self, desk: PostDesk, people: People, group_names: dict[str, str]) -> None:
        self.desk = desk
        self.people = people
        self.group_names = group_names  # id -> topic, from config.toml

    @command("历史", "history", role=Role.ADMIN, usage="#历史 编号",
             summary="谁在何时改过、发过（最近在前）", example="#历史 award-2019-2020-sihao",
             place=Place.PRIVATE)
    async def history(self, call: Call) -> None:
        ref = call.arg(0, "公告编号")
        try:
            post_id = self.desk.get(ref).id
            unknown = None
        except UserError as error:
            post_id, unknown = ref, error  # a deleted post keeps its record
        changes, runs = self.desk.history(post_id)
        if not changes and not runs:
            if unknown is not None:
                raise unknown
            call.answer(f"“{post_id}”还没有修改或发送记录。")
            return
        lines = [(entry.at, await self._change(entry)) for entry in changes]
        lines += [(run.at, run_words(run, self.group_names)) for run in runs]
        lines.sort(key=lambda line: line[0], reverse=True)
        shown = [f"{minute(self._at(at))} {text}" for at, text in lines[:SHOWN]]
        more = f"\n（另有 {len(lines) - SHOWN} 条更早的记录）" if len(lines) > SHOWN else ""
        call.answer(f"“{post_id}”的记录（最近在前）：\n" + "\n".join(shown) + more)

    def _at(self, stamp: float) -> datetime:
        return datetime.fromtimestamp(stamp, self.desk.tz)

    async def _change(self, entry: AuditEntry) -> str:
        try:
            who = await self.people.contact_name(entry.actor_id)
        except (NotSent, MaybeSent):  # WeChat away: the id is still exact
            who = entry.actor_id
        action, detail = action_words(entry)
        where = "" if entry.source == CHAT else f"（{entry.source}）"  # 网页, 命令行
        return f"{who} {action}{where}" + (f"：{detail}" if detail else "")
