"""The alert webhook: a WeCom group robot or any endpoint that takes a small JSON body.

Posting never blocks the bot: alerts are queued and one worker POSTs them in order (an alert
before its recovery), with a timeout per attempt and retries with backoff. A webhook that
stays down costs log lines, nothing else. The HTTP client (with its TLS context, about 8 MB)
exists only while alerts are going out: they are rare, the bot runs for months.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from bot.core.config import AlertSettings
from bot.core.retry import backoff

if TYPE_CHECKING:  # imported when an alert first goes out (a bot without a webhook never does)
    import httpx

log = logging.getLogger(__name__)

QUEUE_LIMIT = 100  # a webhook down for days must not grow memory; the oldest go first
WECOM_MAX_BYTES = 2048  # WeCom's limit for a text message's content
WECOM_RATE_LIMITED = 45009  # "api freq out of limit": worth another try later
BACKOFF_SECONDS = 1.0


@dataclass(frozen=True)
class Alert:
    event: str  # what it is about: "gateway", "wechat", "token", "storage", "announcement" ...
    state: Literal["alert", "recovered"]
    message: str  # a sentence for people
    at: datetime  # aware, in the bot's timezone


def body(alert: Alert, format: Literal["wecom", "json"], bot: str) -> dict[str, Any]:
    if format == "json":
        return {"event": alert.event, "state": alert.state, "message": alert.message,
                "at": alert.at.isoformat(), "bot": bot}
    label = "告警" if alert.state == "alert" else "已恢复"
    content = f"【{bot}】{label}：{alert.message}\n{alert.at:%Y-%m-%d %H:%M:%S}"
    content = content.encode("utf-8")[:WECOM_MAX_BYTES].decode("utf-8", "ignore")
    return {"msgtype": "text", "text": {"content": content}}


def wecom_error(response: httpx.Response) -> tuple[int, str]:
    """A WeCom robot answers HTTP 200 with an error code in the body: 0 is success."""
    try:
        data = response.json()
    except ValueError:
        return 0, ""
    if not isinstance(data, dict):
        return 0, ""
    return int(data.get("errcode") or 0), str(data.get("errmsg", ""))


def _httpx() -> Any:
    # httpx's __init__ imports its command-line tool, which imports click and pygments wherever
    # they are installed (2 MB the bot never uses); without it httpx leaves `httpx.main` a stub.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    import httpx

    return httpx


class Webhook:
    def __init__(self, settings: AlertSettings, bot: str,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.bot = bot
        self._transport = transport
        self._queue: asyncio.Queue[Alert] = asyncio.Queue()

    def post(self, alert: Alert) -> None:
        """Queue an alert; returns at once."""
        if self._queue.qsize() >= QUEUE_LIMIT:
            dropped = self._queue.get_nowait()
            log.warning("alert webhook backlog full, dropped: %s", dropped.message)
        self._queue.put_nowait(alert)

    async def run(self) -> None:
        while True:
            alert = await self._queue.get()
            async with _httpx().AsyncClient(timeout=self.settings.timeout_seconds,
                                            transport=self._transport) as client:
                while True:  # until nothing is queued: then the client goes
                    try:
                        await self._deliver(client, alert)
                    except Exception:  # a bug here must not silence every later alert
                        log.exception("alert webhook: could not send %r", alert.message)
                    finally:
                        self._queue.task_done()
                    if self._queue.empty():
                        break
                    alert = self._queue.get_nowait()

    async def close(self, timeout: float) -> None:
        """Give what is queued up to `timeout` seconds to go out, then let the rest go."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._queue.join()

    async def _deliver(self, client: httpx.AsyncClient, alert: Alert) -> None:
        payload = body(alert, self.settings.format, self.bot)
        attempts = self.settings.max_attempts
        delays = backoff(BACKOFF_SECONDS)
        for attempt, delay in zip(range(1, attempts + 1), delays, strict=False):
            problem, retry = await self._attempt(client, payload)
            if problem is None:
                return
            if not retry or attempt == attempts:
                log.error("alert webhook failed after %d attempt(s) (%s); alert was: %s",
                          attempt, problem, alert.message)
                return
            log.warning("alert webhook: %s; retry %d in %.0f s", problem, attempt, delay)
            await asyncio.sleep(delay)  # backoff, not synchronisation

    async def _attempt(self, client: httpx.AsyncClient, payload: dict[str, Any]
                       ) -> tuple[str | None, bool]:
        """(None, _) when delivered, else (what went wrong, whether to try again)."""
        try:
            response = await client.post(self.settings.webhook_url, json=payload)
        except _httpx().HTTPError as error:  # refused, timed out, reset: not delivered
            return f"{type(error).__name__}: {error}", True
        if response.status_code >= 500 or response.status_code == 429:
            return f"HTTP {response.status_code}", True
        if response.status_code >= 400:
            return f"HTTP {response.status_code}: {response.text[:200]}", False
        if self.settings.format == "wecom":
            code, message = wecom_error(response)
            if code:
                return f"WeCom errcode {code}: {message}", code == WECOM_RATE_LIMITED
        return None, False
