"""A tiny HTTP server on 127.0.0.1 that records what is POSTed to it: the alert webhook's
other end in tests (plain asyncio streams; HTTP/1.1 with keep-alive, Content-Length bodies)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

WECOM_OK = b'{"errcode":0,"errmsg":"ok"}'
REASONS = {200: "OK", 429: "Too Many Requests", 500: "Internal Server Error"}


class WebhookReceiver:
    def __init__(self, statuses: list[int] | None = None) -> None:
        self.bodies: list[dict[str, Any]] = []  # answered 200, in order of arrival
        self.attempts = 0  # every request, refused ones too
        self._statuses = list(statuses or [])  # answers for the first requests, then 200s
        self._changed = asyncio.Condition()
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        self.url = ""

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/cgi-bin/webhook/send?key=test-key"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in self._connections:  # keep-alive: Python 3.12+ waits for them to close
                writer.close()
            await self._server.wait_closed()

    async def wait_for(self, predicate: Callable[[list[dict[str, Any]]], bool],
                       timeout: float = 10) -> list[dict[str, Any]]:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: predicate(self.bodies))
        return list(self.bodies)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        try:
            while request_line := await reader.readline():
                assert request_line.startswith(b"POST /cgi-bin/webhook/send?key=test-key ")
                headers: dict[str, str] = {}
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.attempts += 1
                status = self._statuses.pop(0) if self._statuses else 200
                if status == 200:
                    self.bodies.append(json.loads(body))
                reply = WECOM_OK if status == 200 else b"{}"
                writer.write(f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\n"
                             f"Content-Type: application/json\r\nContent-Length: {len(reply)}"
                             "\r\n\r\n".encode("ascii") + reply)
                await writer.drain()
                async with self._changed:
                    self._changed.notify_all()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._connections.discard(writer)
            writer.close()
