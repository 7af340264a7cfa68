"""A bare python-wechaty echo bot (its `Wechaty` class), the benchmark's point of comparison.

Only the one fix without which python-wechaty does not import on Python 3.11 is applied;
everything else is python-wechaty as shipped. Endpoint and token come from the environment.
"""

from __future__ import annotations

import asyncio
import os
import sys

import wechaty_puppet.schemas.puppet as _puppet_schema

_puppet_schema.PuppetOptions.__hash__ = object.__hash__

from wechaty import Message, Wechaty, WechatyOptions  # noqa: E402


class EchoBot(Wechaty):
    async def on_message(self, msg: Message) -> None:
        if msg.is_self():
            return
        await msg.say(msg.text())


def main() -> None:
    options = WechatyOptions(
        host="127.0.0.1",
        port=int(sys.argv[1]),  # its plugin web server; not 5000, which may be taken
        endpoint=os.environ["WECHATY_PUPPET_SERVICE_ENDPOINT"],
        token=os.environ["WECHATY_PUPPET_SERVICE_TOKEN"],
    )
    asyncio.run(EchoBot(options).start())


if __name__ == "__main__":
    main()
