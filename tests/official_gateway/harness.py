"""Run the official Wechaty gateway (server.mjs: PuppetServer + a mock WeChat) for tests.

    gw = OfficialGateway(token="insecure_test")
    await gw.start()                      # npm ci if needed, node server.mjs, wait for ready
    connect python-wechaty to gw.endpoint with the same token
    await gw.say("wxid_vp_001", "电话多少？", room="presidents@chatroom",
                 mentions=["wxid_chamber_bot"])
    sent = await gw.wait_bot_sent(lambda e: e["conversation"] == "presidents@chatroom")
    await gw.stop()

Everything the gateway prints is an event (a dict, see server.mjs). Replies to commands are
matched by a request number; everything else (bot_sent, announcement_set, topic_set, unsolicited
errors) goes to an inbox that wait_event()/wait_bot_sent() consume in arrival order, and to
`history`. Waiting never polls: the stdout reader task notifies a condition.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
Event = dict[str, Any]
Predicate = Callable[[Event], bool]


class GatewayError(RuntimeError):
    """The gateway refused a command, failed to start, or died."""


def install_node_modules() -> None:
    """npm ci into HERE/node_modules unless already installed from the current lock file."""
    result = subprocess.run(
        ["bash", str(HERE / "install.sh")], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise GatewayError(f"install.sh failed ({result.returncode}):\n{result.stderr[-4000:]}")


def free_port() -> int:
    """A port free right now on 127.0.0.1 (the gateway binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class OfficialGateway:
    """One `node server.mjs` process; restartable on the same port with the same token."""

    def __init__(self, token: str, *, port: int | None = None, ready_timeout: float = 60.0,
                 env: dict[str, str] | None = None, record: bool = True) -> None:
        """env: more environment for server.mjs (e.g. BENCH_GROUPS). record=False keeps no
        history or inbox of unsolicited events (a benchmark's 100,000): `listeners` see them."""
        self.token = token
        self.extra_env = env or {}
        self.record = record
        self.listeners: list[Callable[[Event], None]] = []  # every unsolicited event, at once
        self.port = port or 0  # chosen in start() if not given
        self.ready_timeout = ready_timeout
        self.history: list[Event] = []  # every event, in order, across restarts
        self.stderr_tail: deque[str] = deque(maxlen=200)  # gateway logs, for error messages
        self._inbox: list[Event] = []  # unsolicited events not yet taken by a wait
        self._changed = asyncio.Condition()
        self._replies: dict[int, asyncio.Future[Event]] = {}
        self._req = itertools.count(1)
        self._proc: asyncio.subprocess.Process | None = None
        self._ready: asyncio.Future[Event] | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    # ---------------------------------------------------------------- process lifecycle

    async def start(self) -> None:
        if shutil.which("node") is None:
            raise GatewayError("node not found on PATH (the official gateway needs Node.js >= 18)")
        await asyncio.to_thread(install_node_modules)
        if not self.port:
            self.port = free_port()
        await self._spawn()

    async def _spawn(self) -> None:
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        env = {
            **os.environ,
            "PORT": str(self.port),
            "TOKEN": self.token,
            # Own variable: python-wechaty reads WECHATY_LOG too, with inverted level names.
            "WECHATY_LOG": os.environ.get("GATEWAY_LOG", "warn"),
            **self.extra_env,
        }
        self._proc = await asyncio.create_subprocess_exec(
            "node",
            "server.mjs",
            cwd=HERE,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=16 * 1024 * 1024,  # one event per line; long texts make long lines
        )
        self._tasks = [
            asyncio.create_task(self._read_events(self._proc)),
            asyncio.create_task(self._read_logs(self._proc)),
        ]
        try:
            await asyncio.wait_for(asyncio.shield(self._ready), self.ready_timeout)
        except TimeoutError:
            self.kill()
            raise GatewayError(
                f"gateway not ready within {self.ready_timeout}s:\n{self._logs()}"
            ) from None

    async def _read_events(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        async for raw in proc.stdout:
            line = raw.decode().strip()
            if not line:
                continue
            try:
                event: Event = json.loads(line)
            except json.JSONDecodeError:
                event = {"event": "stdout", "text": line}  # server.mjs should never do this
            await self._dispatch(event)
        # EOF: the process ended (stop, kill or crash). Fail whoever still waits on it.
        code = await proc.wait()
        failure = GatewayError(f"gateway exited with {code}:\n{self._logs()}")
        if self._ready and not self._ready.done():
            self._ready.set_exception(failure)
        for future in self._replies.values():
            if not future.done():
                future.set_exception(failure)
        self._replies.clear()

    async def _dispatch(self, event: Event) -> None:
        if self.record:
            self.history.append(event)
        req = event.get("req")
        if isinstance(req, int) and req in self._replies:
            future = self._replies.pop(req)
            if event.get("event") == "error":
                future.set_exception(GatewayError(event.get("message", "error")))
            else:
                future.set_result(event)
            return
        if event.get("event") == "ready" and self._ready and not self._ready.done():
            self._ready.set_result(event)
        elif event.get("fatal") and self._ready and not self._ready.done():
            self._ready.set_exception(GatewayError(event.get("message", "fatal error")))
        for listener in self.listeners:
            listener(event)
        if not self.record:
            return
        async with self._changed:
            self._inbox.append(event)
            self._changed.notify_all()

    async def _read_logs(self, proc: asyncio.subprocess.Process) -> None:
        # Drained continuously: a full stderr pipe would block node.
        assert proc.stderr is not None
        async for raw in proc.stderr:
            self.stderr_tail.append(raw.decode(errors="replace").rstrip())

    def _logs(self) -> str:
        return "\n".join(list(self.stderr_tail)[-30:])

    def kill(self) -> None:
        """SIGKILL, like a crashed or OOM-killed gateway. restart() brings it back."""
        self._signal(signal.SIGKILL)

    def hang(self) -> None:
        """SIGSTOP: the TCP connection stays open but nothing answers."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def _signal(self, sig: signal.Signals) -> None:
        if self._proc and self._proc.returncode is None:
            # It may have exited already, with asyncio not yet told (returncode still None).
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._proc.pid, sig)

    async def _wait_exit(self) -> None:
        if self._proc:
            await self._proc.wait()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def restart(self) -> None:
        """A fresh gateway on the same port and token; the world is rebuilt identically."""
        self.kill()
        await self._wait_exit()
        await self._spawn()

    async def stop(self, timeout: float = 5.0) -> None:
        """Ask the gateway to exit (closing stdin ends it), SIGKILL if it does not in time."""
        if self._proc is None:
            return
        if self._proc.returncode is None:
            self.resume()  # a hung process cannot exit
            if self._proc.stdin:
                self._proc.stdin.close()
            try:
                await asyncio.wait_for(self._proc.wait(), timeout)
            except TimeoutError:
                self.kill()
        await self._wait_exit()
        self._proc = None

    async def __aenter__(self) -> OfficialGateway:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---------------------------------------------------------------- commands

    async def command(self, cmd: str, timeout: float = 10.0, **fields: Any) -> Event:
        """Send one command (see server.mjs) and return its reply; GatewayError on refusal."""
        proc = self._proc
        if proc is None or proc.returncode is not None or proc.stdin is None:
            raise GatewayError("gateway is not running")
        req = next(self._req)
        future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._replies[req] = future
        line = json.dumps({"cmd": cmd, "req": req, **fields}, ensure_ascii=False) + "\n"
        proc.stdin.write(line.encode())
        try:
            await proc.stdin.drain()
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise TimeoutError(f"no reply to {cmd} within {timeout}s") from None
        finally:
            self._replies.pop(req, None)

    async def say(
        self,
        talker: str,
        text: str,
        room: str | None = None,
        mentions: Iterable[str] = (),
        *,
        message_type: str | None = None,
        quote: tuple[str, str] | None = None,
    ) -> str:
        """A member speaks (in `room`, else privately to the bot); returns the message id.

        message_type: a wechaty-puppet MessageType name ("RedEnvelope", "Emoticon", "Image", ...).
        quote: (talker id, quoted text) for a quoted reply, rendered into the text.
        """
        fields: dict[str, Any] = {"talker": talker, "text": text, "mentions": list(mentions)}
        if room is not None:
            fields["room"] = room
        if message_type is not None:
            fields["type"] = message_type
        if quote is not None:
            fields["quote"] = {"talker": quote[0], "text": quote[1]}
        reply = await self.command("say", **fields)
        message_id: str = reply["id"]
        return message_id

    async def announcement(self, room: str) -> str:
        """The room's current announcement (群公告) as the gateway holds it."""
        text: str = (await self.command("announcement", room=room))["text"]
        return text

    async def set_announcement(self, room: str, text: str) -> None:
        """Set it as a human owner would in the app (no bot involved)."""
        await self.command("announcement", room=room, text=text)

    async def topic(self, room: str) -> str:
        text: str = (await self.command("topic", room=room))["text"]
        return text

    async def emit(self, name: str, payload: dict[str, Any] | None = None) -> None:
        """Emit a raw puppet event (dirty, post, error, heartbeat, ...) to the client."""
        await self.command("event", name=name, payload=payload or {})

    async def logout(self) -> None:
        await self.command("logout")

    async def login(self) -> None:
        await self.command("login")

    # ---------------------------------------------------------------- waiting for events

    async def wait_event(
        self, kind: str, predicate: Predicate | None = None, timeout: float = 10.0
    ) -> Event:
        """Take the first not-yet-taken event of this kind matching predicate, waiting for it."""
        taken: list[Event] = []

        def take() -> bool:
            for i, event in enumerate(self._inbox):
                if event.get("event") == kind and (predicate is None or predicate(event)):
                    taken.append(self._inbox.pop(i))
                    return True
            return False

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(take), timeout)
            except TimeoutError:
                seen = [e for e in self._inbox if e.get("event") == kind]
                raise TimeoutError(
                    f"no matching {kind} event within {timeout}s; untaken {kind} events: {seen}"
                ) from None
        return taken[0]

    async def wait_bot_sent(
        self, predicate: Predicate | None = None, timeout: float = 10.0
    ) -> Event:
        """The next thing the bot sent: {"conversation", "text", "mentions", "type", "id"}."""
        return await self.wait_event("bot_sent", predicate, timeout)

    def bot_sent(self) -> list[Event]:
        """Everything the bot has sent so far (taken by a wait or not)."""
        return [e for e in self.history if e.get("event") == "bot_sent"]
