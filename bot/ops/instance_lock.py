"""One bot per data directory, and that directory the bot's alone.

The lock is an flock on `bot.lock` in the data directory, held for the life of the process.
The kernel drops it when the process ends however it ends (kill -9 included), so there is never
a stale lock to clean up; the pid written in the file is only there to name the holder.

The directory holds the send ledger, the audit log and the login QR code: it is made 0700 and
what is in it 0600 (the bot's umask, set in bot/cli.py, keeps new files so); a folder left 0755
by an older version is tightened here, before anything is written.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
from collections.abc import Iterator
from pathlib import Path

LOCK_NAME = "bot.lock"
OWNER_ONLY = 0o077  # the group and other bits, cleared on everything in the data directory


class AlreadyRunning(Exception):
    """Another process holds the data directory; the message is the sentence to print."""


class DataDirUnwritable(Exception):
    """The bot may not write its data directory (or something in it): `path`, `reason`; or
    the directory's path runs through a file (`not_a_folder`)."""

    def __init__(self, error: OSError, data_dir: Path) -> None:
        self.path = Path(error.filename or data_dir)
        self.reason = error.strerror or type(error).__name__
        self.not_a_folder = isinstance(error, NotADirectoryError | FileExistsError)
        super().__init__(f"{self.path}: {self.reason}")


@contextlib.contextmanager
def hold_data_dir(data_dir: Path) -> Iterator[None]:
    """Hold the data directory's lock for the duration of the `with` block."""
    path = data_dir / LOCK_NAME
    try:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        keep_private(data_dir)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:  # not ours (Docker without the chown), read-only, not a folder
        raise DataDirUnwritable(error, data_dir) from None
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


def keep_private(data_dir: Path) -> None:
    """The data directory and everything in it readable by the bot's user only, and that
    user's (a backup restored by root, say, is not: SQLite could not write it). Symbolic links
    are left alone (chmod would follow them out of the folder)."""
    user = os.geteuid()
    for folder, _, files in os.walk(data_dir, onerror=_raise):
        for name in (folder, *(os.path.join(folder, file) for file in files)):
            info = os.lstat(name)
            if stat.S_ISLNK(info.st_mode):
                continue
            if info.st_uid != user and user != 0:  # root may write what is not its own
                raise PermissionError(errno.EPERM, f"owned by user {info.st_uid}", name)
            if info.st_mode & OWNER_ONLY:
                os.chmod(name, stat.S_IMODE(info.st_mode) & ~OWNER_ONLY)


def _raise(error: OSError) -> None:
    raise error  # os.walk would skip a folder it cannot read: that is a folder not ours
