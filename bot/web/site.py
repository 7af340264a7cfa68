"""The console's Starlette application: signing in and out, the pages, and what every answer
carries (no caching, no framing, no referrer, only our own scripts and styles).

The pages are registered in one place, bot/web/pages/__init__.py.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.web.context import COOKIE, Forbidden, NotFound, NotSignedIn, Web
from bot.web.logins import SESSION_SECONDS
from bot.web.pages import MENU, page_routes

STATIC = __file__.rsplit("/", 1)[0] + "/static"
MOST_BODY_BYTES = 12 * 1024 * 1024  # a picture of at most 10 MB, plus the rest of the form
SECURITY_HEADERS = {
    # Scripts and styles only from this server: htmx is vendored (bot/web/static).
    "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "script-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",  # a sign-in link must not leave in a Referer header
}


class Guard:
    """Security headers on every answer; a request body over the limit is refused (413)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > MOST_BODY_BYTES:
            too_big = Response("上传的内容太大（最多 10 MB 的图片），没有保存。请压缩后再试。",
                               status_code=413, media_type="text/plain; charset=utf-8")
            await too_big(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > MOST_BODY_BYTES:  # a body longer than its Content-Length said
                raise ValueError("request body over the limit")
            return message

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                headers.extend((k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items())
            await send(message)

        await self.app(scope, counted, with_headers)


def build_site(web: Web) -> Starlette:
    web.templates.env.globals["MENU"] = MENU
    async def login_page(request: Request) -> Response:
        """The link from #后台: shows whose it is and a button; it is used up by the button."""
        token = request.path_params["token"]
        user_id = web.links.peek(token)
        if user_id is None or not web.may_sign_in(user_id):
            return web.page(request, "login.html", None, status_code=403, expired=True)
        name = await web.name_of(user_id)
        return web.page(request, "login.html", None, token=token, name=name)

    async def sign_in(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=5)
        token = form.get("token")
        user_id = web.links.redeem(token) if isinstance(token, str) else None
        if user_id is None or not web.may_sign_in(user_id):
            return web.page(request, "login.html", None, status_code=403, expired=True)
        session = web.sessions.start(user_id, await web.name_of(user_id))
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(COOKIE, session.id, max_age=SESSION_SECONDS, httponly=True,
                            samesite="lax", secure=web.secure_cookies)
        return response

    async def sign_out(request: Request) -> Response:
        await web.changer(request)
        web.sessions.end(request.cookies.get(COOKIE))
        response = RedirectResponse("/signed-out", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    async def signed_out(request: Request) -> Response:
        return web.page(request, "login.html", None, signed_out=True)

    async def not_signed_in(request: Request, _error: Exception) -> Response:
        return web.page(request, "login.html", None, status_code=401)

    async def forbidden(request: Request, error: Exception) -> Response:
        sentence = error.sentence if isinstance(error, Forbidden) else str(error)
        try:
            viewer = web.viewer(request)
        except (NotSignedIn, Forbidden):
            viewer = None
        return web.page(request, "message.html", viewer, status_code=403, sentence=sentence)

    async def not_found(request: Request, error: Exception) -> Response:
        """An unknown address, or a post (tally) a page looked for and did not find."""
        try:
            viewer = web.viewer(request)
        except (NotSignedIn, Forbidden):
            viewer = None
        sentence = (error.sentence if isinstance(error, NotFound)
                    else "找不到这个页面，链接可能写错了或公告已被删除。")
        return web.page(request, "message.html", viewer, status_code=404, sentence=sentence)

    routes = [
        Route("/login/{token}", login_page),
        Route("/login", sign_in, methods=["POST"]),
        Route("/logout", sign_out, methods=["POST"]),
        Route("/signed-out", signed_out),
        *page_routes(web),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    return Starlette(routes=routes, middleware=[Middleware(Guard)], exception_handlers={
        NotSignedIn: not_signed_in, Forbidden: forbidden, NotFound: not_found, 404: not_found})
