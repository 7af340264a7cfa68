"""Chat commands: `#名称 参数` (full-width ＃ too), parsed in one place from one table.

The table (handlers/commands.py) gives each command its Chinese name, English aliases, the
role it needs, where it may be used, a usage line and an example; the same table drives
#帮助. A command from someone without the role is refused with one sentence, logged, and
changes nothing. A mistake gets a Chinese sentence with an example (`CommandError`).
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.core.messages import Incoming
from bot.core.router import Context, Place, Role, role_of

log = logging.getLogger("bot.core.commands")

PREFIXES = ("#", "＃")
ROLE_NAMES = {Role.MEMBER: "所有人", Role.SECRETARY: "秘书处", Role.ADMIN: "管理员"}


class CommandError(Exception):
    """A sentence for the person who typed the command (what was wrong, and an example)."""


@dataclass(frozen=True)
class Call:
    command: Command
    args: list[str]  # the words after the name on the first line
    rest: str  # the lines after the first, for multi-line commands
    message: Incoming
    role: Role

    def arg(self, index: int, what: str) -> str:
        if len(self.args) <= index:
            raise CommandError(f"缺少{what}。用法：{self.command.usage}，例如：{self.command.example}")
        return self.args[index]


CommandHandler = Callable[[Call, Context], Awaitable[None]]


@dataclass(frozen=True)
class Command:
    name: str
    aliases: tuple[str, ...]
    role: Role
    usage: str
    summary: str
    example: str
    run: CommandHandler
    place: Place = Place.ANYWHERE

    def __repr__(self) -> str:
        return f"<Command #{self.name} for {self.role.name}>"


@dataclass(frozen=True)
class Parsed:
    word: str
    args: list[str]
    rest: str


def parse(text: str) -> Parsed | None:
    """Split '#发布 award 再次\\n...' into its word, arguments and following lines."""
    stripped = text.strip()
    if not stripped.startswith(PREFIXES):
        return None
    first, _, rest = stripped[1:].partition("\n")
    words = first.replace("\u3000", " ").split()
    if not words:
        return None
    return Parsed(words[0].lower(), words[1:], rest.strip("\n"))


class CommandBook:
    def __init__(self, commands: Sequence[Command]) -> None:
        self.commands = list(commands)
        self._by_word = {word.lower(): c for c in commands for word in (c.name, *c.aliases)}

    def match(self, message: Incoming) -> Parsed | None:
        """The router's matcher: any message that starts with # is the commands' business."""
        return parse(message.text)

    def usable_by(self, role: Role, place: Place) -> list[Command]:
        return [c for c in self.commands if role >= c.role and c.place & place]

    async def run(self, message: Incoming, ctx: Context, parsed: Parsed) -> None:
        """The router's handler: find the command, check the role and place, run it."""
        role = role_of(message.talker_id, ctx.roles)
        command = self._by_word.get(parsed.word)
        if command is None:
            close = difflib.get_close_matches(parsed.word, list(self._by_word), n=3, cutoff=0.5)
            hint = f"您是不是要：{'、'.join('#' + w for w in close)}？" if close else ""
            ctx.tell(message.talker_id, f"没有“#{parsed.word}”这个命令。{hint}发送 #帮助 查看可用的命令。")
            return
        if role < command.role:
            log.warning("refused #%s from %s (role %s, needs %s)", command.name,
                        message.talker_id, role.name, command.role.name)
            ctx.tell(message.talker_id,
                     f"抱歉，#{command.name} 仅限{ROLE_NAMES[command.role]}使用。")
            return
        place = Place.GROUP if message.in_group else Place.PRIVATE
        if not command.place & place:
            where = "私聊机器人" if command.place is Place.PRIVATE else "群里"
            ctx.tell(message.talker_id, f"#{command.name} 请在{where}时使用，例如：{command.example}")
            return
        call = Call(command, parsed.args, parsed.rest, message, role)
        try:
            await command.run(call, ctx)
        except CommandError as error:
            ctx.tell(message.talker_id, str(error))
        except Exception:
            log.exception("command #%s from %s failed", command.name, message.talker_id)
            ctx.tell(message.talker_id, f"抱歉，#{command.name} 执行时出错，已记录，请稍后再试或联系管理员。")


def closest(word: str, choices: Sequence[str]) -> str:
    """'您是不是要：a、b？' for an unknown id, or ''."""
    close = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.4)
    return f"您是不是要：{'、'.join(close)}？" if close else ""
