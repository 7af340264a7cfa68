"""Showing the login QR code when the gateway asks for a scan.

Three ways, because the person who scans is rarely at the server's terminal: the URL in the log,
the code drawn in the terminal, and a PNG in the data directory (copy it off the server, or open
it from a mounted volume, and scan it from a screen).
"""

from __future__ import annotations

import io
import logging
import os
import sys
from pathlib import Path

import qrcode
from qrcode.image.pil import PilImage

log = logging.getLogger("bot.login")

PNG_NAME = "login-qr.png"


def qr_as_text(data: str) -> str:
    """The QR code drawn with block characters, scannable from a terminal."""
    code = qrcode.QRCode(border=1)
    code.add_data(data)
    out = io.StringIO()
    code.print_ascii(out=out, invert=True)
    return out.getvalue()


def save_qr_png(data: str, path: Path) -> None:
    """Write the QR code as a PNG, atomically: a viewer never opens half a file."""
    image = qrcode.make(data, image_factory=PilImage, border=4, box_size=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    image.save(partial)  # PNG, the image factory's kind, whatever the file name says
    os.replace(partial, path)


def show_login_qr(data: str, png_path: Path | None = None) -> None:
    saved = ""
    if png_path is not None:
        try:
            save_qr_png(data, png_path)
            saved = f" (also saved as {png_path})"
        except OSError as error:  # the terminal and the log still show it
            log.warning("could not write the login QR code to %s: %s", png_path, error)
    log.warning("WeChat login needed: scan this QR code with the bot's WeChat account: %s%s",
                data, saved)
    sys.stderr.write(qr_as_text(data))
    sys.stderr.flush()


def forget_login_qr(png_path: Path | None) -> None:
    """After login the code is used up; a stale PNG would only mislead whoever opens it."""
    if png_path is not None:
        try:
            png_path.unlink(missing_ok=True)
        except OSError as error:
            log.warning("could not remove the used login QR code %s: %s", png_path, error)
