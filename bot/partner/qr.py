"""QR codes of links, as PNG bytes (pure Python: segno)."""

from __future__ import annotations

import io

import segno


def qr_png(data: str, scale: int = 8) -> bytes:
    buffer = io.BytesIO()
    segno.make(data, error="m", micro=False).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
