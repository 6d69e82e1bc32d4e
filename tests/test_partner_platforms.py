"""The partner cabinet on partner-only platforms, through the production Dispatcher: the Lara-script
and iEXExchanger adapters and their sandboxes. The same handlers as on PremiumExchanger; what they offer
follows each ``PlatformInfo`` (Lara: a key plus a typed partner id, exchanges only, no balance, no
payouts; iEX: a token, an HMAC secret only when the key needs one, registered clients, payouts asked for
on the site)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from aiogram import Bot

from bot.app.dispatcher import BOT_DEFAULTS, build_dispatcher
from bot.app.wiring import Services, open_services
from bot.platforms.iexexchanger.sandbox.keys import FULL, HMAC, MISSING_SCOPE
from bot.platforms.larascript.sandbox.keys import DEMO
from offline.bot_client import BotClient
from offline.fake_session import FAKE_TOKEN, FakeTelegramSession
from tests.conftest import make_settings

PLATFORM = "larascript"


@pytest.fixture
async def lara(tmp_path: Path) -> AsyncIterator[Services]:
    settings = make_settings(tmp_path, None, exchanger_platform=PLATFORM)
    async with open_services(settings, sandbox_step_seconds=None) as services:
        yield services


@pytest.fixture
def client(lara: Services) -> BotClient:
    bot = Bot(FAKE_TOKEN, session=FakeTelegramSession(), default=BOT_DEFAULTS)
    return BotClient(build_dispatcher(lara), bot, user_id=720001)


async def test_login_asks_for_the_platforms_fields_and_deletes_only_the_secret(
    client: BotClient, lara: Services
) -> None:
    first = await client.send("/login")
    assert "Step 1 of 2: send your <b>API key</b>" in first.text and "I delete the message" in first.text
    wrong = await client.send("not-the-right-lara-key-0000")
    assert wrong.deleted and "Step 2 of 2" in wrong.text, "the key is only checked once every field is in"
    refused = await client.send(DEMO.rid)
    assert not refused.deleted, "the partner id is not a secret"
    assert "does not accept this key" in refused.text and "start over" in refused.text
    assert await lara.partner_credentials.load(client.chat.id, PLATFORM) is None

    await client.click("↩️ Start over")
    await client.send(DEMO.key)
    linked = await client.send(DEMO.rid)
    assert f"partner ID <b>{DEMO.rid}</b>" in linked.text and DEMO.key not in linked.text
    stored = await lara.partner_credentials.load(client.chat.id, PLATFORM)
    assert stored is not None and stored.partner_id == DEMO.rid and stored.credentials.get("key") == DEMO.key


async def _linked(client: BotClient) -> None:
    await client.send("/login")
    await client.send(DEMO.key)
    assert "Key linked" in (await client.send(DEMO.rid)).text


async def test_the_cabinet_offers_only_what_the_platform_serves(client: BotClient, lara: Services) -> None:
    await _linked(client)
    home = await client.send("/partner")
    account = lara.platform.sandbox.book.accounts[DEMO.key]
    counted = [row for row in account.rows if row.counted]
    assert f"Exchanges referred, all time: <b>{len(counted)}</b>" in home.text
    completed = sum(1 for row in counted if row.is_completed)
    assert f"Completed, all time: <b>{completed}</b>" in home.text
    assert "Balance" not in home.text and "Minimum payout" not in home.text and "<b>Earned</b>" in home.text
    labels = client.last.button_labels()
    assert {"📊 Statistics", "🔁 Exchanges", "🔗 Referral link"} <= set(labels)
    assert not {"👣 Clicks", "👥 Referrals", "💸 Payouts", "💰 Withdraw"} & set(labels)
    assert "Commands: /stats /pexchanges /link /logout" in home.text

    stats = await client.send("/stats")
    assert "Exchanges referred" in stats.text and "Clicks" not in stats.text
    # Rewards in several currencies are listed per currency, never added up.
    assert (
        "Rewards accrued: <b>" in stats.text
        and " · " in stats.text.split("Rewards accrued")[1].split("\n")[0]
    )
    assert "base currency" not in stats.text

    exchanges = await client.send("/pexchanges")
    assert "Reward:" in exchanges.text and " → " in exchanges.text

    link = await client.send("/link")
    url = link.text.split("<code>")[1].split("</code>")[0].replace("&amp;", "&")
    assert parse_qs(urlsplit(url).query)["rid"] == [DEMO.rid]

    withdraw = await client.send("/withdraw")
    assert "payout requests in your personal account on its website" in withdraw.text
    for command in ("/payouts", "/clicks", "/referrals"):
        assert "did not understand" in (await client.send(command)).text, command


async def test_a_pasted_referral_link_gives_the_partner_id(client: BotClient, lara: Services) -> None:
    await client.send("/login")
    await client.send(DEMO.key)
    other = await client.send(f"https://elsewhere.example/?rid={DEMO.rid}")
    assert "That link is for another site" in other.text and "Step 2 of 2" in other.text
    assert await lara.partner_credentials.load(client.chat.id, PLATFORM) is None
    linked = await client.send(f"{lara.site_url}/exchange/?utm_source=x&rid={DEMO.rid}")
    assert f"partner ID <b>{DEMO.rid}</b>" in linked.text


# -- iEXExchanger ----------------------------------------------------------------------------------

IEX = "iexexchanger"


@pytest.fixture
async def iex(tmp_path: Path) -> AsyncIterator[Services]:
    settings = make_settings(tmp_path, None, exchanger_platform=IEX)
    async with open_services(settings, sandbox_step_seconds=None) as services:
        yield services


@pytest.fixture
def make_iex_client(iex: Services):
    dp = build_dispatcher(iex)
    bot = Bot(FAKE_TOKEN, session=FakeTelegramSession(), default=BOT_DEFAULTS)
    return lambda user_id: BotClient(dp, bot, user_id=user_id)


async def test_iex_cabinet_lists_referred_clients_masked_and_sends_payouts_to_the_site(
    make_iex_client, iex: Services
) -> None:
    client = make_iex_client(730001)
    first = await client.send("/login")
    assert "Step 1 of 1: send your <b>API token (Bearer)</b>" in first.text
    linked = await client.send(FULL.token)
    assert linked.deleted and "Key linked" in linked.text and "can't yet do" not in linked.text

    home = await client.send("/partner")
    labels = client.last.button_labels()
    assert {"📊 Statistics", "👥 Referrals", "🔁 Exchanges", "💸 Payouts"} <= set(labels)
    assert not {"👣 Clicks", "💰 Withdraw", "🔗 Referral link"} & set(labels)
    site = client.find_button("💰 Withdraw on the site")[1].url
    assert site and site.startswith(iex.site_url)
    assert "Commands: /stats /referrals /pexchanges /payouts /logout" in home.text

    referrals = await client.send("/referrals")
    assert "Clients you referred" in referrals.text and "👤 <b>" in referrals.text
    # Customers' e-mail addresses are masked: never a whole local part.
    shown = re.findall(r"👤 <b>([^<]*)</b>", referrals.text)
    assert shown and all("***" in item for item in shown)

    withdraw = await client.send("/withdraw")
    assert "payout requests on its website" in withdraw.text and site in withdraw.text
    assert "did not understand" in (await client.send("/link")).text


async def test_iex_key_that_needs_a_signature_asks_for_its_secret(make_iex_client, iex: Services) -> None:
    client = make_iex_client(730002)
    await client.send("/login")
    asked = await client.send(HMAC.token)
    assert asked.deleted and "needs one more value" in asked.text and "Step 2 of 2" in asked.text
    wrong = await client.send("wrong-hmac-secret-0000")
    assert wrong.deleted and "does not accept this key" in wrong.text
    assert await iex.partner_credentials.load(client.chat.id, IEX) is None
    linked = await client.send(HMAC.hmac_secret)
    assert linked.deleted and "Key linked" in linked.text
    stored = await iex.partner_credentials.load(client.chat.id, IEX)
    assert stored is not None and stored.credentials.get("hmac_secret") == HMAC.hmac_secret


async def test_iex_key_without_a_scope_is_linked_and_names_it(make_iex_client) -> None:
    client = make_iex_client(730003)
    await client.send("/login")
    linked = await client.send(MISSING_SCOPE.token)
    assert "• see your payouts: tick <code>partner:payouts:read</code>" in linked.text
    payouts = await client.send("/payouts")
    assert "Tick <code>partner:payouts:read</code>" in payouts.text
