"""Commands on posts: the secretary previews, publishes and lists; admins look, schedule,
pause, delete and restore (writing them is handlers/drafting.py, the record handlers/history.py).

Each command is one method and its row; the posts' logic is the desk's (bot/posts/desk.py).
A post is named by its id or by its number in #公告列表.
"""

from __future__ import annotations

from bot.core.chinese_time import day_and_time
from bot.core.commands import Call, command
from bot.core.errors import UserError
from bot.core.router import Place, Role
from bot.posts.desk import CLEAR_SCHEDULE, PostDesk

EXAMPLE_ID = "award-2019-2020-sihao"
PRIVATE = Place.PRIVATE
S, A = Role.SECRETARY, Role.ADMIN


CONFIRM = ("确认", "confirm")


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
        call.answer(report.sentence(self.desk.get(post_id).title))

    @command("公告列表", "list", role=S, summary="所有公告：序号、状态和下次发送时间")
    async def list_posts(self, call: Call) -> None:
        posts = self.desk.posts()
        if not posts:
            call.answer("还没有公告。管理员可私聊机器人：#新建 编号 标题")
            return
        lines = [f"共 {len(posts)} 条公告（命令里可用序号代替编号，如 #预览 1）："] + [
            f"{number}. {post.title}（{post.id}）{self.desk.status(post)}"
            for number, post in enumerate(posts, start=1)
        ]
        call.answer("\n".join(lines))

    # --- admins, in a private chat -------------------------------------------------------------

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
        # From the library's rule: its 工作日 calendar reports a year it does not know yet.
        runs = [day_and_time(run) for run in post.rule.next_runs(self.desk.now(), 3)
                ] if post.rule and self.desk.next_run(post.id) else []
        if runs and not rule.recurring:
            call.answer(f"已定时“{post.title}”：{runs[0]}，只发一次。{note}")
        elif runs:
            call.answer(f"已定时“{post.title}”：{rule.text}。下次：{runs[0]}"
                        + (f"，之后：{'、'.join(runs[1:])}" if runs[1:] else "") + note)
        else:
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

    @command("删除", "delete", role=A, usage="#删除 编号 确认", summary="删除公告（可用 #还原 找回）",
             example=f"#删除 {EXAMPLE_ID} 确认", place=PRIVATE)
    async def delete(self, call: Call) -> None:
        post = self.desk.deletable(call.arg(0, "公告编号"))
        if len(call.args) < 2 or call.args[1] not in CONFIRM:
            call.answer(f"确定要删除“{post.title}”（{post.id}）吗？{self.desk.status(post)}。"
                        f"确认请发送：#删除 {post.id} 确认")
            return
        self.desk.delete(call.talker_id, post.id)
        call.answer(f"已删除“{post.title}”。如需找回，请发送：#还原 {post.id}")

    @command("还原", "restore", role=A, usage="#还原 编号", summary="找回删除的公告",
             example=f"#还原 {EXAMPLE_ID}", place=PRIVATE)
    async def restore(self, call: Call) -> None:
        post = self.desk.restore(call.talker_id, call.arg(0, "公告编号"))
        call.answer(f"已还原“{post.title}”：{self.desk.status(post)}。查看请发：#查看 {post.id}")

    @command("核对完成", "reviewed", role=A, usage="#核对完成 编号",
             summary="导入的草稿已通读改好，可以发布和定时", example=f"#核对完成 {EXAMPLE_ID}",
             place=PRIVATE)
    async def reviewed(self, call: Call) -> None:
        post = self.desk.mark_reviewed(call.talker_id, call.arg(0, "公告编号"))
        call.answer(f"“{post.title}”已标记为核对完成。现在可以 #发布 {post.id}，"
                    f"或 #定时 {post.id} 明天 9:00")
