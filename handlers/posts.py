"""Commands on posts: the secretary previews, publishes and lists; admins write and schedule.

Each command is one method and its row; the posts' logic is the desk's (bot/posts/desk.py).
"""

from __future__ import annotations

from datetime import datetime

from bot.core.chinese_time import day_and_time, minute
from bot.core.commands import Call, command
from bot.core.errors import UserError
from bot.core.outbox import Outcome
from bot.core.router import Place, Role
from bot.posts.desk import CLEAR_SCHEDULE, PostDesk

EXAMPLE_ID = "award-2019-2020-sihao"
PRIVATE = Place.PRIVATE
S, A = Role.SECRETARY, Role.ADMIN


def title_and_body(call: Call) -> tuple[str, str]:
    title, _, body = call.rest.partition("\n")
    if not title.strip() or not body.strip():
        raise UserError(f"请在命令下一行写标题，再下一行起写正文。例如：\n{call.spec.example}")
    return title.strip(), body.strip()


class PostCommands:
    def __init__(self, desk: PostDesk) -> None:
        self.desk = desk

    def _next(self, post_id: str) -> str:
        return day_and_time(self.desk.next_run(post_id))

    # --- secretary ----------------------------------------------------------------------------

    @command("预览", "preview", role=S, usage="#预览 编号", summary="私聊发来群里将看到的内容",
             example=f"#预览 {EXAMPLE_ID}")
    async def preview(self, call: Call) -> None:
        post_id = call.arg(0, "公告编号")
        call.answer(f"预览“{self.desk.get(post_id).title}”，以下是群里将看到的内容：")
        self.desk.preview(post_id, call.talker_id)

    @command("发布", "publish", role=S, usage="#发布 编号 [再次]", summary="立即发到公告的目标群",
             example=f"#发布 {EXAMPLE_ID}")
    async def publish(self, call: Call) -> None:
        post_id = call.arg(0, "公告编号")
        again = len(call.args) > 1 and call.args[1] in ("再次", "again")
        report = await self.desk.publish_now(call.talker_id, post_id, again=again)
        title = self.desk.get(post_id).title
        if report.complete:
            call.answer(f"已发布“{title}”到 {len(report.outcomes)} 个群，共 {report.sent_parts()} 条。")
            return
        failed = sum(o not in (Outcome.SENT, Outcome.ALREADY_SENT)
                     for outcomes in report.outcomes.values() for o in outcomes)
        why = "；".join(dict.fromkeys(report.problems)) or "原因见日志"
        call.answer(f"“{title}”有 {failed} 条未能发出：{why}")

    @command("公告列表", "list", role=S, summary="所有公告及下次发送时间")
    async def list_posts(self, call: Call) -> None:
        posts = self.desk.posts()
        if not posts:
            call.answer("还没有公告。管理员可私聊机器人：#新建 编号")
            return
        lines = [f"共 {len(posts)} 条公告："] + [
            f"{post.id}  {post.title}  下次：{self._next(post.id)}"
            + ("（已暂停）" if post.meta.paused else "")
            for post in posts
        ]
        call.answer("\n".join(lines))

    # --- admins, in a private chat -------------------------------------------------------------

    @command("新建", "new", role=A, usage="#新建 编号（下一行标题，再下一行起正文）",
             summary="新建公告", example="#新建 meeting-1201\n12月1日会长办公会通知\n各位会长：……",
             place=PRIVATE)
    async def create(self, call: Call) -> None:
        post_id = call.arg(0, "公告编号")
        title, body = title_and_body(call)
        post = self.desk.create(call.talker_id, post_id, title, body)
        call.answer(f"已新建“{post.title}”（{post.id}），未定时。定时请发：#定时 {post.id} 每周一 09:00")

    @command("编辑", "edit", role=A, usage="#编辑 编号（下一行标题，再下一行起正文）",
             summary="修改标题和正文",
             example="#编辑 meeting-1201\n12月1日会长办公会通知（更新）\n各位会长：……", place=PRIVATE)
    async def edit(self, call: Call) -> None:
        post_id = call.arg(0, "公告编号")
        title, body = title_and_body(call)
        post = self.desk.edit(call.talker_id, post_id, title, body)
        call.answer(f"已修改“{post.title}”。下次：{self._next(post.id)}")

    @command("查看", "show", role=A, usage="#查看 编号", summary="查看公告的设置和正文",
             example=f"#查看 {EXAMPLE_ID}", place=PRIVATE)
    async def show(self, call: Call) -> None:
        post = self.desk.get(call.arg(0, "公告编号"))
        meta = post.meta
        call.answer("\n".join([
            f"{post.id}：{post.title}",
            f"定时：{meta.schedule or '无'}；下次：{self._next(post.id)}"
            + ("（已暂停）" if meta.paused else ""),
            f"目标群：{'、'.join(meta.groups) or '全部'}；@所有人：{'是' if meta.mention_all else '否'}；"
            f"设为群公告：{'是' if meta.set_announcement else '否'}",
            f"文件：{post.path.name}",
            "",
            post.body[:300] + ("……" if len(post.body) > 300 else ""),
        ]))

    @command("定时", "schedule", role=A, usage="#定时 编号 时间", summary="设定发送时间（“无”为取消）",
             example=f"#定时 {EXAMPLE_ID} 每周一 09:00", place=PRIVATE)
    async def schedule(self, call: Call) -> None:
        post_id = call.arg(0, "公告编号")
        phrase = " ".join(call.args[1:]).strip()
        if not phrase:
            raise UserError(f"缺少时间。例如：{call.spec.example}，或 #定时 {post_id} "
                            f"{CLEAR_SCHEDULE[0]}（取消定时）")
        post, rule = self.desk.schedule(call.talker_id, post_id, phrase)
        if rule is None:
            call.answer(f"已取消“{post.title}”的定时。")
            return
        note = f"（注意：{rule.note}）" if rule.note else ""
        call.answer(f"已定时“{post.title}”：{rule.text}。下次：{self._next(post.id)}{note}")

    @command("暂停", "pause", role=A, usage="#暂停 编号", summary="暂停定时发送",
             example=f"#暂停 {EXAMPLE_ID}", place=PRIVATE)
    async def pause(self, call: Call) -> None:
        post = self.desk.set_paused(call.talker_id, call.arg(0, "公告编号"), True)
        call.answer(f"已暂停“{post.title}”，恢复请发：#恢复 {post.id}")

    @command("恢复", "resume", role=A, usage="#恢复 编号", summary="恢复定时发送",
             example=f"#恢复 {EXAMPLE_ID}", place=PRIVATE)
    async def resume(self, call: Call) -> None:
        post = self.desk.set_paused(call.talker_id, call.arg(0, "公告编号"), False)
        call.answer(f"已恢复“{post.title}”。下次：{self._next(post.id)}")

    @command("删除", "delete", role=A, usage="#删除 编号", summary="删除公告（移到回收站）",
             example=f"#删除 {EXAMPLE_ID}", place=PRIVATE)
    async def delete(self, call: Call) -> None:
        post_id = call.arg(0, "公告编号")
        title = self.desk.get(post_id).title
        self.desk.delete(call.talker_id, post_id)
        call.answer(f"已删除“{title}”（文件已移到数据目录的回收站）。")

    @command("历史", "history", role=A, usage="#历史 编号", summary="谁在何时改过、发过",
             example=f"#历史 {EXAMPLE_ID}", place=PRIVATE)
    async def history(self, call: Call) -> None:
        post_id = call.arg(0, "公告编号")
        entries = self.desk.history(self.desk.get(post_id).id)
        if not entries:
            call.answer(f"“{post_id}”还没有修改或发布记录。")
            return
        call.answer("\n".join([f"“{post_id}”的记录（最近在前）："] + [
            f"{minute(datetime.fromtimestamp(e.at, self.desk.tz))} {e.actor_id} {e.action} {e.detail}"
            for e in entries
        ]))
