"""QR codes as PNG bytes (pure Python: segno), for deposit addresses and referral links."""

from __future__ import annotations

import io

import segno


def qr_png(data: str, scale: int = 8) -> bytes:
    # micro=False: short data would otherwise become a Micro QR, which phone cameras do not read.
    # border=4 is the quiet zone the QR standard asks for.
    buffer = io.BytesIO()
    segno.make(data, error="m", micro=False).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
