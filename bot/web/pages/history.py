"""历史: who changed which post and when, in chat or on the web, and every send from the ledger,
newest first, across all posts or for one (?post=ID). Admins only, as #历史, in its words
(handlers/history.py). Pages of PAGE lines; 更早 moves on with ?before=<time>."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.core.router import Role
from bot.core.store import CHAT, THANKS_SUFFIX, WEB, AuditEntry, RunSummary
from bot.web.context import Web
from handlers.history import action_words, run_words

PAGE = 200
TIE_ROOM = 50  # lines at the same moment as a page's last one stay on that page
SOURCE_CSS = {CHAT: "chat", WEB: "web"}


@dataclass(frozen=True)
class Line:
    stamp: float
    at: datetime
    kind: Literal["change", "send"]
    who: str  # a WeChat name; "" for a send
    what: str  # "定时：每周一 09:00", "定时发送到“会长群”：1/1 条已发出"
    source: str  # 微信 / 网页 / 命令行 for a change; "" for a send
    post_id: str
    title: str
    exists: bool  # the post is still there (not deleted)

    @property
    def source_css(self) -> str:
        return SOURCE_CSS.get(self.source, "other")


def earlier_than(request: Request) -> float:
    try:
        before = float(request.query_params.get("before", "inf"))
    except ValueError:
        return math.inf
    return before if math.isfinite(before) else math.inf


class HistoryLines:
    def __init__(self, web: Web) -> None:
        self.web = web
        self.group_names = web.settings.group_names

    def records(self, post_id: str | None, before: float
                ) -> list[tuple[float, AuditEntry | RunSummary]]:
        """The newest changes and sends before `before`, newest first, a page and a bit."""
        store, most = self.web.desk.store, PAGE + TIE_ROOM
        runs = store.runs(post_id, most, before)
        if post_id is not None:
            runs += store.runs(post_id + THANKS_SUFFIX, most, before)
        found: list[tuple[float, AuditEntry | RunSummary]] = [
            (entry.at, entry) for entry in store.history(post_id, most, before)]
        found += [(run.at, run) for run in runs]
        found.sort(key=lambda pair: pair[0], reverse=True)
        return found

    async def page(self, post_id: str | None, before: float) -> tuple[list[Line], float | None]:
        """A page of lines and the moment to continue before (None: nothing earlier)."""
        found = self.records(post_id, before)
        cut = min(PAGE, len(found))
        while 0 < cut < len(found) and found[cut][0] == found[cut - 1][0]:
            cut += 1
        names: dict[str, str] = {}  # one WeChat look-up per person (the names are cached too)
        lines = []
        for stamp, record in found[:cut]:
            if isinstance(record, AuditEntry) and record.actor_id not in names:
                names[record.actor_id] = await self.web.name_of(record.actor_id)
            lines.append(self._line(stamp, record, names))
        return lines, (found[cut - 1][0] if cut < len(found) else None)

    def _line(self, stamp: float, record: AuditEntry | RunSummary,
              names: dict[str, str]) -> Line:
        at = datetime.fromtimestamp(stamp, self.web.tz)
        library = self.web.desk.library
        if isinstance(record, AuditEntry):
            action, detail = action_words(record)
            return Line(stamp, at, "change", names[record.actor_id],
                        action + (f"：{detail}" if detail else ""), record.source,
                        record.post_id, library.title_of(record.post_id),
                        record.post_id in library.posts)
        post_id = record.post_id.removesuffix(THANKS_SUFFIX)
        return Line(stamp, at, "send", "", run_words(record, self.group_names), "", post_id,
                    library.title_of(post_id), post_id in library.posts)


def routes(web: Web) -> list[BaseRoute]:
    history = HistoryLines(web)

    async def history_page(request: Request) -> Response:
        viewer = web.viewer(request, needs=Role.ADMIN)
        post_id = request.query_params.get("post", "").strip()[:100] or None
        before = earlier_than(request)
        lines, earlier = await history.page(post_id, before)
        title = web.desk.library.title_of(post_id) if post_id else ""
        return web.page(request, "history.html", viewer, lines=lines, earlier=earlier,
                        post_id=post_id, title=title, paged=math.isfinite(before),
                        post_exists=post_id in web.desk.library.posts if post_id else False)

    return [Route("/history", history_page)]
