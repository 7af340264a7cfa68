"""Writing posts from a phone: a short conversation with an admin, in a private chat.

`#新建 编号 标题` (one line), then the admin's next private message is the body; `#编辑 编号`,
then the next message replaces the body; `#改标题 编号 新标题`. The bot waits WAIT_MINUTES
for the body and answers with the preview and the next steps. The old one-message form
(`#新建 编号` + title on the next line + body) still works.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.cache import BoundedCache
from bot.core.commands import Call, command
from bot.core.errors import UserError
from bot.core.messages import Incoming, MessageKind
from bot.core.replies import Replies
from bot.core.router import Place, Role
from bot.posts.desk import PostDesk

log = logging.getLogger(__name__)

WAIT_MINUTES = 10
A, PRIVATE = Role.ADMIN, Place.PRIVATE


@dataclass(frozen=True)
class Awaiting:
    """An admin's next private message is the body of this post."""

    post_id: str
    title: str | None  # a new post's title; None when editing: the title stays
    until: float  # time.monotonic()


class DraftingCommands:
    def __init__(self, desk: PostDesk, replies: Replies,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.desk = desk
        self.replies = replies
        self.clock = clock
        self._awaiting: BoundedCache[str, Awaiting] = BoundedCache(100)

    # --- the commands ---------------------------------------------------------------------------

    @command("新建", "new", role=A, usage="#新建 编号 标题", summary="新建公告（下一条消息发正文）",
             example="#新建 meeting-1201 12月1日会长办公会通知", place=PRIVATE)
    async def create(self, call: Call) -> None:
        post_id = call.arg(0, "公告编号")
        title = " ".join(call.args[1:]).strip()
        if call.rest.strip():  # the one-message form: title and body on the following lines
            title, _, body = call.rest.partition("\n")
            if not title.strip() or not body.strip():
                raise UserError(f"请在命令下一行写标题，再下一行起写正文；或只发：{call.spec.example}"
                                "，再把正文作为下一条消息发来。")
            self._finish(call.talker_id, self.desk.create(call.talker_id, post_id, title.strip(),
                                                          body.strip()).id, "已新建")
            return
        if not title:
            raise UserError(f"缺少标题。用法：{call.spec.usage}，例如：{call.spec.example}")
        self.desk.check_new_id(post_id)
        self._wait(call.talker_id, Awaiting(post_id, title, self._deadline()))
        call.answer(f"好的，新建“{title}”（{post_id}）。请在 {WAIT_MINUTES} 分钟内把正文作为下一条消息发来"
                    "（可以有多段）；发“#取消”放弃。")

    @command("编辑", "edit", role=A, usage="#编辑 编号", summary="修改正文（下一条消息发新正文）",
             example="#编辑 meeting-1201", place=PRIVATE)
    async def edit(self, call: Call) -> None:
        post = self.desk.get(call.arg(0, "公告编号"))
        if call.rest.strip():  # the one-message form: a new title, then the new body
            title, _, body = call.rest.partition("\n")
            if not title.strip() or not body.strip():
                raise UserError(f"请在命令下一行写标题，再下一行起写正文；或只发：#编辑 {post.id}"
                                "，再把新正文作为下一条消息发来。")
            self._finish(call.talker_id, self.desk.edit(call.talker_id, post.id, title.strip(),
                                                        body.strip()).id, "已修改")
            return
        self._wait(call.talker_id, Awaiting(post.id, None, self._deadline()))
        call.answer(f"好的，修改“{post.title}”的正文。请在 {WAIT_MINUTES} 分钟内把新正文作为下一条消息发来；"
                    f"只改标题请发：#改标题 {post.id} 新标题；发“#取消”放弃。")

    @command("改标题", "retitle", role=A, usage="#改标题 编号 新标题", summary="只改标题",
             example="#改标题 meeting-1201 12月1日会长办公会通知（改期）", place=PRIVATE)
    async def retitle(self, call: Call) -> None:
        post = self.desk.get(call.arg(0, "公告编号"))
        title = " ".join(call.args[1:]).strip()
        if not title:
            raise UserError(f"缺少新标题。例如：#改标题 {post.id} 12月1日会长办公会通知（改期）")
        self._finish(call.talker_id, self.desk.edit(call.talker_id, post.id, title, None).id,
                     "已修改标题")

    @command("取消", "cancel", role=A, summary="放弃正在新建或修改的公告", place=PRIVATE)
    async def cancel(self, call: Call) -> None:
        waiting = self._pending(call.talker_id)
        if waiting is None:
            call.answer("现在没有等待正文的公告，无需取消。")
            return
        self._awaiting.discard(call.talker_id)
        call.answer(f"已放弃，“{waiting.post_id}”未作改动。")

    # --- the body, as the admin's next private message -------------------------------------

    def awaiting_body(self, message: Incoming) -> Awaiting | None:
        """The router's matcher: a private text from an admin the bot is waiting on."""
        if message.in_group or message.kind is not MessageKind.TEXT or not message.text.strip():
            return None
        return self._pending(message.talker_id)

    async def receive_body(self, message: Incoming, waiting: Awaiting) -> None:
        admin, body = message.talker_id, message.text.strip()
        self._awaiting.discard(admin)  # answered: the next message is a message again
        try:
            if waiting.title is not None:
                post = self.desk.create(admin, waiting.post_id, waiting.title, body)
                self._finish(admin, post.id, "已新建")
            else:
                post = self.desk.edit(admin, waiting.post_id, None, body)
                self._finish(admin, post.id, "已修改正文")
        except UserError as error:
            self.replies.tell(admin, str(error))

    # --- helpers -----------------------------------------------------------------------------

    def _deadline(self) -> float:
        return self.clock() + WAIT_MINUTES * 60

    def _wait(self, admin: str, awaiting: Awaiting) -> None:
        log.info("waiting for %s's body of post %s", admin, awaiting.post_id)
        self._awaiting.put(admin, awaiting)

    def _pending(self, admin: str) -> Awaiting | None:
        waiting = self._awaiting.get(admin)
        return waiting if waiting is not None and waiting.until > self.clock() else None

    def _finish(self, admin: str, post_id: str, done: str) -> None:
        """What the group will see, then the next steps."""
        post = self.desk.get(post_id)
        self.replies.tell(admin, f"{done}“{post.title}”（{post.id}），{self.desk.status(post)}。"
                                 "以下是群里将看到的内容：")
        self.desk.preview(post.id, admin)
        self.replies.tell(admin, f"下一步：#定时 {post.id} 明天 9:00，或 #发布 {post.id}（立即发到群里）；"
                                 f"要改正文请发 #编辑 {post.id}。")
