"""Showing the login QR code when the gateway asks for a scan."""

from __future__ import annotations

import io
import logging
import sys

import qrcode

log = logging.getLogger("bot.login")


def qr_as_text(data: str) -> str:
    """The QR code drawn with block characters, scannable from a terminal."""
    code = qrcode.QRCode(border=1)
    code.add_data(data)
    out = io.StringIO()
    code.print_ascii(out=out, invert=True)
    return out.getvalue()


def show_login_qr(data: str) -> None:
    log.warning("WeChat login needed: scan this QR code with the bot's WeChat account: %s", data)
    sys.stderr.write(qr_as_text(data))
    sys.stderr.flush()
