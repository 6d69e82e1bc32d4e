"""The operator's reference codes (``/v1/codes``, ``/v1/codes/enable``) and their referral links.

The enable body ``{"code", "enabled"}`` is the reference page's expectation (unverified upstream).
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote, urlencode

from bot.domain.errors import UnexpectedResponse
from bot.domain.models import ReferenceCode
from bot.platforms.zerotrace import mapping
from bot.platforms.zerotrace.client import ZeroTraceClient
from bot.platforms.zerotrace.customer import Catalogue

__all__ = ["CODE_PATTERN", "MAX_LABEL", "MAX_MARKUP_BPS", "REFERRAL_BASE", "ZeroTraceCodes"]

CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{4,32}$")
MAX_MARKUP_BPS = 2000
MAX_LABEL = 64
# Referral links send browsers to the public site, whichever API host the bot talks to.
REFERRAL_BASE = "https://0trace.io/r/"


def _body(values: dict[str, object]) -> bytes:
    return json.dumps(values, separators=(",", ":"), ensure_ascii=False).encode()


class ZeroTraceCodes:
    max_markup_bps = MAX_MARKUP_BPS
    max_label = MAX_LABEL

    def __init__(self, client: ZeroTraceClient, catalogue: Catalogue) -> None:
        self._client = client
        self._catalogue = catalogue

    def valid_code(self, code: str) -> bool:
        return CODE_PATTERN.fullmatch(code) is not None

    async def list(self) -> list[ReferenceCode]:
        raw = await self._client.codes()
        if not isinstance(raw, list):
            raise UnexpectedResponse("the code list is not a list", method="codes")
        return [mapping.reference_code(item) for item in raw]

    async def create(self, code: str, label: str | None, markup_bps: int) -> ReferenceCode:
        if not self.valid_code(code):
            raise ValueError("not a 0trace reference code")
        if not 0 <= markup_bps <= MAX_MARKUP_BPS:
            raise ValueError("the markup is out of range")
        label = (label or "").strip()[:MAX_LABEL] or None
        body = _body({"code": code, "label": label, "afftaxBps": markup_bps})
        # Not repeated: a lost answer followed by a retry would be refused as a duplicate.
        raw = await self._client.call("codes", body, retry=False)
        return mapping.reference_code(raw)

    async def set_enabled(self, code: str, enabled: bool) -> ReferenceCode:
        if not self.valid_code(code):
            raise ValueError("not a 0trace reference code")
        raw = await self._client.call("codes/enable", _body({"code": code, "enabled": enabled}))
        return mapping.reference_code(raw, "codes/enable")

    async def link(self, code: str, give: str | None = None, get: str | None = None) -> str:
        if not self.valid_code(code):
            raise ValueError("not a 0trace reference code")
        url = REFERRAL_BASE + quote(code, safe="")
        if give is None and get is None:
            return url
        assets = await self._catalogue.assets()
        pair = {"from": give, "to": get}
        for name, value in pair.items():
            if value is not None and value not in assets:
                raise ValueError(f"unknown asset for {name!r}")
        return url + "?" + urlencode({k: v for k, v in pair.items() if v is not None})
