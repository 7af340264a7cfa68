"""Serving the console from the bot's own event loop, with uvicorn.

The bot owns the process's signals (Ctrl-C and SIGTERM stop it gracefully, bot/runner.py), so
uvicorn is told not to take them, and not to configure logging. The socket is bound here: a
port already in use is a sentence for the admins, not the end of the bot, which goes on
serving WeChat without its console.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Callable, Iterator

import uvicorn

from bot.core.config import WebSettings
from bot.web.context import Web
from bot.web.site import build_site

log = logging.getLogger(__name__)


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say so;
    # with proto 0 every answer on a kept-alive connection waited ~40 ms for an ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(100)
    except OSError:
        sock.close()
        raise
    return sock


class EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the bot's own handlers stay in place


class ConsoleServer:
    def __init__(self, settings: WebSettings, web: Web, notify: Callable[[str], None]) -> None:
        self.settings = settings
        self.web = web
        self.notify = notify  # the admins hear when the console cannot start
        self.port = 0  # the port listened on, once listening
        self._server: EmbeddedServer | None = None

    def _bind(self) -> socket.socket | None:
        try:
            sock = listening_socket(self.settings.host, self.settings.port)
        except OSError as error:
            log.error("web console: cannot listen on %s: %s", self.settings.listen, error)
            self.notify(f"网页后台无法启动：{self.settings.listen} 不能监听（{error.strerror}）。"
                        "机器人照常在微信里工作。请在 config.toml 的 [web] 换一个 listen 端口"
                        "（或设 enabled = false）后重启。")
            return None
        self.port = sock.getsockname()[1]
        host = self.settings.host
        shown = f"[{host}]" if ":" in host else host
        self.web.public_url = self.settings.public_url or f"http://{shown}:{self.port}"
        return sock

    async def run(self) -> None:
        """Serve until stop(); returns at once when the port cannot be had."""
        sock = self._bind()
        if sock is None:
            return
        config = uvicorn.Config(build_site(self.web), log_config=None, access_log=False,
                                lifespan="off", server_header=False, proxy_headers=True,
                                forwarded_allow_ips="127.0.0.1", timeout_graceful_shutdown=2)
        self._server = EmbeddedServer(config)
        log.info("web console: %s (listening on %s:%d)", self.web.public_url,
                 self.settings.host, self.port)
        await self._server.serve(sockets=[sock])

    @property
    def listening(self) -> bool:
        return self._server is not None and self._server.started

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
