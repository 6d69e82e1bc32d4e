"""The iEXExchanger adapter root (:class:`~bot.platforms.base.Platform`): partner cabinets on the
partners' own keys and signed webhooks. No customer flow yet: ``customer()`` raises
``PermissionMissing``; placement, feed and links are None (API v3's orders become a ``customer`` view on
the same :class:`~.client.IexClient` later)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from pydantic import SecretStr

from bot.domain.capabilities import PartnerCredentials, PlatformInfo
from bot.domain.errors import ExchangerError, PermissionMissing, UnexpectedResponse
from bot.domain.models import OrderStatus
from bot.logs import REDACTOR
from bot.platforms.base import SelfCheck
from bot.platforms.iexexchanger.cabinet import IexCabinet, InstallState, token_label
from bot.platforms.iexexchanger.client import IexClient
from bot.platforms.iexexchanger.envelope import NotFound
from bot.platforms.iexexchanger.info import HMAC_SECRET_FIELD, INFO, TOKEN_FIELD
from bot.platforms.iexexchanger.mapping import exchange_status
from bot.platforms.iexexchanger.receiver import IexWebhookReceiver
from bot.platforms.iexexchanger.transport import IexCredentials

if TYPE_CHECKING:
    from bot.platforms.iexexchanger.sandbox import IexSandbox

__all__ = ["IexPlatform", "credentials_of"]

log = logging.getLogger(__name__)


def credentials_of(credentials: PartnerCredentials) -> IexCredentials:
    token = credentials.get(TOKEN_FIELD.name)
    if credentials.platform != INFO.name or not token:
        raise ValueError("these credentials are not an iEXExchanger API token")
    hmac_secret = credentials.get(HMAC_SECRET_FIELD.name)
    return IexCredentials(SecretStr(token), SecretStr(hmac_secret) if hmac_secret else None)


class IexPlatform:
    """One iEXExchanger site. ``cabinet()`` views share the client's connection pool and rate gate."""

    info: PlatformInfo = INFO
    placement = None
    feed = None
    links = None

    def __init__(
        self,
        client: IexClient,
        *,
        sandbox: IexSandbox | None = None,
        webhooks: IexWebhookReceiver | None = None,
    ) -> None:
        self._client = client
        self.sandbox = sandbox  # the embedded sandbox behind ``client`` when no site is configured
        self.site_url = client.site_url
        self.webhooks = webhooks or IexWebhookReceiver()
        self.install = InstallState()

    def __repr__(self) -> str:
        return f"IexPlatform({self.site_url!r})"

    @property
    def stats_range_supported(self) -> bool | None:
        """Whether this install's statistics take a typed range: None until a partner tried one."""
        return self.install.stats_range

    @property
    def client(self) -> IexClient:
        """The wire-level client (this package and its tests only)."""
        return self._client

    def customer(self, lang: str | None = None):
        raise PermissionMissing(
            "the iEXExchanger adapter serves the partner cabinet only (no customer flow yet)",
            permission="customer_flow",
            method="customer",
        )

    def status_of(self, code: str, title: str = "") -> OrderStatus:
        """An order status word of v3 (open-ended: an unknown one is not final)."""
        status = exchange_status(code)
        return status.model_copy(update={"title": title}) if title else status

    def cabinet(self, credentials: PartnerCredentials, lang: str | None = None) -> IexCabinet:
        """The partner's cabinet on their key (``lang`` unused: the partner API answers data, no texts)."""
        return IexCabinet(self._client.scoped(credentials_of(credentials)), install=self.install)

    def credentials(self, values: Mapping[str, str]) -> PartnerCredentials:
        """``token`` (required) and ``hmac_secret`` (only for keys with HMAC on), trimmed. Raises
        ``ValueError`` naming a missing or malformed field (never its value); both are redacted from
        every log from now on."""
        cleaned: dict[str, SecretStr] = {}
        for field in (TOKEN_FIELD, HMAC_SECRET_FIELD):
            value = (values.get(field.name) or "").strip()
            if not value and field is HMAC_SECRET_FIELD:
                continue
            if not field.accepts(value):
                raise ValueError(f"{field.name} is missing or malformed")
            REDACTOR.add(value)
            cleaned[field.name] = SecretStr(value)
        return PartnerCredentials(INFO.name, cleaned, label=token_label(cleaned["token"].get_secret_value()))

    async def self_check(self) -> SelfCheck:
        """``GET /api/v3/ping`` (no key needed): is API v3 served at EXCHANGER_URL?"""
        try:
            pong = await self._client.ping()
        except NotFound:
            return SelfCheck(
                False,
                f"no API v3 at {self._client.api_root}: check EXCHANGER_URL (the exchanger's own domain, as "
                "the owner gave it) and that the install serves API v3",
            )
        except UnexpectedResponse as exc:
            return SelfCheck(False, f"{self._client.api_root}/ping did not answer as API v3 does: {exc}")
        except ExchangerError as exc:
            return SelfCheck(False, f"{self._client.api_root}/ping failed: {exc}")
        name = pong.get("site_name")
        named = f" ({name})" if isinstance(name, str) and name else ""
        return SelfCheck(
            True, f"API v3 answers at {self._client.api_root}{named}; partners link their own keys"
        )

    async def aclose(self) -> None:
        await self._client.aclose()
