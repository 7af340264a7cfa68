"""One bot per data directory: two schedulers on one send ledger would post twice.

The lock is an flock on `bot.lock` in the data directory, held for the life of the process.
The kernel drops it when the process ends however it ends (kill -9 included), so there is never
a stale lock to clean up; the pid written in the file is only there to name the holder.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

LOCK_NAME = "bot.lock"


class AlreadyRunning(Exception):
    """Another process holds the data directory; the message is the sentence to print."""


@contextlib.contextmanager
def hold_data_dir(data_dir: Path) -> Iterator[None]:
    """Hold the data directory's lock for the duration of the `with` block."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise AlreadyRunning(
                f"另一个机器人（pid {holder}）正在使用数据目录 {data_dir.resolve()}，本次不启动："
                f"两个机器人共用一个数据目录会重复发送公告。"
                f" / another bot (pid {holder}) is already running on the data directory "
                f"{data_dir.resolve()}; not starting a second one (it would post twice)."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        yield
    finally:
        os.close(fd)  # releases the lock; the file stays, harmless and reused next time
