"""What every page of the console uses: the bot's services, who is asking, and the templates.

Pages get the same services as chat (the desk, the congratulations, the status board), so chat
and web never disagree; the desk records web changes with the source 网页. Who may see and do
what is decided by the same roles as in chat (bot/core/router.py: role_of).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from bot.congrats.service import Congratulations
from bot.core.chinese_time import day_and_time, minute
from bot.core.config import Settings
from bot.core.errors import MaybeSent, NotSent, UserError
from bot.core.messages import People
from bot.core.router import Role, role_of
from bot.core.store import WEB
from bot.ops.status import StatusBoard
from bot.posts.desk import PostDesk
from bot.posts.files import Post
from bot.web.logins import LoginLinks, Session, Sessions

COOKIE = "chamber_console"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"  # htmx requests send it (base.html: hx-headers)
TEMPLATES = Path(__file__).parent / "templates"
ROLE_NAMES = {Role.SECRETARY: "秘书处", Role.ADMIN: "管理员"}


class NotSignedIn(Exception):
    """No valid session: the login page explains how to get a link."""


class Forbidden(Exception):
    """Signed in, but this needs a higher role (or the form's CSRF token is missing)."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


class NotFound(Exception):
    """The address names no such post (or tally): a 404 page with the service's sentence."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


@dataclass(frozen=True)
class Viewer:
    """The person behind a request: their WeChat id, role and session."""

    session: Session
    role: Role

    @property
    def user_id(self) -> str:
        return self.session.user_id

    @property
    def is_admin(self) -> bool:
        return self.role >= Role.ADMIN


class Web:
    def __init__(self, settings: Settings, desk: PostDesk, congratulations: Congratulations,
                 status: StatusBoard, people: People, clock: Callable[[], datetime]) -> None:
        self.settings = settings
        self.desk = desk.via(WEB)
        self.congratulations = congratulations
        self.status = status
        self.people = people
        self.now = clock
        self.links = LoginLinks()
        self.sessions = Sessions()
        self.public_url = ""  # set by the server once it listens (port 0 picks one)
        self.templates = Jinja2Templates(env=jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True))
        self.templates.env.filters["day_and_time"] = day_and_time
        self.templates.env.filters["minute"] = minute
        self.templates.env.globals["ROLE_NAMES"] = ROLE_NAMES

    @property
    def tz(self) -> ZoneInfo:
        return self.settings.general.tz

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")

    def login_url(self, user_id: str) -> str:
        """A new one-time sign-in link for a secretary or admin (#后台)."""
        return f"{self.public_url}/login/{self.links.issue(user_id)}"

    def post(self, request: Request) -> Post:
        """The post the address names ({ref}: its id or its number in the list); NotFound
        with the desk's sentence (the closest ids) otherwise."""
        try:
            return self.desk.get(request.path_params["ref"])
        except UserError as error:
            raise NotFound(str(error)) from None

    def role_of(self, user_id: str) -> Role:
        return role_of(user_id, self.settings.roles)

    def may_sign_in(self, user_id: str) -> bool:
        """Secretaries and admins, as config.toml says now."""
        return self.role_of(user_id) >= Role.SECRETARY

    async def name_of(self, user_id: str) -> str:
        """A WeChat name for display; the id when WeChat cannot say."""
        try:
            return await self.people.contact_name(user_id) or user_id
        except (NotSent, MaybeSent):
            return user_id

    def viewer(self, request: Request, needs: Role = Role.SECRETARY) -> Viewer:
        """Who is asking; NotSignedIn or Forbidden unless they may see a page that `needs`."""
        session = self.sessions.get(request.cookies.get(COOKIE))
        if session is None:
            raise NotSignedIn()
        role = self.role_of(session.user_id)
        if role < Role.SECRETARY:  # taken out of config.toml since signing in
            self.sessions.end(session.id)
            raise NotSignedIn()
        if role < needs:
            raise Forbidden(f"这一页只有{ROLE_NAMES[needs]}可以使用。请联系管理员，"
                            "或回到公告列表。")
        return Viewer(session, role)

    async def changer(self, request: Request, needs: Role = Role.SECRETARY) -> tuple[
            Viewer, FormData]:
        """A POST that changes something: the viewer and the form (several values per name:
        `form.getlist`), after the CSRF check."""
        viewer = self.viewer(request, needs)
        form = await request.form(max_files=20, max_fields=200)
        sent = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
        if not viewer.session.csrf_matches(sent if isinstance(sent, str) else None):
            raise Forbidden("表单校验码不对或缺失（页面可能已过期），没有做任何改动。请刷新页面后重试。")
        return viewer, form

    def page(self, request: Request, template: str, viewer: Viewer | None, status_code: int = 200,
             **values: Any) -> Response:
        response: Response = self.templates.TemplateResponse(
            request, template, {"viewer": viewer, "csrf": viewer.session.csrf if viewer else "",
                                "now": self.now(), **values},
            status_code=status_code)
        response.headers["Cache-Control"] = "no-store"
        return response
