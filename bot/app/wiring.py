"""Everything the bot runs on, built once from Settings and closed in reverse order.

:class:`Services` is for the application's own assembly (dispatcher, web server, notifications) and
tests; handlers never see it: they receive the pieces they use by name (:func:`dependencies`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from aiogram.utils.i18n import I18n
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.app.config import Settings
from bot.domain.capabilities import PlatformInfo
from bot.exchange.catalogue import CatalogueService
from bot.exchange.field_memory import FieldMemory
from bot.exchange.ordering import OrderPlacer
from bot.exchange.quoting import QuotingService
from bot.i18n import build_i18n
from bot.logs import REDACTOR
from bot.observability import Metrics
from bot.platforms.base import Platform
from bot.platforms.registry import open_platform
from bot.storage.crypto import SecretBox, load_or_create_secret_key, verify_secret
from bot.storage.database import MEMORY, Database
from bot.storage.payouts import PayoutRequestRepository
from bot.storage.repositories import (
    ChatSettingsRepository,
    OrderRepository,
    PartnerCredentialRepository,
    seal_legacy,
)
from bot.storage.writer_lock import WriterLock

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    i18n: I18n
    db: Database
    box: SecretBox
    platform: Platform
    chat_settings: ChatSettingsRepository
    partner_credentials: PartnerCredentialRepository
    payout_requests: PayoutRequestRepository
    orders: OrderRepository
    catalogue: CatalogueService
    quoting: QuotingService
    field_memory: FieldMemory
    ordering: OrderPlacer
    # For signing things we hand out and must trust when they come back (bot deep links).
    link_signing_key: bytes
    # Prometheus metrics, the last exchanger errors, the exchanger's last answer (bot.observability).
    metrics: Metrics = field(default_factory=Metrics)

    @property
    def platform_info(self) -> PlatformInfo:
        return self.platform.info

    @property
    def site_url(self) -> str:
        return self.platform.site_url.rstrip("/")


def dependencies(services: Services) -> dict[str, Any]:
    """What handlers may ask for by name."""
    return {
        "settings": services.settings,
        "i18n": services.i18n,
        "platform": services.platform,
        "platform_info": services.platform.info,
        "site_url": services.site_url,
        "chat_settings": services.chat_settings,
        "partner_credentials": services.partner_credentials,
        "payout_requests": services.payout_requests,
        "orders": services.orders,
        "catalogue": services.catalogue,
        "quoting": services.quoting,
        "field_memory": services.field_memory,
        "ordering": services.ordering,
        "link_signing_key": services.link_signing_key,
        "metrics": services.metrics,
    }


def _secret(settings: Settings) -> str:
    if settings.secret_key is not None:
        secret = settings.secret_key.get_secret_value()
    else:
        secret = load_or_create_secret_key(settings.database_path.parent / "secret.key")
    REDACTOR.add(secret)
    return secret


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret.encode())


@asynccontextmanager
async def open_services(
    settings: Settings, *, sandbox_step_seconds: float | None = 10.0
) -> AsyncIterator[Services]:
    """Open the database, open the configured platform (its embedded sandbox when EXCHANGER_URL is
    unset), and build the services on them."""
    for secret in (
        settings.bot_token,
        settings.exchanger_api_key,
        settings.exchanger_api_secret,
        settings.exchanger_webhook_secret,
        settings.secret_key,
    ):
        if secret is not None:
            REDACTOR.add(secret.get_secret_value())
    async with AsyncExitStack() as stack:
        i18n = build_i18n(settings.default_language)
        if str(settings.database_path) != MEMORY:
            stack.callback(WriterLock.acquire(settings.database_path).release)
        db = await Database.open(settings.database_path)
        stack.push_async_callback(db.close)
        secret = _secret(settings)
        box = SecretBox.from_secret(secret)
        await verify_secret(db, box)
        await seal_legacy(db, box)

        metrics = Metrics()
        platform_config = settings.platform_config(sandbox_step_seconds)
        platform_config = replace(platform_config, observer=metrics.exchanger(platform_config.name))
        platform = await open_platform(platform_config, stack)
        chat_settings = ChatSettingsRepository(db)
        orders = OrderRepository(db, box)
        await orders.restore_phases(platform.info.name, platform.status_of)
        field_memory = FieldMemory(db, box, _derive(secret, b"exchanger-bot field memory v1"))
        yield Services(
            settings=settings,
            i18n=i18n,
            db=db,
            box=box,
            platform=platform,
            chat_settings=chat_settings,
            partner_credentials=PartnerCredentialRepository(db, box),
            payout_requests=PayoutRequestRepository(db),
            orders=orders,
            catalogue=CatalogueService(platform),
            quoting=QuotingService(platform),
            field_memory=field_memory,
            ordering=OrderPlacer(
                platform,
                orders,
                chat_settings,
                field_memory,
                settings.public_url,
                _derive(secret, b"exchanger-bot callback tokens v1"),
                metrics=metrics,
            ),
            link_signing_key=_derive(secret, b"exchanger-bot link signing v1"),
            metrics=metrics,
        )
