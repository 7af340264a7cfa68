"""Telling people that something is wrong: once per incident, and again when it is fixed.

Every report the bot makes for its admins goes through `Alerts`, one path to three places:
the log; the admins in WeChat, privately (held while WeChat is down and sent at the next
login, where a queued message would have timed out in the outbox); and the webhook, which
reaches people when WeChat itself is what broke.

An incident has a key ("gateway", "wechat", "token", "storage"): `problem()` alerts only when
the incident opens, `resolved()` sends the recovery only if it was open. One-off reports (a post
that was missed or failed, a bad post file) are `notice()`s, optionally once per key.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from bot.core.cache import BoundedCache
from bot.core.config import AlertSettings
from bot.ops.webhook import Alert, Webhook

log = logging.getLogger(__name__)

HELD_LIMIT = 20  # WeChat messages kept for the next login; older ones are in the log
ONCE_KEPT = 1_000
TellAdmins = Callable[[str], None]  # one text, privately to every admin


@dataclass(frozen=True)
class Incident:
    key: str
    message: str
    since: float  # time.time()


class Alerts:
    def __init__(self, settings: AlertSettings, tz: ZoneInfo,
                 tell_admins: TellAdmins, webhook: Webhook | None = None) -> None:
        self.settings = settings
        self.tz = tz
        self.tell_admins = tell_admins
        self.bot = settings.name or f"chamber-bot@{socket.gethostname()}"
        if webhook is None and settings.webhook_url:
            webhook = Webhook(settings, self.bot)
        self.webhook = webhook
        self.open: dict[str, Incident] = {}
        self._once: BoundedCache[str, None] = BoundedCache(ONCE_KEPT)
        self._online = False
        self._held: list[tuple[str | None, str]] = []

    # --- what happened ----------------------------------------------------------------------

    def problem(self, key: str, message: str) -> bool:
        """Open incident `key` and alert; False (and silence) if it is open already."""
        if key in self.open:
            return False
        self.open[key] = Incident(key, message, time.time())
        log.error("ALERT [%s] %s", key, message)
        self._send(key, "alert", message, f"【告警】{message}", incident=key)
        return True

    def resolved(self, key: str, message: str) -> bool:
        """Close incident `key` with a recovery message; False (and silence) if not open."""
        if self.open.pop(key, None) is None:
            return False
        log.warning("RECOVERED [%s] %s", key, message)
        self._send(key, "recovered", message, f"【已恢复】{message}")
        return True

    def notice(self, message: str, event: str = "announcement", once: str | None = None) -> None:
        """A one-off report; with `once`, only the first report under that key."""
        if once is not None and not self._once.add(once, None):
            log.info("not reported again (%s): %s", once, message)
            return
        log.warning("to admins: %s", message)
        self._send(event, "alert", message, message)

    # --- where it goes ----------------------------------------------------------------------

    def set_online(self, online: bool) -> None:
        """WeChat is usable (logged in) or not; coming online sends what was held, except the
        alerts of incidents already resolved: their recovery message says it all."""
        self._online = online
        if not online:
            return
        held, self._held = self._held, []
        for incident, text in held:
            if incident is None or incident in self.open:
                self.tell_admins(text)

    def _send(self, event: str, state: Literal["alert", "recovered"], message: str,
              chat_text: str, incident: str | None = None) -> None:
        if self.webhook is not None:
            self.webhook.post(Alert(event, state, message, datetime.now(self.tz)))
        if self._online:
            self.tell_admins(chat_text)
            return
        self._held.append((incident, chat_text))
        if len(self._held) > HELD_LIMIT:
            self._held.pop(0)

    async def run(self) -> None:
        if self.webhook is not None:
            await self.webhook.run()

    async def close(self, timeout: float) -> None:
        if self.webhook is not None:
            await self.webhook.close(timeout)

