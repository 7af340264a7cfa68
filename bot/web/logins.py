"""Signing in without passwords: one-time links asked for in WeChat, then a session cookie.

A secretary or admin sends #后台 privately; the bot answers with a link holding a random token,
valid for 10 minutes and good once. Opening it and pressing the button starts a session of 12
hours. The link itself changes nothing (a link preview fetching it must not use it up): only
the button's POST does. Both live in memory: a restart signs everyone out, which costs one #后台.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

LINK_SECONDS = 10 * 60
SESSION_SECONDS = 12 * 60 * 60
MOST_LINKS = 1_000  # outstanding links and sessions are few; a bound keeps memory bounded
MOST_SESSIONS = 1_000


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class LoginLink:
    user_id: str
    expires_at: float


@dataclass
class Session:
    id: str
    user_id: str
    name: str  # the WeChat name at sign-in, for the page header
    expires_at: float
    csrf: str = field(default_factory=new_token)  # every form and htmx request carries it

    def csrf_matches(self, sent: str | None) -> bool:
        return sent is not None and hmac.compare_digest(sent.encode(), self.csrf.encode())


class LoginLinks:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._links: dict[str, LoginLink] = {}

    def issue(self, user_id: str) -> str:
        """A new token for `user_id`; the user's older links stop working."""
        self._forget_expired()
        for token in [t for t, link in self._links.items() if link.user_id == user_id]:
            del self._links[token]
        while len(self._links) >= MOST_LINKS:
            del self._links[next(iter(self._links))]
        token = new_token()
        self._links[token] = LoginLink(user_id, self.clock() + LINK_SECONDS)
        return token

    def peek(self, token: str) -> str | None:
        """The user a valid token is for, leaving it valid."""
        link = self._links.get(token)
        return link.user_id if link is not None and link.expires_at > self.clock() else None

    def redeem(self, token: str) -> str | None:
        """The user a valid token is for; the token is used up either way."""
        user_id = self.peek(token)
        self._links.pop(token, None)
        return user_id

    def _forget_expired(self) -> None:
        now = self.clock()
        for token in [t for t, link in self._links.items() if link.expires_at <= now]:
            del self._links[token]


class Sessions:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._sessions: dict[str, Session] = {}

    def start(self, user_id: str, name: str) -> Session:
        now = self.clock()
        for key in [k for k, s in self._sessions.items() if s.expires_at <= now]:
            del self._sessions[key]
        while len(self._sessions) >= MOST_SESSIONS:
            del self._sessions[next(iter(self._sessions))]
        session = Session(new_token(), user_id, name, now + SESSION_SECONDS)
        self._sessions[session.id] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        session = self._sessions.get(session_id or "")
        if session is None or session.expires_at <= self.clock():
            return None
        return session

    def end(self, session_id: str | None) -> None:
        self._sessions.pop(session_id or "", None)
