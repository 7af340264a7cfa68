"""Turning a post into what a group sees, and handing it to the outbox with ledger keys.

Every part (text parts, images, link card, group announcement) of one run of a post in one
group gets a ledger key (post, group, slot, part): a run repeated for any reason (restart,
reload, reconnect, a second trigger) finds its parts in the ledger and sends only the rest.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from bot.core.errors import UserError
from bot.core.messages import MENTION_ALL, MENTION_SEPARATOR, Outgoing, OutKind, Priority
from bot.core.outbox import Outbox, Outcome
from bot.core.retry import until_written
from bot.core.store import LedgerKey, Store
from bot.posts.files import Post, image_path
from bot.posts.render import render_parts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunReport:
    post_id: str
    slot: str
    outcomes: dict[str, list[Outcome]]  # group id -> outcome of each part
    problems: list[str]  # why parts failed, in people's words

    @property
    def complete(self) -> bool:
        return all(
            outcome in (Outcome.SENT, Outcome.ALREADY_SENT)
            for outcomes in self.outcomes.values()
            for outcome in outcomes
        )

    @property
    def interrupted(self) -> bool:
        """The bot stopped during the run: the parts not sent are pending, for a restart."""
        return any(o is Outcome.STOPPED for outcomes in self.outcomes.values() for o in outcomes)

    def sent_parts(self) -> int:
        return sum(o is Outcome.SENT for outcomes in self.outcomes.values() for o in outcomes)

    def sentence(self, title: str) -> str:
        """What the person who published reads, in chat (#发布) and on the web."""
        if self.complete:
            return f"已发布“{title}”到 {len(self.outcomes)} 个群，共 {self.sent_parts()} 条。"
        failed = sum(o not in (Outcome.SENT, Outcome.ALREADY_SENT)
                     for outcomes in self.outcomes.values() for o in outcomes)
        why = "；".join(dict.fromkeys(self.problems)) or "原因见日志"
        return f"“{title}”有 {failed} 条未能发出：{why}"


def slot_of(when: datetime) -> str:
    """The ledger's name for a scheduled run: its time, with the UTC offset."""
    return when.replace(microsecond=0).isoformat()


def post_messages(post: Post, chat_id: str, max_length: int, preview: bool = False
                  ) -> list[Outgoing]:
    """What one run of `post` sends to `chat_id`, in order. A preview shows the same texts
    to one person, with @所有人 written out instead of notifying anyone."""
    reason = f"{'preview of ' if preview else ''}post {post.id}"
    texts = render_parts(post.title, post.body, max_length)
    priority = Priority.STAFF if preview else Priority.POST  # a preview is an answer
    messages = []
    for number, text in enumerate(texts):
        mention_all = post.meta.mention_all and number == 0
        if mention_all and preview:
            text = f"@所有人{MENTION_SEPARATOR}{text}"
        mentions = (MENTION_ALL,) if mention_all and not preview else ()
        messages.append(Outgoing(chat_id, text, mentions, reason=reason, priority=priority))
    for image in post.meta.images:
        try:  # checked at load too; again now, in case the file changed since
            path = image_path(post.path.parent, image)
        except ValueError as error:
            raise UserError(f"“{post.title}”的图片不能发送，整条公告未发出：{error}") from None
        messages.append(Outgoing(chat_id, reason=reason, kind=OutKind.IMAGE,
                                 image_path=str(path), priority=priority))
    if post.meta.link is not None:
        card = post.meta.link
        messages.append(Outgoing(chat_id, reason=reason, kind=OutKind.LINK, link=card,
                                 priority=priority))
    if post.meta.set_announcement:
        announcement = render_parts(post.title, post.body, max_length)[0]
        if preview:
            messages.append(Outgoing(chat_id, f"【群公告】\n{announcement}", reason=reason,
                                     priority=priority))
        else:
            messages.append(Outgoing(chat_id, announcement, reason=reason,
                                     kind=OutKind.ANNOUNCEMENT))
    return messages


class RunWatcher(Protocol):
    """Who wants to know when a run starts in a group (congratulations open their window)."""

    def run_started(self, post: Post, group_id: str, slot: str) -> None: ...

    def first_part_unsent(self, post: Post, group_id: str, slot: str) -> None: ...


class Publisher:
    def __init__(self, outbox: Outbox, store: Store, resolve_groups: Callable[[list[str]], list[str]],
                 max_length: int, watcher: RunWatcher) -> None:
        self.outbox = outbox
        self.store = store
        self.resolve_groups = resolve_groups
        self.max_length = max_length
        self.watcher = watcher

    def target_groups(self, post: Post) -> list[str]:
        return self.resolve_groups(post.meta.groups)

    async def run(self, post: Post, slot: str, groups: list[str] | None = None) -> RunReport:
        """Send one run of a post; returns when every part has an outcome."""
        targets = self.target_groups(post) if groups is None else groups
        planned: dict[str, list[Outgoing]] = {}
        # A gateway that is away is waited for until the run's grace ends (as a scheduled run
        # waits for it before starting): a restart mid-post costs no part, nor their order.
        started = datetime.fromisoformat(slot.removeprefix("manual:"))
        send_by = (started + timedelta(minutes=post.meta.grace_minutes)).timestamp()
        for group in targets:
            messages = post_messages(post, group, self.max_length)
            planned[group] = [
                replace(message, ledger=LedgerKey(post.id, group, slot, n, len(messages)),
                        send_by=send_by)
                for n, message in enumerate(messages, start=1)
            ]

        def written_down() -> None:
            """Before the first part goes out: the parts, and the windows for the replies that
            may come within milliseconds of the post (SQLite refusing is waited out in grace)."""
            self.store.plan([m.ledger for ms in planned.values() for m in ms if m.ledger])
            for group in planned:
                self.watcher.run_started(post, group, slot)

        await until_written(written_down, send_by)
        futures = {group: [self.outbox.send(m) for m in ms] for group, ms in planned.items()}
        for group, parts in futures.items():
            parts[0].add_done_callback(self._unless_sent(post, group, slot))
        outcomes = {group: list(await asyncio.gather(*parts)) for group, parts in futures.items()}
        problems = [failure.reason for failure in self.outbox.failures if failure.message.ledger
                    and (failure.message.ledger.post_id, failure.message.ledger.slot)
                    == (post.id, slot)]
        report = RunReport(post.id, slot, outcomes, problems)
        log.info("post %s, run %s: %d part(s) sent to %d group(s)%s", post.id, slot,
                 report.sent_parts(), len(targets), "" if report.complete else ", INCOMPLETE")
        return report

    def _unless_sent(self, post: Post, group: str, slot: str
                     ) -> Callable[[asyncio.Future[Outcome]], None]:
        """Tells the watcher when the run's first part did not go out."""

        def check(first_part: asyncio.Future[Outcome]) -> None:
            sent = not first_part.cancelled() and first_part.result() in (
                Outcome.SENT, Outcome.ALREADY_SENT)
            if not sent:
                self.watcher.first_part_unsent(post, group, slot)

        return check

    def preview(self, post: Post, chat_id: str) -> list[asyncio.Future[Outcome]]:
        return [self.outbox.send(message)
                for message in post_messages(post, chat_id, self.max_length, preview=True)]

