"""The bot's two kinds of failure, kept apart on purpose.

`UserError` carries a Chinese sentence for the person who asked (what was wrong, and an
example): it is an answer, not an incident. Anything else is unexpected: it reaches one
`ReportUnexpected` callback (the log with its traceback, and the admins), and the bot goes on.
`NotSent` and `MaybeSent` are how a send fails, in words the outbox can act on without
knowing the gateway's transport.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


class UserError(Exception):
    """A sentence for the person who typed the command or made the change."""


# (where it happened, the error): logs the traceback and alerts the admins once per incident.
ReportUnexpected = Callable[[str, BaseException], None]


class NotSent(Exception):
    """The gateway surely did not act on the message. `retryable`: trying again may work
    (not logged in, gateway busy); otherwise it will not (e.g. the bot does not own the group)."""

    def __init__(self, reason: str, retryable: bool = True) -> None:
        super().__init__(reason)
        self.retryable = retryable


class MaybeSent(Exception):
    """The gateway may have acted (it took the request but did not answer in time): the
    message must never be sent again, only reported."""


def report_if_failed(task: asyncio.Future[Any], what: str, report: ReportUnexpected) -> None:
    """Report the task's exception, if it ends with one: a background task's error would
    otherwise be noticed by nobody (a cancelled task is a stop, not an error)."""

    def ended(done: asyncio.Future[Any]) -> None:
        error = None if done.cancelled() else done.exception()
        if error is not None:
            report(what, error)

    task.add_done_callback(ended)
