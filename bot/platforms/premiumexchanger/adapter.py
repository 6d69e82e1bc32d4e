"""The PremiumExchanger adapter root (:class:`~bot.platforms.base.Platform`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from pydantic import SecretStr

from bot.domain.capabilities import PartnerCredentials, PlatformInfo
from bot.domain.errors import (
    CredentialsRejected,
    ExchangerError,
    IpNotAllowed,
    Maintenance,
    PermissionMissing,
)
from bot.domain.models import OrderStatus
from bot.logs import REDACTOR
from bot.platforms.base import SelfCheck
from bot.platforms.premiumexchanger.cabinet import PremiumExchangerCabinet
from bot.platforms.premiumexchanger.client import PremiumExchangerClient
from bot.platforms.premiumexchanger.customer import PremiumExchangerCustomer
from bot.platforms.premiumexchanger.feed import PremiumExchangerFeed
from bot.platforms.premiumexchanger.info import INFO, api_locale
from bot.platforms.premiumexchanger.links import PremiumExchangerLinks
from bot.platforms.premiumexchanger.models import ApiCredentials
from bot.platforms.premiumexchanger.placement import PremiumExchangerPlacement
from bot.platforms.premiumexchanger.statuses import status_of

if TYPE_CHECKING:
    from bot.platforms.premiumexchanger.sandbox import SandboxExchanger

__all__ = ["PremiumExchangerPlatform"]

log = logging.getLogger(__name__)


class PremiumExchangerPlatform:
    """One PremiumExchanger site through the bot's own API key (``client``). ``customer()`` and
    ``cabinet()`` are cheap views sharing the client's connection pool."""

    info: PlatformInfo = INFO

    def __init__(self, client: PremiumExchangerClient, *, sandbox: SandboxExchanger | None = None) -> None:
        self._client = client
        # The embedded sandbox behind ``client`` when no site is configured (tests and demos drive it).
        self.sandbox = sandbox
        self.site_url = client.base_url
        self.placement = PremiumExchangerPlacement(client)
        self.feed = PremiumExchangerFeed(client)
        self.links = PremiumExchangerLinks(client.base_url)
        # Status pushes are the unsigned per-order callback_url (Capability.PUSH_CALLBACK), not webhooks.
        self.webhooks = None

    def __repr__(self) -> str:
        return f"PremiumExchangerPlatform({self.site_url!r})"

    @property
    def client(self) -> PremiumExchangerClient:
        """The wire-level client (this package and its tests only)."""
        return self._client

    def customer(self, lang: str | None = None) -> PremiumExchangerCustomer:
        return PremiumExchangerCustomer(self._client.scoped(lang=api_locale(lang)))

    def cabinet(self, credentials: PartnerCredentials, lang: str | None = None) -> PremiumExchangerCabinet:
        login, key = credentials.get("login"), credentials.get("key")
        if not login or not key or credentials.platform != INFO.name:
            raise ValueError("these credentials are not a PremiumExchanger API login and key")
        scoped = self._client.scoped(
            lang=api_locale(lang), credentials=ApiCredentials(login=login, key=SecretStr(key))
        )
        return PremiumExchangerCabinet(scoped)

    def status_of(self, code: str, title: str = "") -> OrderStatus:
        return status_of(code, title)

    def credentials(self, values: Mapping[str, str]) -> PartnerCredentials:
        """The API login and key as typed (trimmed). Raises ``ValueError`` naming a missing or
        malformed field (never its value); the key is redacted from every log from now on."""
        cleaned: dict[str, SecretStr] = {}
        for field in INFO.credential_fields:
            value = (values.get(field.name) or "").strip()
            if field.secret:
                REDACTOR.add(value)
            if not field.accepts(value):
                raise ValueError(f"{field.name} is missing or malformed")
            cleaned[field.name] = SecretStr(value)
        return PartnerCredentials(INFO.name, cleaned, label=cleaned["login"].get_secret_value())

    async def self_check(self) -> SelfCheck:
        """Call ``test`` with the bot's key and say in plain words what works and what to fix."""
        try:
            me = await self._client.whoami()
        except CredentialsRejected:
            return SelfCheck(
                False,
                'the exchange refused the API login and key ("Api disabled"): check EXCHANGER_API_LOGIN '
                "and EXCHANGER_API_KEY, that the key's user may use the API (API settings: all users, or "
                '"Work with REST API" ticked for the user) and that the API module is on',
            )
        except IpNotAllowed:
            return SelfCheck(
                False,
                'the API key is restricted to other IP addresses ("IP blocked"): add this server\'s '
                "address to the key's allowed IPs on the site",
            )
        except Maintenance as exc:
            said = f": {exc.text}" if exc.text else ""
            return SelfCheck(False, f"the exchange is closed for maintenance{said}")
        except PermissionMissing:
            return await self._check_without_test()
        except ExchangerError as exc:
            return SelfCheck(False, f"the exchange did not answer usefully: {exc}")
        if me.is_system_user:
            return SelfCheck(
                True,
                f"API key works (site user 0, the System user; seen from IP {me.ip or '?'}). Partner "
                "features of the bot's own key don't apply: partners link their own keys",
            )
        return SelfCheck(True, f"API key works (site user {me.user_id}; seen from IP {me.ip or '?'})")

    async def _check_without_test(self) -> SelfCheck:
        try:
            await self._client.list_directions()
        except ExchangerError as exc:
            return SelfCheck(False, f'the key may not call "test", and get_directions failed: {exc}')
        return SelfCheck(
            True, 'API key works (the "test" method is not enabled for it, so its user is unknown)'
        )

    async def aclose(self) -> None:
        await self._client.aclose()
