"""#后台: a one-time sign-in link to the web console (bot/web), sent privately."""

from __future__ import annotations

from typing import Protocol

from bot.core.commands import Call, command
from bot.core.router import Place, Role


class SignInLinks(Protocol):
    """The console, as this command sees it (bot/web/context.py: Web)."""

    public_url: str  # empty until the console listens

    def login_url(self, user_id: str) -> str: ...


class ConsoleCommand:
    def __init__(self, console: SignInLinks | None) -> None:
        self.console = console  # None: [web] enabled = false

    @command("后台", "web", "console", role=Role.SECRETARY, place=Place.PRIVATE,
             summary="网页后台的一次性登录链接（10 分钟内有效）")
    async def sign_in_link(self, call: Call) -> None:
        if self.console is None:
            call.answer("网页后台没有开启（config.toml 的 [web] enabled = false）。"
                        "需要时请管理员改为 true 后重启机器人。")
            return
        if not self.console.public_url:
            call.answer("网页后台现在没有运行（端口可能被占用，管理员已收到提醒）。"
                        "请稍后再试，或先用微信命令，发送 #帮助 查看。")
            return
        call.answer(f"网页后台登录链接（10 分钟内有效，只能用一次，请勿转发）：\n"
                    f"{self.console.login_url(call.talker_id)}\n"
                    "打开后点“进入后台”，12 小时内无需再登录。")
