"""The one scheduler: APScheduler, owned by the bot, in Asia/Shanghai (the configured zone).

Jobs are rebuilt from the post files at start-up and whenever a file changes on disk; the
job id is the post id. The scheduler never decides twice about one run: every run is keyed
by its slot in the send ledger. Runs missed while the bot was down (or the gateway away) are
sent if still within the post's grace period, otherwise reported to the admins.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger

from bot.core.store import Store
from bot.posts.files import Post, PostError, directory_state, load_posts
from bot.posts.publisher import Publisher, RunReport, slot_of

log = logging.getLogger("bot.posts.scheduler")

HEARTBEAT_SECONDS = 30
WATCH_SECONDS = 2.0
ALIVE_KEY = "scheduler_alive"
Notify = Callable[[str], Awaitable[None]]


def fire_times(trigger: BaseTrigger, after: datetime, until: datetime) -> list[datetime]:
    """The trigger's fire times in (after, until], in order."""
    times: list[datetime] = []
    previous: datetime | None = None  # a one-off trigger needs it to say "no more"
    moment = after + timedelta(microseconds=1)
    while True:
        fire: datetime | None = trigger.get_next_fire_time(previous, moment)
        if fire is None or fire > until:
            return times
        if fire > after:
            times.append(fire)
        previous, moment = fire, fire + timedelta(microseconds=1)


def describe_time(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M")


class PostScheduler:
    def __init__(
        self,
        directory: Path,
        tz: ZoneInfo,
        store: Store,
        publisher: Publisher,
        gateway_ready: asyncio.Event,
        notify_admins: Notify,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.directory = directory
        self.tz = tz
        self.store = store
        self.publisher = publisher
        self.gateway_ready = gateway_ready
        self.notify_admins = notify_admins
        self.now = clock or (lambda: datetime.now(tz))
        self.posts: dict[str, Post] = {}
        self.errors: list[PostError] = []
        self.aps = AsyncIOScheduler(timezone=tz)
        self._files: dict[str, tuple[float, int]] = {}
        self._reported_errors: set[str] = set()
        self._background_runs: set[asyncio.Future[RunReport | None]] = set()
        self.loads = 0  # how many times the files were read: tests wait on reloads
        self.stopped = False
        self.reloaded = asyncio.Condition()

    # --- posts and jobs ---------------------------------------------------------------------

    def load(self) -> None:
        """(Re)read the post files and bring the jobs in line with them."""
        if not self.directory.is_dir():
            log.warning("no post directory %s: creating it (no posts yet)", self.directory)
            self.directory.mkdir(parents=True, exist_ok=True)
        self._files = directory_state(self.directory)
        posts, errors = load_posts(self.directory, self.tz, self.now())
        self.loads += 1
        broken_files = {error.path for error in errors}
        for post_id, old in self.posts.items():
            # A file broken by an edit in progress: keep running its last good version.
            if post_id not in posts and old.path in broken_files:
                posts[post_id] = old
        self.posts, self.errors = posts, errors
        for error in errors:
            log.error("post file skipped: %s", error)
        self._sync_jobs()

    def _sync_jobs(self) -> None:
        wanted = {post.id: post for post in self.posts.values()
                  if post.rule is not None and not post.meta.paused}
        for job in self.aps.get_jobs():
            if job.id.startswith("post:") and job.id[5:] not in wanted:
                job.remove()
        for post in wanted.values():
            assert post.rule is not None
            self.aps.add_job(
                self._fire, trigger=post.rule.trigger, args=[post.id], id=f"post:{post.id}",
                name=post.title, replace_existing=True, coalesce=True, max_instances=1,
                misfire_grace_time=max(1, int(post.meta.grace_minutes * 60)),
            )

    def next_run(self, post_id: str) -> datetime | None:
        job = self.aps.get_job(f"post:{post_id}")
        when: datetime | None = getattr(job, "next_run_time", None) if job else None
        if when is None and job is not None and not self.aps.running:
            when = job.trigger.get_next_fire_time(None, self.now())
        return when

    async def _watch_files(self) -> None:
        """Hot reload: pick up post files edited, added or removed on disk."""
        if directory_state(self.directory) == self._files:
            return
        before = {post_id: post.meta for post_id, post in self.posts.items()}
        self.load()
        changed = [post_id for post_id, post in self.posts.items()
                   if before.get(post_id) != post.meta]
        removed = [post_id for post_id in before if post_id not in self.posts]
        log.info("post files reloaded: %d post(s), changed %s, removed %s",
                 len(self.posts), changed or "none", removed or "none")
        async with self.reloaded:
            self.reloaded.notify_all()
        for error in self.errors:
            if str(error) not in self._reported_errors:
                self._reported_errors.add(str(error))
                await self.notify_admins(f"公告文件有误，已跳过（旧版本照常执行）：{error}")

    # --- running ----------------------------------------------------------------------------

    async def start(self) -> None:
        self.load()
        for row in self.store.interrupted_sends():
            await self.notify_admins(
                f"上次停机时这部分正在发送，是否已发出不明，未重发：{row.key.describe()}")
        resumed = await self.resume_unfinished()
        self.aps.add_job(self._heartbeat, "interval", seconds=HEARTBEAT_SECONDS, id="heartbeat")
        self.aps.add_job(self._watch_files, "interval", seconds=WATCH_SECONDS, id="watch",
                         coalesce=True, max_instances=1)
        if self.stopped:  # the bot was stopped while starting up
            return
        self.aps.start()
        await self.catch_up(skip=resumed)
        self._heartbeat()

    def pause(self) -> None:
        """Start no new run (the bot is stopping); runs under way end when the outbox closes."""
        self.stopped = True
        if self.aps.running:
            self.aps.pause()

    def shutdown(self) -> None:
        if self.aps.running:
            self._heartbeat()
            self.aps.shutdown(wait=False)
        for run in self._background_runs:
            run.cancel()  # e.g. a resumed run still waiting for the gateway

    def _heartbeat(self) -> None:
        self.store.put(ALIVE_KEY, self.now().isoformat())

    async def resume_unfinished(self) -> set[str]:
        """Runs a crash interrupted between parts: finish them within grace, else report.

        Returns the slots resumed, so the catch-up does not start them a second time."""
        resumed: set[str] = set()
        now = self.now()
        for post_id, slot in self.store.unfinished_runs():
            post = self.posts.get(post_id)
            started = datetime.fromisoformat(slot.removeprefix("manual:"))
            if post is not None and now - started <= timedelta(minutes=post.meta.grace_minutes):
                log.info("resuming post %s, run %s, interrupted by a stop", post_id, slot)
                self._spawn(self._resume(post, slot))
                resumed.add(slot)
                continue
            left = self.store.abandon(post_id, slot)
            title = post.title if post else post_id
            await self.notify_admins(
                f"上次停机时未发完，已超过补发时限，其余 {left} 条未发送：{title}（{slot}）")
        return resumed

    async def _resume(self, post: Post, slot: str) -> RunReport | None:
        await self.gateway_ready.wait()
        return await self.publisher.run(post, slot)

    def _spawn(self, run: Awaitable[RunReport | None]) -> None:
        task = asyncio.ensure_future(run)
        self._background_runs.add(task)
        task.add_done_callback(self._background_runs.discard)

    async def catch_up(self, skip: set[str] | frozenset[str] = frozenset()) -> None:
        """Runs that fell due while the bot was down: send within grace, else report."""
        last_alive = self.store.get(ALIVE_KEY)
        if last_alive is None:
            return
        since, now = datetime.fromisoformat(last_alive), self.now()
        missed: list[str] = []
        for post in self.posts.values():
            if post.rule is None or post.meta.paused:
                continue
            for when in fire_times(post.rule.trigger, since, now):
                if slot_of(when) in skip:
                    continue
                if now - when <= timedelta(minutes=post.meta.grace_minutes):
                    self._spawn(self._run_slot(post, when))
                else:
                    missed.append(f"{post.title}（{describe_time(when)}）")
        if missed:
            await self.notify_admins("停机期间错过（已超过补发时限，未发送）：" + "；".join(missed))

    async def _fire(self, post_id: str) -> None:
        post = self.posts.get(post_id)
        if post is None or post.rule is None:
            return
        now = self.now()
        grace = timedelta(minutes=post.meta.grace_minutes)
        due = fire_times(post.rule.trigger, now - grace - timedelta(minutes=1), now)
        if not due:
            log.warning("post %s fired at %s with no due run", post_id, now)
            return
        await self._run_slot(post, due[-1])

    async def _run_slot(self, post: Post, when: datetime) -> RunReport | None:
        """One scheduled run; waits for the gateway until the grace period ends."""
        deadline = when + timedelta(minutes=post.meta.grace_minutes)
        if not self.gateway_ready.is_set():
            wait = (deadline - self.now()).total_seconds()
            try:
                await asyncio.wait_for(self.gateway_ready.wait(), timeout=max(wait, 0))
            except TimeoutError:
                await self.notify_admins(
                    f"未能连接微信，错过定时公告：{post.title}（{describe_time(when)}）")
                return None
        report = await self.publisher.run(post, slot_of(when))
        if report.interrupted:  # not a failure: a restart within grace sends the rest
            log.info("post %s, run %s: stopped part-way; the rest is pending", post.id, when)
        # Parts that failed are reported by the outbox's alert, once per run and group.
        return report

    async def run_now(self, post: Post, slot: str, groups: list[str] | None = None
                      ) -> RunReport:
        return await self.publisher.run(post, slot, groups)

    def jobs_summary(self) -> list[tuple[Post, datetime | None]]:
        return [(post, self.next_run(post.id)) for post in self.posts.values()]

    def job_count(self) -> int:
        return len([job for job in self.aps.get_jobs() if job.id.startswith("post:")])

