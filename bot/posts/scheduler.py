"""The one scheduler: APScheduler, owned by the bot, in Asia/Shanghai (the configured zone).

It only schedules. Its jobs follow the post library (one job per scheduled, unpaused post; the
job id is the post id) and are rebuilt whenever the library reloads. The scheduler never
decides twice about one run: every run is keyed by its slot in the send ledger. Runs missed
while the bot was down (or the gateway away) are sent if still within the post's grace
period, otherwise reported to the admins. After each scheduled run the admins get a one-line
receipt (`receipts`, off with `[announcements] receipts = false`); manual runs and previews
answer the person who asked instead. 工作日 posts tell the admins, once a year, when the
official calendar does not know the year yet. Other periodic work (hot reload, auto thanks) is
added through `every()`. A job or background run that raises is reported as unexpected.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core.chinese_time import day_and_time, minute
from bot.core.errors import ReportUnexpected, report_if_failed
from bot.core.outbox import Outcome
from bot.core.store import Store
from bot.posts.files import Post
from bot.posts.library import Notify, PostLibrary
from bot.posts.publisher import Publisher, RunReport, slot_of
from bot.posts.schedule_rules import fire_times
from bot.posts.workdays import WorkdayTrigger, unknown_year_notice

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 30
ALIVE_KEY = "scheduler_alive"
POST_JOB = "post:"
CALENDAR_TOLD = "workday_calendar_unknown:"  # + year: the admins were told
TellAdmins = Callable[[str], None]  # a private message to every admin, not an alert


class PostScheduler:
    def __init__(
        self,
        library: PostLibrary,
        tz: ZoneInfo,
        store: Store,
        publisher: Publisher,
        gateway_ready: asyncio.Event,
        notify_admins: Notify,
        report_unexpected: ReportUnexpected,
        clock: Callable[[], datetime],
        receipts: TellAdmins | None = None,  # where a scheduled run's receipt goes; None: off
    ) -> None:
        self.library = library
        self.tz = tz
        self.store = store
        self.publisher = publisher
        self.gateway_ready = gateway_ready
        self.notify_admins = notify_admins
        self.report_unexpected = report_unexpected
        self.now = clock
        self.receipts = receipts
        self.aps = AsyncIOScheduler(timezone=tz)
        self.aps.add_listener(self._job_failed, EVENT_JOB_ERROR)
        self._background_runs: set[asyncio.Future[Any]] = set()
        self._scheduled: dict[str, Post] = {}  # what each post's job was made from
        self.stopped = False
        library.change_listeners.append(self._watch_calendar)  # before the jobs compute runs
        library.change_listeners.append(self._sync_jobs)

    # --- jobs -------------------------------------------------------------------------------

    def _sync_jobs(self) -> None:
        wanted = {post.id: post for post in self.library.posts.values()
                  if post.runs_after(self.now())}  # a one-off already past: no job
        for job in self.aps.get_jobs():
            if job.id.startswith(POST_JOB) and job.id.removeprefix(POST_JOB) not in wanted:
                job.remove()
        for post in wanted.values():
            assert post.rule is not None
            job = self.aps.get_job(POST_JOB + post.id)
            if job is not None and self._scheduled.get(post.id) is post:
                continue  # the same post as when its job was made (the library reuses it)
            self._scheduled[post.id] = post
            self.aps.add_job(
                self._fire, trigger=post.rule.trigger, args=[post.id], id=POST_JOB + post.id,
                name=post.title, replace_existing=True, coalesce=True, max_instances=1,
                misfire_grace_time=max(1, int(post.meta.grace_minutes * 60)),
            )

    def every(self, seconds: float, work: Callable[[], Awaitable[Any]], job_id: str) -> None:
        """Periodic work of the bot's own (not a post), e.g. hot reload or auto thanks."""
        self.aps.add_job(work, "interval", seconds=seconds, id=job_id, coalesce=True,
                         max_instances=1, replace_existing=True)

    def next_run(self, post_id: str) -> datetime | None:
        job = self.aps.get_job(POST_JOB + post_id)
        when: datetime | None = getattr(job, "next_run_time", None) if job else None
        if when is None and job is not None and not self.aps.running:
            when = job.trigger.get_next_fire_time(None, self.now())
        return when

    def upcoming(self, count: int) -> list[tuple[datetime, str, str]]:
        """The next `count` runs: (when, post id, title), soonest first."""
        runs = [(when, post.id, post.title) for post in self.library.posts.values()
                if (when := self.next_run(post.id)) is not None]
        return sorted(runs)[:count]

    def _watch_calendar(self) -> None:
        """工作日 posts tell us when they meet a year the official calendar does not know."""
        for post in self.library.posts.values():
            if post.rule is not None and isinstance(post.rule.trigger, WorkdayTrigger):
                post.rule.trigger.on_unknown_year = self._calendar_unknown

    def _calendar_unknown(self, year: int) -> None:
        """Tell the admins once per year (restarts included), not at every run or look-ahead."""
        key = f"{CALENDAR_TOLD}{year}"
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # runs looked at outside the running bot: it tells them later
            return
        if self.store.get(key) is not None:
            return
        self.store.put(key, self.now().isoformat())
        self._spawn(f"notice: no calendar for {year}", self.notify_admins(unknown_year_notice(year)))

    def _job_failed(self, event: JobExecutionEvent) -> None:
        if event.exception is not None:
            self.report_unexpected(f"scheduled job {event.job_id}", event.exception)

    # --- running ----------------------------------------------------------------------------

    async def start(self) -> None:
        self.library.load()
        await self.library.report_errors()  # a file broken while the bot was down
        for row in self.store.interrupted_sends():
            await self.notify_admins(
                f"上次停机时这部分正在发送，是否已发出不明，未重发：{row.key.describe()}。"
                "请到群里看看，缺了就用 #预览 取原文手动补上")
        resumed = await self.resume_unfinished()
        self.aps.add_job(self._heartbeat, "interval", seconds=HEARTBEAT_SECONDS, id="heartbeat")
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
            post = self.library.get(post_id)
            started = datetime.fromisoformat(slot.removeprefix("manual:"))
            if post is not None and now - started <= timedelta(minutes=post.meta.grace_minutes):
                log.info("resuming post %s, run %s, interrupted by a stop", post_id, slot)
                self._spawn(f"resumed run {post_id} {slot}", self._resume(post, slot))
                resumed.add(slot)
                continue
            left = self.store.abandon(post_id, slot)
            await self.notify_admins(f"上次停机时未发完，已超过补发时限，其余 {left} 条未发送："
                                     f"{self.library.title_of(post_id)}（{slot}）")
        return resumed

    async def _resume(self, post: Post, slot: str) -> RunReport | None:
        await self.gateway_ready.wait()
        report = await self.publisher.run(post, slot)
        if not slot.startswith("manual:"):
            self._receipt(post, datetime.fromisoformat(slot), report)
        return report

    def _spawn(self, what: str, run: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(run)
        self._background_runs.add(task)
        task.add_done_callback(self._background_runs.discard)
        report_if_failed(task, what, self.report_unexpected)

    async def catch_up(self, skip: set[str] | frozenset[str] = frozenset()) -> None:
        """Runs that fell due while the bot was down: send within grace, else report."""
        last_alive = self.store.get(ALIVE_KEY)
        if last_alive is None:
            return
        since, now = datetime.fromisoformat(last_alive), self.now()
        missed: list[str] = []
        for post in self.library.posts.values():
            if post.rule is None or post.meta.paused or post.meta.review:
                continue
            for when in fire_times(post.rule.trigger, since, until=now):
                if slot_of(when) in skip:
                    continue
                if now - when <= timedelta(minutes=post.meta.grace_minutes):
                    self._spawn(f"catch-up run {post.id} {when}", self._run_slot(post, when))
                else:
                    missed.append(f"{post.title}（{minute(when)}）")
        if missed:
            await self.notify_admins("停机期间错过（已超过补发时限，未发送）：" + "；".join(missed))

    async def _fire(self, post_id: str) -> None:
        post = self.library.get(post_id)
        if post is None or post.rule is None:
            return
        now = self.now()
        grace = timedelta(minutes=post.meta.grace_minutes)
        due = fire_times(post.rule.trigger, now - grace - timedelta(minutes=1), until=now)
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
                    f"未能连接微信，错过定时公告：{post.title}（{minute(when)}）")
                return None
        report = await self.publisher.run(post, slot_of(when))
        if report.interrupted:  # not a failure: a restart within grace sends the rest
            log.info("post %s, run %s: stopped part-way; the rest is pending", post.id, when)
        # Parts that failed are reported by the outbox's alert, once per run and group.
        self._receipt(post, when, report)
        return report

    def _receipt(self, post: Post, when: datetime, report: RunReport) -> None:
        if self.receipts is not None and not report.interrupted:
            self.receipts(receipt(post, when, report))


def receipt(post: Post, when: datetime, report: RunReport) -> str:
    """One line for the admins: which post, which run, how many parts reached how many groups."""
    what = f"“{post.title}”（{post.id}），{day_and_time(when)}"
    groups = len(report.outcomes)
    total = sum(len(outcomes) for outcomes in report.outcomes.values())
    if not groups:
        return f"定时公告未发送：{what}，找不到目标群，请检查公告文件的 groups。"
    if report.complete:
        return f"定时公告已发出：{what}，{total} 条发到 {groups} 个群。"
    reached = sum(outcome in (Outcome.SENT, Outcome.ALREADY_SENT)
                  for outcomes in report.outcomes.values() for outcome in outcomes)
    why = "；".join(dict.fromkeys(report.problems)) or "原因见日志"
    return (f"定时公告未发全：{what}，{groups} 个群共 {total} 条，{reached} 条已发出，"
            f"{total - reached} 条未能发出：{why}")
