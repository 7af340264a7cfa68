"""docs/benchmarks.md and docs/benchmarks.png from one `make bench` run.

The page is written anew each run above NOTES_MARK; what follows the mark (the notes people
wrote: profiles, what a figure means) is kept as it is.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, ImageFont

from tests.bench.common import REPO

DOC, CHART = REPO / "docs" / "benchmarks.md", REPO / "docs" / "benchmarks.png"
NOTES_MARK = "<!-- Everything below is written by people and kept by `make bench`. -->"
NAMES = {"chamber": "chamber bot", "node-echo": "Node Wechaty 1.20 echo bot",
         "python-echo": "python-wechaty echo bot"}
ISSUE = {"chamber": "376/s, 2.4 ms, RSS 61 -> 90 MB", "node-echo": "328/s, 2.9 ms, RSS 122 -> 233 MB",
         "python-echo": "170/s"}
CPU_MS, RSS_LIMIT_MB, FLOOD_LIMIT_S = "cpu_ms", 80.0, 5.0
Results = dict[str, dict[str, dict[str, float]]]


def load_average() -> str:
    return " / ".join(Path("/proc/loadavg").read_text().split()[:3])


def machine() -> dict[str, str]:
    memory = next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal:"))
    models = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
              .splitlines() if line.startswith("model name")]
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False)
    return {"cores": str(os.cpu_count()), "memory": f"{int(memory) / 2**20:.1f} GiB",
            "cpu": models[0] if models else platform.machine(),
            "python": sys.version.split()[0], "node": node.stdout.strip(),
            "os": f"{platform.system()} {platform.release()}"}


def verdict(met: bool) -> str:
    return "**met**" if met else "**missed**"


def figures_table(results: Results) -> list[str]:
    rows = ["| gateway | bot | answers/s | burst latency p50 / p99 | 100/s latency p50 / p99 "
            "| bot CPU per answer | gateway CPU per answer | RSS at start → after burst |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for side, bots in results.items():
        for key, f in bots.items():
            gateway_cpu = f"{f['gateway_cpu_ms']:.2f} ms" if "gateway_cpu_ms" in f else "–"
            rows.append(
                f"| {side} | {NAMES[key]} | {f['rate']:.0f} | {f['burst_p50']:.0f} / "
                f"{f['burst_p99']:.0f} ms | {f['paced_p50']:.1f} / {f['paced_p99']:.1f} ms | "
                f"{f[CPU_MS]:.2f} ms | {gateway_cpu} | {f['rss_start']:.0f} → "
                f"{f['rss_after_burst']:.0f} MB |")
    return rows


def memory_table(results: Results) -> list[str]:
    rows = ["| gateway | 100,000 messages in one group of 500 (a fresh bot): RSS at start / "
            "after 20,000 / after 100,000 | after the burst, 100,000 more from 5,000 askers in "
            "10 groups: RSS after 20,000 / 100,000 |", "| --- | ---: | ---: |"]
    for side, bots in results.items():
        f = bots["chamber"]
        rows.append(f"| {side} | {f['one_group_rss_start']:.1f} / {f['one_group_rss_20000']:.1f}"
                    f" / {f['one_group_rss_100000']:.1f} MB | {f['rss_20000']:.1f} / "
                    f"{f['rss_100000']:.1f} MB |")
    return rows


def targets_table(results: Results, flood: dict[str, float]) -> list[str]:
    ours, sim = results["official gateway"]["chamber"], results["simulator"]["chamber"]
    return [
        "| target | measured | |",
        "| --- | --- | --- |",
        f"| the bot spends no more CPU per answer than the gateway (official gateway) | bot "
        f"{ours[CPU_MS]:.2f} ms, gateway {ours['gateway_cpu_ms']:.2f} ms "
        f"({ours[CPU_MS] / ours['gateway_cpu_ms']:.1f}×) | "
        f"{verdict(ours[CPU_MS] <= ours['gateway_cpu_ms'])} |",
        f"| RSS under {RSS_LIMIT_MB:.0f} MB after 100,000 messages, in a group of 500 | "
        f"official gateway {ours['one_group_rss_100000']:.1f} MB, simulator "
        f"{sim['one_group_rss_100000']:.1f} MB | "
        f"{verdict(max(ours['one_group_rss_100000'], sim['one_group_rss_100000']) < RSS_LIMIT_MB)}"
        " |",
        f"| the same, from 5,000 askers after the 2,000-question burst (stress) | official "
        f"gateway {ours['rss_100000']:.1f} MB, simulator {sim['rss_100000']:.1f} MB | "
        f"{verdict(max(ours['rss_100000'], sim['rss_100000']) < RSS_LIMIT_MB)} |",
        f"| a member's 1,000-message flood delays the secretary's `#发布` by under "
        f"{FLOOD_LIMIT_S:.0f} s (shipped pacing) | after the flood: median "
        f"{flood['flood_median']:.2f} s, max {flood['flood_max']:.2f} s; quiet group: median "
        f"{flood['baseline_median']:.2f} s, max {flood['baseline_max']:.2f} s | "
        f"{verdict(flood['flood_max'] < FLOOD_LIMIT_S)} |",
    ]


def write(results: Results, flood: dict[str, float], lines: list[str],
          load: tuple[str, str], started: datetime, console: list[str] | None = None) -> None:
    about = machine()
    notes = ""
    if DOC.exists() and NOTES_MARK in DOC.read_text(encoding="utf-8"):
        notes = DOC.read_text(encoding="utf-8").split(NOTES_MARK, 1)[1]
    shanghai = started.astimezone(ZoneInfo("Asia/Shanghai"))
    page = [
        "# Benchmarks",
        "",
        f"Written by `make bench` (`python -m tests.bench`) on {shanghai:%Y-%m-%d %H:%M} "
        f"(Asia/Shanghai). Machine: {about['cores']} cores ({about['cpu']}), "
        f"{about['memory']} memory, {about['os']}; Python {about['python']}, Node.js "
        f"{about['node']}. Load average (1 / 5 / 15 min) before: {load[0]}; after: {load[1]}.",
        "",
        "Each bot runs in its own process, against a fresh gateway: the official one (npm "
        "`wechaty-puppet-service` + `wechaty-puppet-mock`, pinned by "
        "`tests/official_gateway/package-lock.json`) or our simulator (which runs inside the "
        "benchmark's process, so its CPU is not shown). Rate limit off, FAQ cooldown 0, the "
        "members' reply limits raised (`tests/bench/common.py`). Questions come from 5,000 "
        "members in 10 groups of 500, in turn: the FAQ answers a member at most 3 times in "
        "10 minutes. Per bot: a question in each group, 500 at once (warm-up), then the burst "
        "of 2,000 at once (answers/s from the first question to the last answer; CPU from "
        "/proc), then 100 questions/s for 10 s; the chamber bot then reads 100,000 group "
        "messages, one in ten a question, and a fresh chamber bot reads 100,000 messages in "
        "one group of 500 (`tests/bench/burst.py`).",
        "",
        "![answers per second, CPU per answer, memory](benchmarks.png)",
        "",
        *figures_table(results),
        "",
        "The chamber bot's memory:",
        "",
        *memory_table(results),
        "",
        "## Targets",
        "",
        *targets_table(results, flood),
        "",
        "Measured before today's changes (issue 9, official gateway, 2,000-question burst): "
        + "; ".join(f"{NAMES[k]} {v}" for k, v in ISSUE.items())
        + "; the gateway 1.4 ms CPU per answer.",
        "",
        *(console or []),
        "## Everything the run printed",
        "",
        "```",
        *lines,
        "```",
        "",
        NOTES_MARK,
    ]
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text("\n".join(page) + (notes or "\n"), encoding="utf-8")
    draw_chart(results)


# --- the chart ----------------------------------------------------------------------------

COLOURS = {"official gateway": (46, 125, 50), "simulator": (120, 144, 156),
           "bot": (30, 136, 229), "gateway": (251, 140, 0)}


def _font(size: int) -> Any:
    return ImageFont.load_default(size=size)


def _bars(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], title: str,
          groups: list[tuple[str, list[tuple[str, float]]]], unit: str,
          limit: float | None = None) -> None:
    """Grouped vertical bars in `box` (left, top, right, bottom), a value above each."""
    left, top, right, bottom = box
    draw.text((left, top), title, fill="black", font=_font(20))
    top += 40
    plot_bottom = bottom - 80
    highest = max([v for _, bars in groups for _, v in bars] + [limit or 0]) * 1.15
    scale = (plot_bottom - top) / highest
    draw.line((left, plot_bottom, right, plot_bottom), fill="black")
    width = (right - left) / len(groups)
    limit_y = plot_bottom - limit * scale if limit is not None else None
    for i, (label, bars) in enumerate(groups):
        x0 = left + i * width + width * 0.15
        bar = width * 0.7 / len(bars)
        for j, (series, value) in enumerate(bars):
            x, bar_top = x0 + j * bar, plot_bottom - value * scale
            draw.rectangle((x, bar_top, x + bar - 4, plot_bottom), fill=COLOURS[series])
            if limit_y is not None and bar_top - 20 < limit_y < bar_top + 2:
                # The target line would cross the figure above the bar: write it inside.
                draw.text((x + 2, bar_top + 4), f"{value:.3g}", fill="white", font=_font(13))
            else:
                draw.text((x, bar_top - 18), f"{value:.3g}", fill="black", font=_font(13))
        draw.multiline_text((left + i * width + 6, plot_bottom + 6), label, fill="black",
                            font=_font(13))
    if limit is not None and limit_y is not None:
        draw.line((left, limit_y, right, limit_y), fill=(198, 40, 40), width=2)
        # Above the line, in the gap after the first group's bars: clear of their labels.
        draw.text((left + width * 0.86, limit_y - 18), f"target {limit:g} {unit}",
                  fill=(198, 40, 40), font=_font(13))


def draw_chart(results: Results) -> None:
    image = Image.new("RGB", (1500, 620), "white")
    draw = ImageDraw.Draw(image)
    order = ["chamber", "node-echo", "python-echo"]
    short = {"chamber": "chamber\nbot", "node-echo": "Node\necho", "python-echo": "python\necho"}
    rate_groups = [(short[key], [(side, bots[key]["rate"]) for side, bots in results.items()
                                 if key in bots]) for key in order]
    _bars(draw, (20, 20, 500, 570), "Answers per second (burst of 2,000)", rate_groups, "/s")
    official = results["official gateway"]
    cpu_groups = [(short[key], [("bot", official[key][CPU_MS]),
                                ("gateway", official[key]["gateway_cpu_ms"])]) for key in order]
    _bars(draw, (520, 20, 1000, 570), "CPU ms per answer, official gateway", cpu_groups, "ms")
    memory_groups = []
    for side, bots in results.items():
        f = bots["chamber"]
        memory_groups.append((f"{side}:\nstart, burst,\n100k stress,\n100k in 1 group", [
            (side, f["rss_start"]), (side, f["rss_after_burst"]), (side, f["rss_100000"]),
            (side, f["one_group_rss_100000"])]))
    _bars(draw, (1020, 20, 1480, 570), "Chamber bot RSS, MB", memory_groups, "MB",
          limit=RSS_LIMIT_MB)
    legend_x = 20
    for name, colour in COLOURS.items():
        draw.rectangle((legend_x, 592, legend_x + 14, 606), fill=colour)
        draw.text((legend_x + 20, 590), name, fill="black", font=_font(14))
        legend_x += 30 + 9 * len(name)
    CHART.parent.mkdir(exist_ok=True)
    image.save(CHART, optimize=True)
