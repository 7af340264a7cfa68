"""The console's pages, registered here in the order of the menu. Each module has
`routes(web)`: its URLs and the small handlers behind them, which use the bot's services
through `web` (bot/web/context.py) and answer with a template from bot/web/templates."""

from __future__ import annotations

from starlette.routing import BaseRoute

from bot.core.router import Role
from bot.web.context import Web
from bot.web.pages import actions, calendar, congrats, editor, history, posts, status

PAGES = (posts, editor, actions, calendar, congrats, history, status)
# The menu: (path, label, the role that sees it), as in chat (#历史 and #状态 are admins').
MENU = [("/", "公告", Role.SECRETARY), ("/calendar", "日历", Role.SECRETARY),
        ("/congrats", "祝贺", Role.SECRETARY), ("/history", "历史", Role.ADMIN),
        ("/status", "状态", Role.ADMIN)]


def page_routes(web: Web) -> list[BaseRoute]:
    return [route for page in PAGES for route in page.routes(web)]
