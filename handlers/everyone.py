"""Commands anyone may use (#帮助 itself is the command book's own)."""

from __future__ import annotations

from bot.core.commands import Call, command
from bot.core.router import Role


class EveryoneCommands:
    @command("我的ID", "myid", "我的id", role=Role.MEMBER, summary="私聊告诉您的微信ID")
    async def my_id(self, call: Call) -> None:
        text = f"您的微信ID：{call.talker_id}"
        if call.message.room_id:
            text += f"\n本群ID：{call.message.room_id}"
        call.answer(text + "\n（管理员可把它填入 config.toml 的 roles 或 groups）")
