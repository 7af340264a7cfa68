"""状态: what the bot is doing, as #状态 tells an admin (handlers/status.py: the same words),
refreshed every 10 seconds by htmx. Admins only."""

from __future__ import annotations

import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.core.chinese_time import duration
from bot.core.router import Role
from bot.ops.health import STATES_ZH
from bot.ops.status import Snapshot
from bot.web.context import Web
from handlers.status import ALERT_NAMES


@dataclass(frozen=True)
class StatusView:
    status: Snapshot
    state: str  # 已登录, 与网关断开 …
    state_for: str  # how long it has been so
    uptime: str
    last_event_ago: str  # "" before the first event
    alerts: list[str]  # in people's words


def status_view(status: Snapshot, now: float) -> StatusView:
    last_event = status.last_event_at
    return StatusView(
        status, STATES_ZH.get(status.state.value, status.state.value),
        duration(now - status.state_since.timestamp()),
        duration(now - status.started_at.timestamp()),
        duration(now - last_event.timestamp()) if last_event else "",
        [ALERT_NAMES.get(key, key) for key in status.open_alerts])


def routes(web: Web) -> list[BaseRoute]:
    async def status_page(request: Request) -> Response:
        viewer = web.viewer(request, needs=Role.ADMIN)
        return web.page(request, "status.html", viewer,
                        view=status_view(web.status.snapshot(), time.time()))

    return [Route("/status", status_page)]
