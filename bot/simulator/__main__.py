"""Run the simulator on its own: `python -m bot.simulator --port 8788 --token sim-token`.

Point the bot at it with WECHATY_PUPPET_SERVICE_ENDPOINT=127.0.0.1:8788 and the same token.
`--terminal` also opens the chat window to talk as a member.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from bot.simulator.server import Simulator
from bot.simulator.terminal import run_terminal
from bot.simulator.world import World


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8788)
    parser.add_argument("--token", default="sim-token")
    parser.add_argument("--generation", choices=("1.x", "0.x"), default="1.x")
    parser.add_argument("--require-scan", action="store_true", help="start logged out")
    parser.add_argument("--terminal", action="store_true", help="open the chat window")
    return parser.parse_args()


async def _main(args: argparse.Namespace) -> None:
    sim = Simulator(
        World.presidents_group(),
        token=args.token,
        host=args.host,
        port=args.port,
        generation=args.generation,
        require_scan=args.require_scan,
    )
    await sim.start()
    try:
        if args.terminal:
            await run_terminal(sim)
        else:
            await asyncio.Event().wait()  # until Ctrl-C
    finally:
        await sim.stop()


def main() -> None:
    args = _parse()
    # One line per connection and per event stream; the terminal has the chat itself.
    logging.basicConfig(
        level=logging.WARNING if args.terminal else logging.INFO,
        format="%(asctime)s %(name)s %(message)s",
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(args))


if __name__ == "__main__":
    main()
