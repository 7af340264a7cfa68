"""Signing in to a running bot's web console as a person does: #后台 in the simulated WeChat,
then the link the bot sent, then the button. Shared by the console's tests."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator

import httpx

from bot.simulator.server import Simulator
from tests.conftest import RunningBot

LINK = re.compile(r"https?://\S+/login/[A-Za-z0-9_\-]+")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def ask_for_link(simulator: Simulator, user_id: str) -> str:
    """`user_id` sends #后台 privately; the link from the bot's private answer."""
    await simulator.say(user_id, "#后台")
    answer = await simulator.wait_for_sent(lambda m: m.conversation_id == user_id)
    found = LINK.search(answer.text)
    assert found, answer.text
    return found.group(0)


@contextlib.asynccontextmanager
async def signed_in(running: RunningBot, simulator: Simulator, user_id: str
                    ) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client with a console session for `user_id` (a secretary or an admin)."""
    link = await ask_for_link(simulator, user_id)
    async with console_client(running) as client:
        page = await client.get(link)
        assert page.status_code == 200, page.text
        token = link.rsplit("/", 1)[1]
        entered = await client.post("/login", data={"token": token})
        assert entered.status_code == 303 and entered.headers["location"] == "/", entered.text
        yield client


def console_client(running: RunningBot) -> httpx.AsyncClient:
    web = running.bot.web
    assert web is not None and web.public_url, "the console is not listening"
    return httpx.AsyncClient(base_url=web.public_url, timeout=10)


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)
