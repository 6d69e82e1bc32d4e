"""The 0trace adapter root (:class:`~bot.platforms.base.Platform`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from bot.domain.capabilities import PartnerCredentials, PlatformInfo
from bot.domain.errors import CredentialsRejected, ExchangerError, Maintenance, PermissionMissing
from bot.domain.models import OrderStatus
from bot.platforms.base import SelfCheck
from bot.platforms.zerotrace.client import ZeroTraceClient
from bot.platforms.zerotrace.codes import ZeroTraceCodes
from bot.platforms.zerotrace.customer import Catalogue, ZeroTraceCustomer
from bot.platforms.zerotrace.info import INFO
from bot.platforms.zerotrace.placement import ZeroTracePlacement
from bot.platforms.zerotrace.statuses import status_of
from bot.platforms.zerotrace.webhooks import ZeroTraceWebhooks

if TYPE_CHECKING:
    from pydantic import SecretStr

    from bot.platforms.zerotrace.sandbox import ZeroTraceSandbox

__all__ = ["ZeroTracePlatform"]


class ZeroTracePlatform:
    """0trace through the operator's partner key. No order feed (status changes come by webhook,
    and by reading each open order), no cabinet and no partner referral links; the operator's own
    reference codes are ``codes``."""

    info: PlatformInfo = INFO
    feed = None
    links = None

    def __init__(
        self,
        client: ZeroTraceClient,
        *,
        webhook_secret: SecretStr | None,
        sandbox: ZeroTraceSandbox | None = None,
    ) -> None:
        self._client = client
        self.sandbox = sandbox
        self.site_url = client.base_url
        self.placement = ZeroTracePlacement(client)
        catalogue = Catalogue(client)
        self.codes = ZeroTraceCodes(client, catalogue)
        self.webhooks = (
            None if webhook_secret is None else ZeroTraceWebhooks(webhook_secret, catalogue.assets_now)
        )

    def __repr__(self) -> str:
        return f"ZeroTracePlatform({self.site_url!r})"

    @property
    def client(self) -> ZeroTraceClient:
        """The wire-level client (this package and its tests only)."""
        return self._client

    def customer(self, lang: str | None = None) -> ZeroTraceCustomer:
        return ZeroTraceCustomer(self._client, lang)

    def cabinet(self, credentials: PartnerCredentials, lang: str | None = None) -> object:
        raise PermissionMissing("0trace keeps partner reporting in its own cabinet only", method="cabinet")

    def status_of(self, code: str, title: str = "") -> OrderStatus:
        return status_of(code)

    def credentials(self, values: Mapping[str, str]) -> PartnerCredentials:
        raise ValueError("0trace has no partner key to link in the bot")

    async def self_check(self) -> SelfCheck:
        """A signed ``GET /v1/codes`` (the signature of zero bytes): proves the key and the secret."""
        try:
            codes = await self._client.codes()
        except CredentialsRejected as exc:
            if exc.code == "4":
                return SelfCheck(False, "0trace's operator has switched the partner record off (code 4)")
            return SelfCheck(
                False,
                "0trace refused the key or the signature (code 2/3): check EXCHANGER_API_KEY and "
                "EXCHANGER_API_SECRET (a rotated secret stops the old one at once)",
            )
        except Maintenance:
            return SelfCheck(False, "0trace is in maintenance mode; try again shortly")
        except ExchangerError as exc:
            return SelfCheck(False, f"0trace did not answer usefully: {exc}")
        count = len(codes) if isinstance(codes, list) else 0
        pushes = "webhooks verified" if self.webhooks is not None else "no webhook secret: polling only"
        return SelfCheck(True, f"0trace key and secret work ({count} reference codes; {pushes})")

    async def aclose(self) -> None:
        await self._client.aclose()
