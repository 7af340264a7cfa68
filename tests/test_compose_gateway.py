"""docker-compose.yml's gateway, run the way the compose file runs it, and the bot connected to it.

No Docker engine runs here, so the container is laid out on disk as the wechaty/wechaty:1.20
image has it: the program in /bot (the image's working directory) and the wechaty packages in
/node_modules (npm wechaty 1.20.2 and its puppets, from tests/official_gateway's lock), with the
compose file's entrypoint, volumes and environment (.env: a token and WECHATY_PUPPET=
wechaty-puppet-mock). compose_world.mjs gives the stock mock puppet a logged-in account and a
group. The port is a free one rather than 8788, which another test run may hold;
tests/test_deploy_files.py checks the compose file's port and the bot's endpoint agree.

The image's own default command (wechaty's io-client, which the entrypoint runs when
WECHATY_TOKEN is set) is run too: it needs api.chatie.io before it serves anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.messages import State
from tests.conftest import PRESIDENTS, settings_for
from tests.official_gateway.harness import free_port, install_node_modules

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
NODE_MODULES = ROOT / "tests" / "official_gateway" / "node_modules"
WORLD = ROOT / "tests" / "official_gateway" / "compose_world.mjs"
DOTENV = {"WECHATY_PUPPET_SERVICE_TOKEN": "insecure_compose-test-token",
          "WECHATY_PUPPET": "wechaty-puppet-mock"}
VARIABLE = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")


def service(name: str) -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"][name]
    return found


def interpolate(value: str) -> str:
    """${VAR}, ${VAR:-default} and ${VAR:?error} as compose reads them, from DOTENV."""
    def one(match: re.Match[str]) -> str:
        name, kind, rest = match.groups()
        if DOTENV.get(name):
            return DOTENV[name]
        if kind == "?":
            raise AssertionError(f"compose would refuse to start: {rest}")
        return rest if kind == "-" else ""
    return VARIABLE.sub(one, value)


def environment(name: str) -> dict[str, str]:
    return {key: interpolate(str(value)) for key, value in service(name)["environment"].items()}


def container(tmp: Path) -> Path:
    """The gateway container's files under `tmp`: its volumes, and the image's /node_modules."""
    (tmp / "bot").mkdir()
    (tmp / "node_modules").symlink_to(NODE_MODULES)
    for volume in service("gateway").get("volumes", []):
        source, target, *_ = volume.split(":")
        inside = tmp / target.lstrip("/")
        inside.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / source, inside)
    return tmp


class NodeProcess:
    """A node process whose stdout lines are kept, to wait on (no polling)."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.argv, self.cwd, self.env = argv, cwd, env
        self.lines: list[str] = []
        self._changed = asyncio.Condition()
        self.process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *self.argv, cwd=self.cwd, env=self.env, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process and self.process.stdout
        async for raw in self.process.stdout:
            async with self._changed:
                self.lines.append(raw.decode(errors="replace").rstrip())
                self._changed.notify_all()

    async def wait_line(self, wanted: Callable[[str], bool], timeout: float) -> str:
        found: list[str] = []

        def seen() -> bool:
            found.extend(line for line in self.lines if wanted(line))
            return bool(found)

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(seen), timeout)
            except TimeoutError:
                raise TimeoutError("\n".join(self.lines[-40:])) from None
        return found[0]

    async def world_event(self, wanted: Callable[[dict[str, Any]], bool], timeout: float
                          ) -> dict[str, Any]:
        def is_wanted(line: str) -> bool:
            return line.startswith("WORLD ") and wanted(json.loads(line[len("WORLD "):]))
        event: dict[str, Any] = json.loads((await self.wait_line(is_wanted, timeout))[6:])
        return event

    async def say(self, talker: str, room: str, text: str) -> None:
        assert self.process and self.process.stdin
        line = json.dumps({"talker": talker, "room": room, "text": text}, ensure_ascii=False)
        self.process.stdin.write(line.encode() + b"\n")
        await self.process.stdin.drain()

    async def exited(self, timeout: float) -> int:
        assert self.process and self._reader
        code = await asyncio.wait_for(self.process.wait(), timeout)
        await self._reader
        return code

    async def stop(self) -> None:
        if self.process and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self._reader:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader


def gateway_env(port: int, **extra: str) -> dict[str, str]:
    """The compose file's gateway environment; of this machine's, only what runs node."""
    return {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"),
            **environment("gateway"), "WECHATY_PUPPET_SERVER_PORT": str(port), **extra}


@pytest.fixture
async def node_modules() -> None:
    await asyncio.to_thread(install_node_modules)


@pytest.fixture
async def compose_gateway(node_modules: None, tmp_path: Path) -> AsyncIterator[
        tuple[NodeProcess, int]]:
    root = container(tmp_path)
    entrypoint = service("gateway")["entrypoint"]
    assert entrypoint[0] == "node", entrypoint
    program = [str(root / arg.lstrip("/")) if arg.startswith("/") else arg
               for arg in entrypoint[1:]]
    port = free_port()
    gateway = NodeProcess(["node", "--import", WORLD.as_uri(), *program], root / "bot",
                          gateway_env(port, WECHATY_LOG="info"))
    await gateway.start()
    yield gateway, port
    await gateway.stop()


def test_compose_file_sets_what_the_check_reads() -> None:
    env = environment("gateway")
    assert env["WECHATY_PUPPET"] == "wechaty-puppet-mock"  # from DOTENV, as .env would set it
    assert env["WECHATY_TOKEN"] == DOTENV["WECHATY_PUPPET_SERVICE_TOKEN"]
    assert env["WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER"] == "true"
    assert env["WECHATY_PUPPET_SERVER_PORT"] == "8788"
    assert environment("bot")["WECHATY_PUPPET_SERVICE_ENDPOINT"] == "gateway:8788"


async def test_the_images_default_command_never_serves_without_chatie_io(
        node_modules: None, tmp_path: Path) -> None:
    """What `wechaty/wechaty:1.20` runs with WECHATY_TOKEN set and no command: the entrypoint's
    `npm run io-client`, i.e. bin/io-client.ts (here its compiled form, the package's
    `wechaty-io-client` bin). It dials api.chatie.io first; a closed local port stands in for
    that host being unreachable (no internet, or the service gone)."""
    port, unreachable = free_port(), free_port()
    io_client = NodeProcess(
        ["node", str(NODE_MODULES / "wechaty" / "dist" / "esm" / "bin" / "io-client.js")],
        tmp_path, gateway_env(port, WECHATY_LOG="info",
                              WECHATY_APIHOST=f"127.0.0.1:{unreachable}"))
    await io_client.start()
    try:
        await io_client.exited(timeout=60)
    finally:
        await io_client.stop()
    log = "\n".join(io_client.lines)
    assert "start() fail" in log and f"ECONNREFUSED 127.0.0.1:{unreachable}" in log, log
    assert "PuppetServer" not in log, log  # the gRPC server was never started
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


async def test_bot_logs_in_through_the_compose_gateway_and_answers(
        compose_gateway: tuple[NodeProcess, int], start_bot: Any) -> None:
    gateway, port = compose_gateway
    await gateway.world_event(lambda e: e["event"] == "login", timeout=60)
    await gateway.wait_line(lambda line: "serving puppet wechaty-puppet-mock on port" in line
                            and "plain gRPC" in line, timeout=60)
    bot_env = environment("bot")
    host, _, _ = bot_env["WECHATY_PUPPET_SERVICE_ENDPOINT"].partition(":")
    assert host == "gateway"
    # start_bot returns once the bot has logged in through the gateway.
    await start_bot(settings_for(f"127.0.0.1:{port}",
                                 token=bot_env["WECHATY_PUPPET_SERVICE_TOKEN"]))
    await gateway.say("wxid_vp_001", PRESIDENTS, "商会电话多少？")
    sent = await gateway.world_event(lambda e: e["event"] == "bot_sent", timeout=20)
    assert sent == {"event": "bot_sent", "conversation": PRESIDENTS,
                    "text": "@朱会长\u2005电话/传真：0351-8224667"}
    assert DOTENV["WECHATY_PUPPET_SERVICE_TOKEN"] not in "\n".join(gateway.lines)


async def test_a_bot_with_another_token_is_refused(
        compose_gateway: tuple[NodeProcess, int], start_bot: Any) -> None:
    gateway, port = compose_gateway
    await gateway.wait_line(lambda line: "serving puppet" in line, timeout=60)
    running = await start_bot(settings_for(f"127.0.0.1:{port}", token="insecure_wrong-token"),
                              wait_login=False)
    await running.states.wait_for(State.TOKEN_REJECTED, timeout=20)
    assert not running.bot.connection.logged_in.is_set()
