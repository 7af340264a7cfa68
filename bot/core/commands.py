"""Chat commands: `#名称 参数` (full-width ＃ too), each a method marked with `@command`.

The mark beside each method gives the command's Chinese name, English aliases, the role it
needs, where it may be used, a usage line, a one-line summary and an example; the `CommandBook`
collects the marked methods of the handler objects it is given, checks roles and places in one
place, and answers #帮助 from the same rows. A command from someone without the role is refused
with one sentence, logged, and changes nothing. A mistake gets a Chinese sentence with an
example (`UserError`); anything else is reported as unexpected and the person told so.
"""

from __future__ import annotations

import difflib
import logging
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from bot.core.config import RoleSettings
from bot.core.errors import ReportUnexpected, UserError
from bot.core.messages import Incoming
from bot.core.replies import Replies
from bot.core.router import Place, Role, role_of

log = logging.getLogger(__name__)

PREFIXES = ("#", "＃")
ECHOED = 12  # characters of an unknown command word said back: enough to recognise, no more
ROLE_NAMES = {Role.MEMBER: "所有人", Role.SECRETARY: "秘书处", Role.ADMIN: "管理员"}
SPEC_ATTRIBUTE = "command_spec"


@dataclass(frozen=True)
class CommandSpec:
    """One row of the command table, written beside its method by `@command`."""

    name: str
    aliases: tuple[str, ...]
    role: Role
    usage: str
    summary: str
    example: str
    place: Place = Place.ANYWHERE

    def __repr__(self) -> str:
        return f"<Command #{self.name} for {self.role.name}>"


F = TypeVar("F", bound=Callable[..., Awaitable[None]])


def command(name: str, *aliases: str, role: Role, summary: str, usage: str = "",
            example: str = "", place: Place = Place.ANYWHERE) -> Callable[[F], F]:
    """Mark a handler method `async def x(self, call: Call)` as the command `#name`."""
    spec = CommandSpec(name, aliases, role, usage or f"#{name}", summary, example or f"#{name}",
                       place)

    def mark(method: F) -> F:
        setattr(method, SPEC_ATTRIBUTE, spec)
        return method

    return mark


def specs_of(*handler_classes: type) -> list[CommandSpec]:
    """The rows of the classes' marked methods, in the order #帮助 lists them."""
    found = [getattr(member, SPEC_ATTRIBUTE) for cls in handler_classes
             for member in vars(cls).values() if hasattr(member, SPEC_ATTRIBUTE)]
    return sorted(found, key=lambda spec: spec.role)  # stable: by role, then as written


@dataclass(frozen=True)
class Call:
    spec: CommandSpec
    args: list[str]  # the words after the name on the first line
    rest: str  # the lines after the first, for multi-line commands
    message: Incoming
    role: Role
    replies: Replies

    @property
    def talker_id(self) -> str:
        return self.message.talker_id

    def arg(self, index: int, what: str) -> str:
        if len(self.args) <= index:
            raise UserError(f"缺少{what}。用法：{self.spec.usage}，例如：{self.spec.example}")
        return self.args[index]

    def answer(self, text: str) -> None:
        """Answer the person who sent the command, privately."""
        self.replies.tell(self.message.talker_id, text)


@dataclass(frozen=True)
class Command:
    spec: CommandSpec
    run: Callable[[Call], Awaitable[None]]


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
    # Zero-width and other invisible characters (pasted, or typed to trick) are not part of a word.
    first = "".join(char for char in first if unicodedata.category(char) != "Cf")
    words = first.replace("\u3000", " ").split()
    if not words:
        return None
    return Parsed(words[0].lower(), words[1:], rest.strip("\n"))


class CommandBook:
    """The commands of the given handler objects, plus #帮助, which lists them."""

    def __init__(self, handlers: Sequence[object], roles: RoleSettings, replies: Replies,
                 report_unexpected: ReportUnexpected) -> None:
        self.roles = roles
        self.replies = replies
        self.report_unexpected = report_unexpected
        help_row = getattr(CommandBook.show_help, SPEC_ATTRIBUTE)
        bound = [Command(help_row, self.show_help)] + [
            Command(spec, getattr(handler, method))
            for handler in handlers for method, member in vars(type(handler)).items()
            if isinstance(spec := getattr(member, SPEC_ATTRIBUTE, None), CommandSpec)
        ]
        self.commands = sorted(bound, key=lambda c: c.spec.role)
        self._by_word = {word.lower(): c for c in self.commands
                         for word in (c.spec.name, *c.spec.aliases)}

    def match(self, message: Incoming) -> Parsed | None:
        """The router's matcher: any message that starts with # is the commands' business."""
        return parse(message.text)

    def usable_by(self, role: Role, place: Place) -> list[CommandSpec]:
        return [c.spec for c in self.commands if role >= c.spec.role and c.spec.place & place]

    async def run(self, message: Incoming, parsed: Parsed) -> None:
        """The router's handler: find the command, check the role and place, run it."""
        role = role_of(message.talker_id, self.roles)
        tell = self.replies.tell
        found = self._by_word.get(parsed.word)
        if found is None:
            # Suggest only what this person may use: a hint must not reveal the others.
            usable = {word.lower() for spec in self.usable_by(role, Place.ANYWHERE)
                      for word in (spec.name, *spec.aliases)}
            close = difflib.get_close_matches(parsed.word[:ECHOED * 2], sorted(usable), n=3,
                                              cutoff=0.5)
            hint = f"您是不是要：{'、'.join('#' + w for w in close)}？" if close else ""
            word = parsed.word if len(parsed.word) <= ECHOED else parsed.word[:ECHOED] + "…"
            tell(message.talker_id, f"没有“#{word}”这个命令。{hint}发送 #帮助 查看可用的命令。")
            return
        spec = found.spec
        if role < spec.role:
            log.warning("refused #%s from %s (role %s, needs %s)", spec.name,
                        message.talker_id, role.name, spec.role.name)
            tell(message.talker_id, f"抱歉，#{spec.name} 仅限{ROLE_NAMES[spec.role]}使用。")
            return
        if not spec.place & Place.of(message):
            where = "私聊机器人" if spec.place is Place.PRIVATE else "群里"
            tell(message.talker_id, f"#{spec.name} 请在{where}时使用，例如：{spec.example}")
            return
        try:
            await found.run(Call(spec, parsed.args, parsed.rest, message, role, self.replies))
        except UserError as error:
            tell(message.talker_id, str(error))
        except Exception as error:
            self.report_unexpected(f"command #{spec.name} from {message.talker_id}", error)
            tell(message.talker_id, f"抱歉，#{spec.name} 执行时出错，已记录，请稍后再试或联系管理员。")

    @command("帮助", "help", role=Role.MEMBER, summary="查看可用的命令")
    async def show_help(self, call: Call) -> None:
        place = Place.of(call.message)
        lines = ["可用的命令："]
        for spec in self.usable_by(call.role, Place.ANYWHERE):
            where = "（私聊）" if spec.place is Place.PRIVATE and place is Place.GROUP else ""
            lines.append(f"{spec.usage}  {spec.summary}{where}")
        lines.append("例如：" + "、".join(s.example for s in self.usable_by(call.role, place)[:3]))
        call.answer("\n".join(lines))


def closest(word: str, choices: Sequence[str]) -> str:
    """'您是不是要：a、b？' for an unknown id, or ''."""
    close = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.4)
    return f"您是不是要：{'、'.join(close)}？" if close else ""


def help_row() -> CommandSpec:
    """#帮助's own row, for tables that list every command."""
    spec: CommandSpec = getattr(CommandBook.show_help, SPEC_ATTRIBUTE)
    return spec

