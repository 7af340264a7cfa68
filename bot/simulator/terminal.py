"""A chat window in the terminal: watch the group, and talk as any member (for newcomers).

`run_terminal(sim, stdin, stdout)` prints every chat line as it happens and turns typed lines
into messages from the current speaker; after /多行, the lines up to a lone `.` are one message.
stdin is read by a daemon thread, so the event loop never blocks and a pending read never keeps
the process alive; EOF (Ctrl-D) ends the session, and so does cancelling it (Ctrl-C).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from typing import IO, Any

from bot.simulator.lines import TranscriptLine
from bot.simulator.server import Simulator
from bot.simulator.world import MENTION_SEP, TEXT, Contact, Room, World

HELP = """\
命令 (英文别名):
  直接输入文字        以当前成员身份在群里发言
  /成员 (/members)     列出成员和编号
  /切换 3 (/as 朱会长)  换一个成员发言 (编号、名字或 wxid)
  /@ 文本 (/at)        @商会小助手 说话 (也可以直接以 @商会小助手 开头)
  /多行 (/paste)       发一条多行消息: 接着输入或粘贴各行, 单独一行 . 或 /发送 发出, /取消 放弃
  /私聊 (/dm)          当前成员私聊机器人
  /群 [茶话会] (/room)  回到群里，或换一个群
  /扫码 (/scan)        确认扫码登录 (--require-scan 时)；/登出 (/logout) 让机器人掉线
  /帮助 (/help)        显示本帮助
  /退出 (/quit)        退出 (Ctrl-D、Ctrl-C 也可以)"""

PASTE_END = (".", "/发送", "/send")
PASTE_CANCEL = ("/取消", "/cancel")

_TYPE_LABELS = {5: "[表情]", 6: "[图片]", 11: "[转账]", 12: "[红包]", 13: "[撤回]", 14: "[链接]"}


def format_line(line: TranscriptLine, world: World) -> str:
    """One transcript line as shown to the user, e.g. `[会长群] 朱会长: 你好`."""
    message = line.message
    text = message.text
    missing = [n for n in line.mention_names if f"@{n}" not in text]
    if missing:  # WeChat shows mentions inside the text; add any the text lacks
        text = " ".join(f"@{n}" for n in missing) + " " + text
    text = text.replace(MENTION_SEP, " ")
    if message.type != TEXT:
        text = f"{_TYPE_LABELS.get(message.type, f'[类型{message.type}]')} {text}".rstrip()
    if line.room_topic is None:
        where = f"[私聊 {world.name_of(line.private_with or '')}]"
    else:
        room = world.rooms.get(message.room_id)
        where = f"[{room.short_name if room and room.short_name else line.room_topic}]"
    if line.from_bot:
        return f"{where} 【机器人】{line.talker_name}: {text}"
    return f"{where} {line.talker_name}: {text}"


class _Session:
    def __init__(self, sim: Simulator, out: IO[str]) -> None:
        self.sim = sim
        self.out = out
        self.tty = out.isatty()
        world = sim.world
        self.people = [c for c in world.contacts.values() if c.id != world.bot_id]
        self.room: Room | None = next(iter(world.rooms.values()), None)
        self.last_room = self.room
        self.speaker: Contact = self._members()[0]
        self.prompt_pending = False
        self.reading = False
        self.pasted: list[str] | None = None  # the lines so far, in paste mode

    # ----- output --------------------------------------------------------------------------

    def write(self, text: str) -> None:
        if self.prompt_pending:
            # Put the chat line above the prompt, then show the prompt again.
            self.out.write("\r\x1b[K" if self.tty else "\n")
            self.prompt_pending = False
        self.out.write(text + "\n")
        self.out.flush()

    def prompt(self) -> None:
        if self.pasted is not None:
            return  # pasted lines arrive echoed all at once: prompts would land between them
        if self.prompt_pending:
            self.out.write("\n")
        where = (self.room.short_name or self.room.topic) if self.room else "私聊商会小助手"
        self.out.write(f"{self.speaker.name}@{where}> ")
        self.out.flush()
        self.prompt_pending = True

    def show(self, line: TranscriptLine) -> None:
        self.write(format_line(line, self.sim.world))
        if self.reading:  # the line arrived while the user was typing: prompt again
            self.prompt()

    # ----- commands ------------------------------------------------------------------------

    def _members(self) -> list[Contact]:
        if self.room is None:
            return self.people
        return [c for c in self.people if c.id in self.room.member_ids] or self.people

    def find_person(self, key: str) -> Contact | None:
        if key.isdecimal() and 1 <= int(key) <= len(self.people):
            return self.people[int(key) - 1]
        for contact in self.people:
            if key in (contact.id, contact.name):
                return contact
        return None

    def list_members(self) -> None:
        world = self.sim.world
        lines = []
        for number, contact in enumerate(self.people, 1):
            rooms = "、".join(
                r.short_name or r.topic for r in world.rooms.values() if contact.id in r.member_ids
            )
            mark = " ←当前" if contact is self.speaker else ""
            role = f"（{contact.role}）" if contact.role else ""
            lines.append(f"  {number}. {contact.name}{role} {contact.id}  群: {rooms}{mark}")
        self.write("\n".join(lines))

    def switch_speaker(self, key: str) -> None:
        contact = self.find_person(key.strip())
        if contact is None:
            self.write(f"找不到成员 {key}，用 /成员 查看编号")
        elif self.room is not None and contact.id not in self.room.member_ids:
            self.write(f"{contact.name} 不在 {self.room.topic} 里")
        else:
            self.speaker = contact
            self.write(f"现在以 {contact.name} 身份发言")

    def switch_room(self, key: str) -> None:
        world = self.sim.world
        room = world.find_room(key.strip()) if key.strip() else self.last_room
        if room is None:
            names = "、".join(r.short_name or r.topic for r in world.rooms.values())
            self.write(f"找不到群 {key}，可选: {names}")
            return
        self.room = self.last_room = room
        if self.speaker.id not in room.member_ids:
            self.speaker = self._members()[0]
        self.write(f"现在在群 {room.topic}，{self.speaker.name} 发言")

    async def say(self, text: str, mention_bot: bool = False) -> None:
        bot = self.sim.world.bot
        mention_ids: list[str] = []
        if self.room is not None and (mention_bot or text.startswith(f"@{bot.name}")):
            body = text.removeprefix(f"@{bot.name}").strip()
            text = f"@{bot.name}{MENTION_SEP}{body}"
            mention_ids = [bot.id]
        if not self.sim.connected:
            self.write("（机器人未连接，这条消息没有人收到）")
        try:
            await self.sim.say(
                self.speaker.id,
                text,
                room_id=self.room.id if self.room else None,
                mention_ids=mention_ids,
            )
        except (ValueError, RuntimeError) as error:
            self.write(f"发送失败: {error}")

    async def paste(self, raw: str) -> None:
        """One line in paste mode: kept as it is, until the line that sends or cancels."""
        assert self.pasted is not None
        line = raw.rstrip("\r\n")
        if line.strip() not in (*PASTE_END, *PASTE_CANCEL):
            self.pasted.append(line)
            return
        text, self.pasted = "\n".join(self.pasted).strip("\n"), None
        if line.strip() in PASTE_CANCEL:
            self.write("已放弃这条多行消息")
        elif not text.strip():
            self.write("多行消息是空的，没有发送")
        else:
            await self.say(text)

    async def handle(self, raw: str) -> bool:
        """Act on one typed line; False means quit."""
        if self.pasted is not None:
            await self.paste(raw)
            return True
        line = raw.strip()
        if not line:
            return True
        if not line.startswith("/"):
            await self.say(line)
            return True
        command, _, arg = line[1:].partition(" ")
        if command in ("退出", "quit", "exit", "q"):
            return False
        if command in ("帮助", "help", "?", "h"):
            self.write(HELP)
        elif command in ("成员", "members", "who"):
            self.list_members()
        elif command in ("切换", "as", "switch"):
            self.switch_speaker(arg)
        elif command in ("私聊", "dm", "private"):
            self.room = None
            if arg.strip():
                self.switch_speaker(arg)
            self.write(f"{self.speaker.name} 私聊商会小助手（/群 回到群里）")
        elif command in ("群", "room", "group"):
            self.switch_room(arg)
        elif command in ("@", "at"):
            await self.say(arg, mention_bot=True)
        elif command in ("多行", "paste"):
            self.pasted = [arg] if arg.strip() else []
            self.write("多行消息：输入或粘贴各行，单独一行 . 或 /发送 发出，/取消 放弃")
        elif command in ("扫码", "scan"):
            self.sim.confirm_scan()
            self.write("已确认扫码，机器人登录")
        elif command in ("登出", "logout"):
            await self.sim.logout()
            self.write("机器人已登出，/扫码 重新登录")
        else:
            self.write(f"不认识的命令 /{command}，输入 /帮助 查看命令")
        return True


def _start_reader(stdin: IO[Any], lines: asyncio.Queue[str | None]) -> None:
    loop = asyncio.get_running_loop()

    def read() -> None:
        try:
            while raw := stdin.readline():  # str or bytes; empty at EOF
                text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
                loop.call_soon_threadsafe(lines.put_nowait, text)
        except (OSError, ValueError):  # closed under us
            pass
        finally:
            with contextlib.suppress(RuntimeError):  # the loop may be closed already
                loop.call_soon_threadsafe(lines.put_nowait, None)

    threading.Thread(target=read, name="simulator-stdin", daemon=True).start()


async def run_terminal(
    sim: Simulator, stdin: IO[Any] | None = None, stdout: IO[str] | None = None
) -> None:
    """Show the transcript and let the user talk as a member until /退出 or EOF."""
    session = _Session(sim, stdout if stdout is not None else sys.stdout)
    unsubscribe = sim.on_transcript(session.show)
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    _start_reader(stdin if stdin is not None else sys.stdin, lines)
    session.write(f"模拟微信群 {sim.endpoint}，机器人: {sim.world.bot.name}\n{HELP}")
    try:
        while True:
            session.prompt()
            session.reading = True
            raw = await lines.get()
            session.reading = False
            if session.tty:  # the user's Enter ended the prompt line; a pipe echoes nothing
                session.prompt_pending = False
            if raw is None or not await session.handle(raw):
                break
    finally:
        unsubscribe()
        session.out.write("\n再见\n")
        session.out.flush()
