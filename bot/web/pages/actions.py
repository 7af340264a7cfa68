"""(being written)"""

from __future__ import annotations

from starlette.routing import BaseRoute

from bot.web.context import Web


def routes(web: Web) -> list[BaseRoute]:
    return []
