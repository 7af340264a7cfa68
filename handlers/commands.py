"""The command table: every chat command, who may use it, where, and its one-line help.

The order here is the order of #帮助. Handlers are small; the posts' logic is in
bot/post_desk.py, parsing and permissions in bot/commands.py.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.commands import Call, Command, CommandBook, CommandError
from bot.core.outbox import Outcome
from bot.core.router import Context, Place, Role
from handlers import congrats
from handlers.status import show_status

WEEKDAYS = "一二三四五六日"


def when(moment: datetime | None) -> str:
    if moment is None:
        return "未定时"
    return f"{moment:%Y-%m-%d} 周{WEEKDAYS[moment.weekday()]} {moment:%H:%M}"


# --- everyone ---------------------------------------------------------------------------------


async def show_help(call: Call, ctx: Context) -> None:
    place = Place.GROUP if call.message.in_group else Place.PRIVATE
    lines = ["可用的命令："]
    for command in BOOK.usable_by(call.role, Place.ANYWHERE):
        where = "（私聊）" if command.place is Place.PRIVATE and place is Place.GROUP else ""
        lines.append(f"{command.usage}  {command.summary}{where}")
    lines.append("例如：" + "、".join(c.example for c in BOOK.usable_by(call.role, place)[:3]))
    ctx.tell(call.message.talker_id, "\n".join(lines))


async def my_id(call: Call, ctx: Context) -> None:
    text = f"您的微信ID：{call.message.talker_id}"
    if call.message.room_id:
        text += f"\n本群ID：{call.message.room_id}"
    ctx.tell(call.message.talker_id, text + "\n（管理员可把它填入 config.toml 的 roles 或 groups）")


# --- secretary --------------------------------------------------------------------------------


async def preview(call: Call, ctx: Context) -> None:
    post_id = call.arg(0, "公告编号")
    ctx.tell(call.message.talker_id, f"预览“{ctx.desk.get(post_id).title}”，以下是群里将看到的内容：")
    ctx.desk.preview(post_id, call.message.talker_id)


async def publish(call: Call, ctx: Context) -> None:
    post_id = call.arg(0, "公告编号")
    again = len(call.args) > 1 and call.args[1] in ("再次", "again")
    report = await ctx.desk.publish_now(call.message.talker_id, post_id, again=again)
    title = ctx.desk.get(post_id).title
    if report.complete:
        ctx.tell(call.message.talker_id,
                 f"已发布“{title}”到 {len(report.outcomes)} 个群，共 {report.sent_parts()} 条。")
    else:
        failed = sum(o not in (Outcome.SENT, Outcome.ALREADY_SENT)
                     for outcomes in report.outcomes.values() for o in outcomes)
        why = "；".join(dict.fromkeys(report.problems)) or "原因见日志"
        ctx.tell(call.message.talker_id, f"“{title}”有 {failed} 条未能发出：{why}")


async def list_posts(call: Call, ctx: Context) -> None:
    posts = ctx.desk.posts()
    if not posts:
        ctx.tell(call.message.talker_id, "还没有公告。管理员可私聊机器人：#新建 编号")
        return
    lines = [f"共 {len(posts)} 条公告："]
    for post in posts:
        state = "（已暂停）" if post.meta.paused else ""
        lines.append(f"{post.id}  {post.title}  下次：{when(ctx.desk.next_run(post.id))}{state}")
    ctx.tell(call.message.talker_id, "\n".join(lines))


# --- admins, in a private chat ---------------------------------------------------------------


def title_and_body(call: Call) -> tuple[str, str]:
    title, _, body = call.rest.partition("\n")
    if not title.strip() or not body.strip():
        raise CommandError(
            f"请在命令下一行写标题，再下一行起写正文。例如：\n{call.command.example}")
    return title.strip(), body.strip()


async def create(call: Call, ctx: Context) -> None:
    post_id = call.arg(0, "公告编号")
    title, body = title_and_body(call)
    post = ctx.desk.create(call.message.talker_id, post_id, title, body)
    ctx.tell(call.message.talker_id, f"已新建“{post.title}”（{post.id}），未定时。"
             f"定时请发：#定时 {post.id} 每周一 09:00")


async def edit(call: Call, ctx: Context) -> None:
    post_id = call.arg(0, "公告编号")
    title, body = title_and_body(call)
    post = ctx.desk.edit(call.message.talker_id, post_id, title, body)
    ctx.tell(call.message.talker_id, f"已修改“{post.title}”。下次：{when(ctx.desk.next_run(post.id))}")


async def show(call: Call, ctx: Context) -> None:
    post = ctx.desk.get(call.arg(0, "公告编号"))
    meta = post.meta
    lines = [
        f"{post.id}：{post.title}",
        f"定时：{meta.schedule or '无'}；下次：{when(ctx.desk.next_run(post.id))}"
        + ("（已暂停）" if meta.paused else ""),
        f"目标群：{'、'.join(meta.groups) or '全部'}；@所有人：{'是' if meta.mention_all else '否'}；"
        f"设为群公告：{'是' if meta.set_announcement else '否'}",
        f"文件：{post.path.name}",
        "",
        post.body[:300] + ("……" if len(post.body) > 300 else ""),
    ]
    ctx.tell(call.message.talker_id, "\n".join(lines))


async def schedule(call: Call, ctx: Context) -> None:
    post_id = call.arg(0, "公告编号")
    phrase = " ".join(call.args[1:]).strip()
    if not phrase:
        raise CommandError(f"缺少时间。例如：{call.command.example}，或 #定时 {post_id} 无（取消定时）")
    post, rule = ctx.desk.schedule(call.message.talker_id, post_id, phrase)
    if rule is None:
        ctx.tell(call.message.talker_id, f"已取消“{post.title}”的定时。")
        return
    ctx.tell(call.message.talker_id,
             f"已定时“{post.title}”：{rule.text}。下次：{when(ctx.desk.next_run(post.id))}")


async def pause(call: Call, ctx: Context) -> None:
    post = ctx.desk.set_paused(call.message.talker_id, call.arg(0, "公告编号"), True)
    ctx.tell(call.message.talker_id, f"已暂停“{post.title}”，恢复请发：#恢复 {post.id}")


async def resume(call: Call, ctx: Context) -> None:
    post = ctx.desk.set_paused(call.message.talker_id, call.arg(0, "公告编号"), False)
    ctx.tell(call.message.talker_id, f"已恢复“{post.title}”。下次：{when(ctx.desk.next_run(post.id))}")


async def delete(call: Call, ctx: Context) -> None:
    post_id = call.arg(0, "公告编号")
    title = ctx.desk.get(post_id).title
    ctx.desk.delete(call.message.talker_id, post_id)
    ctx.tell(call.message.talker_id, f"已删除“{title}”（文件已移到数据目录的回收站）。")


async def history(call: Call, ctx: Context) -> None:
    post_id = call.arg(0, "公告编号")
    entries = ctx.desk.history(ctx.desk.get(post_id).id)
    if not entries:
        ctx.tell(call.message.talker_id, f"“{post_id}”还没有修改或发布记录。")
        return
    tz = ctx.desk.scheduler.tz
    lines = [f"“{post_id}”的记录（最近在前）："] + [
        f"{datetime.fromtimestamp(e.at, tz):%Y-%m-%d %H:%M} {e.actor_id} {e.action} {e.detail}"
        for e in entries
    ]
    ctx.tell(call.message.talker_id, "\n".join(lines))


EXAMPLE_ID = "award-2019-2020-sihao"
M, S, A = Role.MEMBER, Role.SECRETARY, Role.ADMIN
PRIVATE = Place.PRIVATE

BOOK = CommandBook([
    Command("帮助", ("help",), M, "#帮助", "查看可用的命令", "#帮助", show_help),
    Command("我的ID", ("myid", "我的id"), M, "#我的ID", "私聊告诉您的微信ID", "#我的ID", my_id),
    Command("预览", ("preview",), S, "#预览 编号", "私聊发来群里将看到的内容",
            f"#预览 {EXAMPLE_ID}", preview),
    Command("发布", ("publish",), S, "#发布 编号 [再次]", "立即发到公告的目标群",
            f"#发布 {EXAMPLE_ID}", publish),
    Command("公告列表", ("list",), S, "#公告列表", "所有公告及下次发送时间", "#公告列表", list_posts),
    Command("祝贺统计", ("congrats",), S, "#祝贺统计 [编号] [未祝贺]",
            "谁祝贺了：人数、类型、名单和图片（默认最近一条）", f"#祝贺统计 {EXAMPLE_ID} 未祝贺",
            congrats.report),
    Command("致谢", ("thanks",), S, "#致谢 编号", "在群里发一条总的致谢", f"#致谢 {EXAMPLE_ID}",
            congrats.thank),
    Command("新建", ("new",), A, "#新建 编号（下一行标题，再下一行起正文）", "新建公告",
            "#新建 meeting-1201\n12月1日会长办公会通知\n各位会长：……", create, PRIVATE),
    Command("编辑", ("edit",), A, "#编辑 编号（下一行标题，再下一行起正文）", "修改标题和正文",
            "#编辑 meeting-1201\n12月1日会长办公会通知（更新）\n各位会长：……", edit, PRIVATE),
    Command("查看", ("show",), A, "#查看 编号", "查看公告的设置和正文", f"#查看 {EXAMPLE_ID}",
            show, PRIVATE),
    Command("定时", ("schedule",), A, "#定时 编号 时间", "设定发送时间（“无”为取消）",
            f"#定时 {EXAMPLE_ID} 每周一 09:00", schedule, PRIVATE),
    Command("暂停", ("pause",), A, "#暂停 编号", "暂停定时发送", f"#暂停 {EXAMPLE_ID}", pause,
            PRIVATE),
    Command("恢复", ("resume",), A, "#恢复 编号", "恢复定时发送", f"#恢复 {EXAMPLE_ID}", resume,
            PRIVATE),
    Command("删除", ("delete",), A, "#删除 编号", "删除公告（移到回收站）", f"#删除 {EXAMPLE_ID}",
            delete, PRIVATE),
    Command("历史", ("history",), A, "#历史 编号", "谁在何时改过、发过", f"#历史 {EXAMPLE_ID}",
            history, PRIVATE),
    Command("状态", ("status",), A, "#状态", "机器人的连接、运行时间和接下来的公告（私聊回复）",
            "#状态", show_status),
])
