"""The Lara-script adapter root (:class:`~bot.platforms.base.Platform`): partner-only.

No customer API, placement, order feed or webhooks. One :class:`~.cache.PageCache` per site serves
every partner's cabinet (keyed by a hash of each key).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from bot.domain.capabilities import PartnerCredentials, PlatformInfo
from bot.domain.errors import CredentialsRejected, ExchangerError, PermissionMissing, UnexpectedResponse
from bot.domain.models import OrderStatus
from bot.platforms.base import CustomerApi, SelfCheck
from bot.platforms.larascript.cabinet import LaraCabinet
from bot.platforms.larascript.cache import PageCache
from bot.platforms.larascript.credentials import make_credentials
from bot.platforms.larascript.info import INFO, KEY_FIELD, RID_FIELD
from bot.platforms.larascript.links import LaraLinks
from bot.platforms.larascript.mapping import COMPLETED, NOT_COMPLETED
from bot.platforms.larascript.transport import ENDPOINT, METHOD
from bot.platforms.larascript.walk import first_url

if TYPE_CHECKING:
    from bot.platforms.larascript.sandbox import LaraSandbox

__all__ = ["LaraPlatform"]


class LaraPlatform:
    info: PlatformInfo = INFO
    placement = None
    feed = None
    webhooks = None

    def __init__(self, cache: PageCache, *, sandbox: LaraSandbox | None = None) -> None:
        self.cache = cache
        self.transport = cache.transport
        self.site_url = cache.transport.site_url
        self.links = LaraLinks(self.site_url)
        self.sandbox = sandbox  # the embedded sandbox when no site is configured (tests, demos)

    def __repr__(self) -> str:
        return f"LaraPlatform({self.site_url!r})"

    def customer(self, lang: str | None = None) -> CustomerApi:
        raise PermissionMissing("Lara-script publishes no customer API", method="customer")

    def cabinet(self, credentials: PartnerCredentials, lang: str | None = None) -> LaraCabinet:
        key, rid = credentials.get(KEY_FIELD.name), credentials.get(RID_FIELD.name)
        if not key or not rid or credentials.platform != INFO.name:
            raise ValueError("these credentials are not a Lara-script API key and rid")
        return LaraCabinet(self.cache, credentials.values[KEY_FIELD.name], rid, credentials.label)

    def status_of(self, code: str, title: str = "") -> OrderStatus:
        """Lara has no orders of its own; its exchanges are only "completed" or "not completed"."""
        return COMPLETED if code == COMPLETED.code else NOT_COMPLETED

    def credentials(self, values: Mapping[str, str]) -> PartnerCredentials:
        """The key (trimmed, redacted from logs from now on) and the rid, typed or taken from a pasted
        referral link on this site. ``ValueError`` names the field and what is wrong (never a value)."""
        return make_credentials(values, self.site_url)

    async def self_check(self) -> SelfCheck:
        """Ask the partner method without a key: a 401 in Lara's envelope means it is there."""
        try:
            await self.transport.get_page(first_url(self.site_url, sized=False), None)
        except CredentialsRejected:
            return SelfCheck(True, f"the partner API answers at {ENDPOINT} (partners link their own keys)")
        except UnexpectedResponse as exc:
            if exc.status_code == 404:
                return SelfCheck(
                    False, f"{ENDPOINT} is not found (404): is the site on Lara-script, and up to date?"
                )
            return SelfCheck(False, f"the partner API did not answer usefully: {exc}")
        except ExchangerError as exc:
            return SelfCheck(False, f"the partner API did not answer usefully: {exc}")
        return SelfCheck(False, f"{METHOD} answered without a key: check that EXCHANGER_URL is the site")

    async def aclose(self) -> None:
        await self.transport.aclose()
