"""Benchmark (`make bench`): figures, not pass/fail; written to docs/benchmarks.md and .png.

1. The FAQ burst (tests/bench/burst.py) side by side through the official gateway (npm
   wechaty-puppet-service + wechaty-puppet-mock) for the chamber bot, a Node Wechaty 1.20
   echo bot and a bare python-wechaty echo bot, then through our simulator for the two python
   bots; the chamber bot's RSS after 100,000 messages on both, asked by 5,000 members (after
   the burst) and, in a fresh bot, in one group of 500.
2. Announcements (tests/bench/posts.py): scheduling lag over 100 posts, start-up with 1,000
   post files; congratulations (tests/bench/congrats.py): 5,000 from 500 members in 10 s.
3. The secretary's #发布 during a member's 1,000-message flood, shipped pacing
   (tests/bench/flood.py).
4. The web console's pages with 1,000 posts (tests/bench/web_pages.py).

    python -m tests.bench [--wait-quiet SECONDS]
    python -m tests.bench --only burst|memory|flood [--profile FILE]

--wait-quiet waits (up to SECONDS) for the machine's 1-minute load average to fall below 0.5
before starting: other work on a 2-core machine changes every figure. The page states the load.
--only runs one part and prints its figures without writing the page: `burst` the chamber bot's
FAQ burst through the official gateway, `memory` that and its two 100,000-message runs, `flood`
the #发布 flood. --profile FILE (with burst or memory) runs that chamber bot under cProfile
(`python -m pstats FILE`); its figures then include the profiler's own cost.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from tests.bench import congrats, flood, posts, report, web_pages
from tests.bench.burst import Figures, bot_kinds, measure, memory_in_one_group
from tests.bench.common import PRESIDENTS, REPO, bench_config
from tests.bench.sides import OfficialSide, SimulatorSide

TOKEN = "insecure_bench-token"
QUIET_LOAD = 0.5


async def wait_until_quiet(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while os.getloadavg()[0] >= QUIET_LOAD and time.monotonic() < deadline:
        await asyncio.sleep(15)  # waiting for other people's work to end, not for ours


async def main(wait_quiet: float) -> None:
    lines: list[str] = []

    def say(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    await wait_until_quiet(wait_quiet)
    started, load_before = datetime.now(UTC), report.load_average()
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    kinds = bot_kinds(bench_config(workdir / "faq", faq_groups=True))
    results: dict[str, dict[str, Figures]] = {"official gateway": {}, "simulator": {}}
    say(f"{os.cpu_count()} cores; load average before: {load_before}")

    for key in ("chamber", "node-echo", "python-echo"):
        official = OfficialSide(TOKEN)
        await official.start()
        try:
            results["official gateway"][key] = await measure(kinds[key], official, TOKEN, say)
            if key == "chamber":
                results["official gateway"][key].update(
                    await memory_in_one_group(kinds[key], official, TOKEN, say))
        finally:
            await official.stop()

    simulator = SimulatorSide(TOKEN)
    await simulator.start()
    try:
        for key in ("chamber", "python-echo"):
            results["simulator"][key] = await measure(kinds[key], simulator, TOKEN, say)
        results["simulator"]["chamber"].update(
            await memory_in_one_group(kinds["chamber"], simulator, TOKEN, say))
        plain = bench_config(workdir / "plain", faq_groups=False).read_text(encoding="utf-8")
        await posts.figures(simulator.sim, plain, TOKEN, REPO, PRESIDENTS, "wxid_m000", say)
        await congrats.figures(simulator.sim, plain, TOKEN, REPO, PRESIDENTS, say)
    finally:
        await simulator.stop()

    flood_figures = await flood.figures(TOKEN, say)
    console = await web_pages.measure()
    for line in web_pages.report(console):
        say(line)
    load_after = report.load_average()
    say(f"load average after: {load_after}")
    report.write(results, flood_figures, lines, (load_before, load_after), started,
                 web_pages.markdown(console))
    print(f"wrote {report.DOC.relative_to(REPO)} and {report.CHART.relative_to(REPO)}")


async def one_part(part: str, profile: Path | None) -> None:
    """One part of the benchmark, printed only: for measuring a change before and after."""
    if part == "flood":
        await flood.figures(TOKEN, print)
        return
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    kind = bot_kinds(bench_config(workdir / "faq", faq_groups=True))["chamber"]
    if profile is not None:
        kind = replace(kind, argv=[kind.argv[0], "-m", "cProfile", "-o", str(profile.resolve()),
                                   *kind.argv[1:]])
    print(f"{os.cpu_count()} cores; load average before: {report.load_average()}")
    official = OfficialSide(TOKEN)
    await official.start()
    try:
        await measure(kind, official, TOKEN, print, memory=part == "memory")
        if part == "memory":
            await memory_in_one_group(kind, official, TOKEN, print)
    finally:
        await official.stop()
    print(f"load average after: {report.load_average()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m tests.bench")
    parser.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                        help="first wait up to SECONDS for a 1-minute load average below 0.5")
    parser.add_argument("--only", choices=("burst", "memory", "flood"),
                        help="run one part, print it, leave docs/ alone")
    parser.add_argument("--profile", type=Path, metavar="FILE",
                        help="with --only burst or memory: cProfile the chamber bot into FILE")
    arguments = parser.parse_args()
    if arguments.only is None:
        asyncio.run(main(arguments.wait_quiet))
    else:
        asyncio.run(one_part(arguments.only, arguments.profile))
