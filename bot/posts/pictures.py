"""Pictures uploaded for a post: only real pictures, under names the bot makes up.

An upload is read by Pillow before anything is written: PNG, JPEG, GIF or WEBP that verifies,
at most MAX_IMAGE_BYTES (WeChat's own limit). It is saved beside the post files as
`<post-id>-<n>.<ext>`, never under the name the browser sent (which could be `../config.toml`).
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from bot.core.errors import UserError
from bot.posts.files import MAX_IMAGE_BYTES

EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "GIF": "gif", "WEBP": "webp"}
MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
               "webp": "image/webp"}


@dataclass(frozen=True)
class Picture:
    data: bytes
    extension: str  # png, jpg, gif or webp: from what Pillow read, not from the file's name


def checked_picture(data: bytes, shown_name: str = "") -> Picture:
    """The upload as a Picture, or a UserError saying why it cannot be one."""
    called = f"“{shown_name}”" if shown_name else "上传的文件"
    if len(data) > MAX_IMAGE_BYTES:
        raise UserError(f"{called}超过 {MAX_IMAGE_BYTES // 2**20} MB（微信图片的上限），没有保存。"
                        "请压缩后再上传。")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                found = image.format or ""
                image.verify()  # reads the whole file's structure, without decoding pixels
    except Exception:  # Pillow raises many kinds (SyntaxError, OSError, ValueError, ...)
        found = ""
    if found not in EXTENSIONS:
        raise UserError(f"{called}不是可用的图片（只收 PNG、JPEG、GIF、WEBP），没有保存。"
                        "请换一张图片。")
    return Picture(data, EXTENSIONS[found])


def own_picture_pattern(post_id: str) -> re.Pattern[str]:
    """Names the bot gives a post's uploads: `<post-id>-<n>.<ext>`."""
    return re.compile(re.escape(post_id) + r"-(\d+)\.(?:png|jpg|gif|webp)\Z")


def own_pictures(folder: Path, post_id: str) -> list[str]:
    """The post's uploaded pictures in the folder, in the order they were uploaded."""
    return [name for _, name in _numbered(folder, post_id)]


def _numbered(folder: Path, post_id: str) -> list[tuple[int, str]]:
    pattern = own_picture_pattern(post_id)
    found = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith(post_id) and (match := pattern.match(entry.name)):
                found.append((int(match.group(1)), entry.name))
    return sorted(found)


def save_pictures(folder: Path, post_id: str, pictures: list[Picture]) -> list[str]:
    """Write the pictures under new names after the post's existing ones; their names."""
    number = max((taken for taken, _ in _numbered(folder, post_id)), default=0)
    names: list[str] = []
    try:
        for picture in pictures:
            number += 1
            name = f"{post_id}-{number}.{picture.extension}"
            _write_new(folder / name, picture.data)
            names.append(name)
    except BaseException:
        remove_pictures(folder, names)
        raise
    return names


def remove_pictures(folder: Path, names: list[str]) -> None:
    for name in names:
        (folder / name).unlink(missing_ok=True)


def _write_new(path: Path, data: bytes) -> None:
    """Written beside, then linked in: a reader never sees half a picture, and an existing
    file is never overwritten (os.link fails on it)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.link(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
