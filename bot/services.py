"""Everything the handlers depend on, built once from Settings and closed in reverse order."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from aiogram.utils.i18n import I18n
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

from bot.config import Settings
from bot.exchange.catalogue import CatalogueCache
from bot.exchange.field_memory import FieldMemory
from bot.exchange.ordering import OrderPlacer
from bot.exchanger.base import ApiCredentials, ExchangerPlatform
from bot.exchanger.premiumexchanger.client import PremiumExchangerClient
from bot.i18n import build_i18n
from bot.logs import REDACTOR
from bot.sandbox import SandboxExchanger
from bot.sandbox.keys import DEMO
from bot.storage.crypto import SecretBox, load_or_create_secret_key, verify_secret
from bot.storage.database import Database
from bot.storage.repositories import BidRepository, ChatSettingsRepository, PartnerKeyRepository

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    i18n: I18n
    db: Database
    exchanger: ExchangerPlatform
    chat_settings: ChatSettingsRepository
    partner_keys: PartnerKeyRepository
    bids: BidRepository
    exchanger_url: str
    catalogue: CatalogueCache
    field_memory: FieldMemory
    order_placer: OrderPlacer
    # For signing things we hand out and must trust when they come back (bot deep links).
    signing_key: bytes
    sandbox: SandboxExchanger | None = None


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
    """Open the database, start the embedded sandbox when no exchanger is configured, build the client."""
    for secret in (settings.bot_token, settings.exchanger_api_key, settings.secret_key):
        if secret is not None:
            REDACTOR.add(secret.get_secret_value())
    async with AsyncExitStack() as stack:
        i18n = build_i18n(settings.default_language)
        db = await Database.open(settings.database_path)
        stack.push_async_callback(db.close)
        secret = _secret(settings)
        box = SecretBox.from_secret(secret)
        await verify_secret(db, box)

        sandbox = None
        if settings.exchanger_url is None:
            sandbox = SandboxExchanger(step_seconds=sandbox_step_seconds)
            url = await sandbox.start("127.0.0.1", 0)
            stack.push_async_callback(sandbox.stop)
            credentials = ApiCredentials(login=DEMO.login, key=SecretStr(DEMO.key))
            log.info("EXCHANGER_URL is not set: using the embedded sandbox exchanger at %s", url)
        else:
            url = settings.exchanger_url
            assert settings.exchanger_api_login and settings.exchanger_api_key  # checked by Settings
            credentials = ApiCredentials(login=settings.exchanger_api_login, key=settings.exchanger_api_key)

        client = PremiumExchangerClient(url, credentials)
        stack.push_async_callback(client.aclose)
        chat_settings = ChatSettingsRepository(db)
        bids = BidRepository(db)
        field_memory = FieldMemory(db, box, _derive(secret, b"exchanger-bot field memory v1"))
        yield Services(
            settings=settings,
            i18n=i18n,
            db=db,
            exchanger=client,
            chat_settings=chat_settings,
            partner_keys=PartnerKeyRepository(db, box),
            bids=bids,
            exchanger_url=url,
            catalogue=CatalogueCache(),
            field_memory=field_memory,
            order_placer=OrderPlacer(
                bids,
                chat_settings,
                field_memory,
                settings.public_url,
                _derive(secret, b"exchanger-bot callback tokens v1"),
            ),
            signing_key=_derive(secret, b"exchanger-bot link signing v1"),
            sandbox=sandbox,
        )
