"""The partner cabinet through the production Dispatcher, against the PremiumExchanger sandbox's
partner data.

Expected figures are computed here from the sandbox's own records (``sandbox.partners``), with period
bounds worked out independently of bot/partner, for periods that need several API pages. The cabinet
itself knows no platform: what it offers follows ``PlatformInfo`` (a narrowed PremiumExchanger at the
end shows the screens a platform lacks disappear).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from aiogram import Bot

from bot.app.dispatcher import build_dispatcher
from bot.app.wiring import Services
from bot.domain.capabilities import Capability
from bot.domain.models import OrderRequest
from bot.partner.deeplink import encode_payload
from bot.platforms.premiumexchanger.sandbox import SandboxExchanger
from bot.platforms.premiumexchanger.sandbox.bids import exchange_item
from bot.platforms.premiumexchanger.sandbox.keys import (
    ALL_METHODS,
    DEMO,
    NEWBIE,
    PARTNER,
    RESTRICTED,
    DemoKey,
)
from handlers.partner import partner_commands
from offline.bot_client import BotClient
from tests.sandbox_forms import FIELDS_102

FAILED = {"cancel", "delete", "error"}
PLATFORM = "premiumexchanger"


def bounds(days_back: int) -> tuple[int, int]:
    """[midnight UTC ``days_back`` days ago, end of today UTC]."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=days_back)
    return int(start.timestamp()), int((today + timedelta(days=1)).timestamp()) - 1


def grouped(amount: str | Decimal) -> str:
    """Two decimals, thousands grouped with commas, as the bot shows them in English."""
    return f"{Decimal(amount):,.2f}"


def figure(text: str, label: str) -> str:
    match = re.search(re.escape(label) + r": <b>([^<]*)</b>", text)
    assert match, f"{label!r} not in {text!r}"
    return match.group(1)


async def link_key(client: BotClient, key=PARTNER):
    await client.send("/login")
    await client.send(key.login)
    return await client.send(key.key)


@pytest.fixture
async def partner(make_client) -> BotClient:
    client = make_client(user_id=700007, first_name="Pat")
    reply = await link_key(client)
    assert "Key linked" in reply.text
    return client


# -- linking ---------------------------------------------------------------------------------------


async def test_login_links_the_key_and_never_keeps_it_in_plaintext(
    make_client, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(user_id=700001)
    first = await client.send("/login")
    # The platform's fields in turn, and where its site makes keys (PlatformInfo.key_page).
    assert "Step 1 of 2: send your <b>API login</b>" in first.text and "/user-api/" in first.text
    login = await client.send(PARTNER.login)
    assert not login.deleted, "the login is not a secret"
    assert "Step 2 of 2: send your <b>API key</b>" in login.text and "I delete the message" in login.text
    reply = await link_key_step(client)

    assert [m.text for m in reply.deleted] == [PARTNER.key], "the message with the key is deleted at once"
    assert PARTNER.key not in [
        m.text for m in client.session.chat_messages(client.chat.id, include_user=True)
    ]
    assert "Key linked: <code>partner</code>, partner ID <b>7</b>" in reply.text
    assert "can't yet do" not in reply.text, "this key may do everything"
    assert PARTNER.key not in reply.text
    linked = await services.partner_credentials.load(client.chat.id, PLATFORM)
    assert linked is not None and linked.partner_id == "7" and linked.label == "partner"
    assert linked.credentials.get("key") == PARTNER.key and PARTNER.key not in repr(linked)

    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert PARTNER.key not in logged
    await services.db.connection.execute("PRAGMA wal_checkpoint(FULL)")
    database = Path(services.settings.database_path)
    for path in database.parent.glob(database.name + "*"):
        assert PARTNER.key.encode() not in path.read_bytes(), path

    shown = await client.send("/partner")
    assert "Key: <code>partner</code>" in shown.text and PARTNER.key not in shown.text


async def link_key_step(client: BotClient):
    return await client.send(PARTNER.key)


async def test_wrong_key_is_refused_and_stays_in_the_key_step(make_client, services: Services) -> None:
    client = make_client(user_id=700002)
    await client.send("/login")
    await client.send(PARTNER.login)
    wrong = await client.send("not-the-right-key-123456")
    assert "does not accept this key: the API login, API key may be wrong" in wrong.text
    assert "Send your API key again" in wrong.text
    assert wrong.deleted, "even a wrong key is deleted"
    assert await services.partner_credentials.load(client.chat.id, PLATFORM) is None
    right = await client.send(PARTNER.key)
    assert "Key linked" in right.text


async def test_an_exchange_failure_keeps_the_step_and_try_again_rechecks(
    make_client, sandbox: SandboxExchanger, services: Services
) -> None:
    client = make_client(user_id=700012)
    await client.send("/login")
    await client.send(PARTNER.login)
    for _attempt in range(3):  # the first call and its two retries
        sandbox.faults.next("test", "http502")
    failed = await client.send(PARTNER.key)
    assert failed.deleted and len(sandbox.faults) == 0
    assert "not answering" in failed.text and "Try again" in failed.text
    assert await services.partner_credentials.load(client.chat.id, PLATFORM) is None
    again = await client.click("🔄 Try again")
    assert "Key linked: <code>partner</code>" in again.text
    # The button served once: pressing it again does nothing.
    stale = await client.click_data("pt:login_retry", client.last)
    assert stale.callback_answer is not None and "no longer active" in (stale.callback_answer.text or "")


async def test_key_without_the_summary_permission_names_it(make_client, services: Services) -> None:
    client = make_client(user_id=700003)
    await client.send("/login")
    await client.send(RESTRICTED.login)
    reply = await client.send(RESTRICTED.key)
    assert "Tick <code>get_partner_info</code>" in reply.text and "/user-api/" in reply.text
    assert await services.partner_credentials.load(client.chat.id, PLATFORM) is None


async def test_key_without_some_list_permissions_is_linked_and_says_what_to_tick(
    make_client, sandbox: SandboxExchanger, services: Services
) -> None:
    methods = ALL_METHODS - {"get_partner_links", "get_partner_payouts"}
    sandbox.keys["halfway"] = DemoKey("halfway", "halfway-key-55555555555555555555", 7, methods)
    client = make_client(user_id=700013)
    await client.send("/login")
    await client.send("halfway")
    reply = await client.send("halfway-key-55555555555555555555")
    assert "Key linked: <code>halfway</code>" in reply.text and "can't yet do" in reply.text
    assert "• see the clicks on your links: tick <code>get_partner_links</code>" in reply.text
    assert "• see your payouts: tick <code>get_partner_payouts</code>" in reply.text
    assert "get_partner_exchanges" not in reply.text
    assert await services.partner_credentials.load(client.chat.id, PLATFORM) is not None
    # The screen stays, and names the permission when used.
    clicks = await client.send("/clicks")
    assert (
        "Tick <code>get_partner_links</code>" in clicks.text and "🔄 Try again" in client.last.button_labels()
    )


async def test_system_key_is_refused(make_client, services: Services) -> None:
    client = make_client(user_id=700004)
    await client.send("/login")
    await client.send(DEMO.login)
    reply = await client.send(DEMO.key)
    assert "does not belong to a partner account" in reply.text
    assert await services.partner_credentials.load(client.chat.id, PLATFORM) is None


async def test_bad_login_stays_in_the_step(make_client) -> None:
    client = make_client(user_id=700005)
    await client.send("/login")
    reply = await client.send("two words")
    assert "does not look like your API login" in reply.text
    assert "Step 2 of 2" in (await client.send(PARTNER.login)).text
    cyrillic = await client.send("ключ-ключ-ключ-ключ-ключ")
    assert "only Latin letters" in cyrillic.text and cyrillic.deleted


async def test_group_chat_is_refused_and_shows_no_partner_data(make_client, services: Services) -> None:
    group = make_client(user_id=700006, chat_id=-100700006, chat_type="group")
    for command in (
        "/login",
        "/partner",
        "/stats",
        "/clicks",
        "/referrals",
        "/payouts",
        "/withdraw",
        "/link",
    ):
        reply = await group.send(command)
        assert "private chat" in reply.text, command
        assert "Balance" not in reply.text
    for data in ("pt:home", "m:partner", "pts:show:m:0:0", "ptw:confirm:1:abc", "pt:login_retry"):
        reply = await group.click_data(data, group.last)
        assert reply.callback_answer is not None and reply.callback_answer.show_alert, data
        assert "private chat" in (reply.callback_answer.text or "")
        assert not reply.shown
    assert await services.partner_credentials.load(group.chat.id, PLATFORM) is None


async def test_commands_without_a_key_explain_login(make_client) -> None:
    client = make_client(user_id=700008)
    for command in ("/partner", "/stats", "/clicks", "/pexchanges", "/payouts", "/withdraw", "/link"):
        reply = await client.send(command)
        assert "/login" in reply.text, command


async def test_logout_forgets_the_key_and_login_replaces_it(partner: BotClient, services: Services) -> None:
    again = await partner.send("/login")
    assert "Now linked: <code>partner</code>" in again.text
    await partner.send("/cancel")
    await partner.send("/logout")
    reply = await partner.click("🚪 Yes, unlink it")
    assert "unlinked" in reply.text
    assert await services.partner_credentials.load(partner.chat.id, PLATFORM) is None
    assert "/login" in (await partner.send("/stats")).text


# -- screens ---------------------------------------------------------------------------------------


async def test_partner_screen_matches_get_partner_info(partner: BotClient, sandbox: SandboxExchanger) -> None:
    reply = await partner.send("/partner")
    info = sandbox.partners.info(7, sandbox.bids.values(), "en")
    assert "Partner ID: <b>7</b>" in reply.text
    assert f"Balance: <b>{grouped(info['balance'])}</b>" in reply.text
    assert "Minimum payout: 10.00" in reply.text
    for item in info["items"]:
        assert f"• {item['title']}: {grouped(item['amount'])} · {item['comission']}" in reply.text
    assert {
        "📊 Statistics",
        "👣 Clicks",
        "🔁 Exchanges",
        "💸 Payouts",
        "💰 Withdraw",
        "🔗 Referral link",
    } <= set(partner.last.button_labels())
    assert "👥 Referrals" not in partner.last.button_labels(), "PremiumExchanger lists no registered clients"
    assert "Commands: /stats /clicks /pexchanges /payouts /withdraw /link /logout" in reply.text


async def test_stats_of_30_days_match_the_sandbox(partner: BotClient, sandbox: SandboxExchanger) -> None:
    start, end = bounds(29)
    clicks = [c for c in sandbox.partners.accounts[7].clicks if start <= c.time <= end]
    exchanges = [b for b in sandbox.partners.exchanges(7, sandbox.bids.values()) if start <= b.time <= end]
    assert len(clicks) > 500, "the period must need several pages of 500"

    await partner.send("/stats")
    reply = await partner.click("30 days")
    text = reply.text
    assert "30 days" in text and "(UTC)" in text
    completed = [b for b in exchanges if b.status == "success"]
    assert figure(text, "Clicks") == str(len(clicks))
    assert figure(text, "Unique visitors") == str(len({c.user_hash for c in clicks}))
    assert figure(text, "Exchanges referred") == str(len(exchanges))
    assert figure(text, "Exchanges completed") == str(len(completed))
    conversion = (Decimal(len(completed) * 100) / len(clicks)).quantize(Decimal("0.01"))
    assert figure(text, "Conversion (completed ÷ clicks)") == f"{conversion}%"
    accrued = sum((b.partner_reward for b in completed), Decimal(0))
    pending = sum((b.partner_reward for b in exchanges if b.status not in FAILED | {"success"}), Decimal(0))
    assert figure(text, "Rewards accrued") == grouped(accrued)
    assert figure(text, "Rewards pending") == grouped(pending)

    sources = Counter()
    for click in clicks:
        params = parse_qs(click.query_string)
        sources[(params.get("utm_source", [""])[0], params.get("utm_campaign", [""])[0])] += 1
    (top_source, top_campaign), top_count = sorted(sources.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    label = f"{top_source} · {top_campaign}" if top_source else "no UTM tags"
    assert f"1. {label}: {top_count}" in text


async def test_stats_switch_periods_and_custom_range(partner: BotClient, sandbox: SandboxExchanger) -> None:
    await partner.send("/stats")
    today = datetime.now(UTC).date()
    reply = await partner.click("Today")
    start, end = bounds(0)
    expected = sum(1 for c in sandbox.partners.accounts[7].clicks if start <= c.time <= end)
    assert figure(reply.text, "Clicks") == str(expected)
    assert "• Today •" in partner.last.button_labels()

    await partner.click("📅 Dates…")
    bad = await partner.send("yesterday please")
    assert "could not read two dates" in bad.text
    backwards = await partner.send(f"{today:%d.%m.%Y}-{today - timedelta(days=3):%d.%m.%Y}")
    assert "before the first" in backwards.text
    first, last = today - timedelta(days=40), today - timedelta(days=35)
    good = await partner.send(f"{first:%d.%m.%Y}-{last:%d.%m.%Y}")
    start = int(datetime(first.year, first.month, first.day, tzinfo=UTC).timestamp())
    end = int(datetime(last.year, last.month, last.day, tzinfo=UTC).timestamp()) + 86400 - 1
    expected = sum(1 for c in sandbox.partners.accounts[7].clicks if start <= c.time <= end)
    assert f"{first.isoformat()} – {last.isoformat()} (UTC)" in good.text
    assert figure(good.text, "Clicks") == str(expected)
    # The custom period survives in its buttons: the chart is of those dates.
    chart = await partner.click("📈 Chart")
    assert chart.sent[-1].file is not None and first.isoformat() in chart.sent[-1].file.filename


async def test_chart_is_a_png_and_an_empty_period_says_so(partner: BotClient, make_client) -> None:
    await partner.send("/stats")
    reply = await partner.click("📈 Chart")
    photo = reply.sent[-1]
    assert photo.file is not None and photo.file.kind == "photo"
    assert photo.file.content.startswith(b"\x89PNG\r\n\x1a\n") and len(photo.file.content) > 5000

    newbie = make_client(user_id=700009)
    await link_key(newbie, NEWBIE)
    await newbie.send("/stats")
    empty = await newbie.click("📈 Chart")
    assert "nothing to draw" in empty.text and empty.sent[-1].file is None


async def test_clicks_are_paged_newest_first(partner: BotClient, sandbox: SandboxExchanger) -> None:
    clicks = sorted(sandbox.partners.accounts[7].clicks, key=lambda c: c.id, reverse=True)
    # /referrals, the command's name before the cabinet served other platforms, shows the same list.
    assert (await partner.send("/referrals")).text == (await partner.send("/clicks")).text
    first = await partner.send("/clicks")
    stamp = lambda c: datetime.fromtimestamp(c.time, UTC).strftime("%Y-%m-%d %H:%M")  # noqa: E731
    assert first.text.count("🕒") == 8
    assert stamp(clicks[0]) in first.text and "rid=7" in first.text
    second = await partner.click("Older ▶️")
    assert "Page 2 of" in second.text and stamp(clicks[8]) in second.text
    assert "◀️ Newer" in partner.last.button_labels()


async def test_partner_exchanges_list_and_csv_match_the_sandbox(
    partner: BotClient, sandbox: SandboxExchanger
) -> None:
    exchanges = sorted(sandbox.partners.exchanges(7, sandbox.bids.values()), key=lambda b: b.id, reverse=True)
    reply = await partner.send("/pexchanges")
    assert f"<b>#{exchanges[0].id}</b>" in reply.text and "Reward:" in reply.text

    await partner.click("📄 Export CSV")
    export = await partner.click("Last month")
    document = export.sent[-1].file
    assert document is not None and document.kind == "document" and document.filename.endswith(".csv")
    today = datetime.now(UTC).date()
    last_day = today.replace(day=1) - timedelta(days=1)
    start = int(datetime(last_day.year, last_day.month, 1, tzinfo=UTC).timestamp())
    end = int(datetime(today.year, today.month, 1, tzinfo=UTC).timestamp()) - 1
    # What the API wrote for each exchange of the period, as the sandbox writes it on the wire.
    expected = {
        b.id: exchange_item(b, "en", False, partner=True) for b in exchanges if start <= b.time <= end
    }
    rows = list(csv.DictReader(io.StringIO(document.content.decode("utf-8"))))
    assert len(rows) == len(expected) > 0
    for row in rows:
        wire = expected[int(row["id"])]
        assert row["status"] == wire["status"]
        assert row["completed"] == str(wire["exchange_success"]) and row["accrued"] == str(wire["accrued"])
        assert row["amount_give"] == wire["amount_give"] and row["amount_get"] == wire["amount_get"]
        assert row["partner_reward"] == wire["partner_reward"]
        assert row["give_currency"] == wire["currency_code_give"]
        assert row["date_server"] == wire["date"] and int(row["time_unix"]) == wire["time"]
    assert f"{len(rows)} rows" in export.sent[-1].text


async def test_payouts_list_and_csv(partner: BotClient, sandbox: SandboxExchanger) -> None:
    payouts = sorted(sandbox.partners.accounts[7].payouts, key=lambda p: p.id, reverse=True)
    reply = await partner.send("/payouts")
    for status in ("⏳ pending", "✅ paid", "❌ refused", "↩️ cancelled"):
        assert status in reply.text
    for payout in payouts:
        assert f"<b>#{payout.id}</b>" in reply.text
        assert payout.account not in reply.text, "accounts are masked"
        assert f"<code>{payout.account[:2]}" in reply.text
    await partner.click("📄 Export CSV")
    await partner.click("📅 Dates…")
    today = datetime.now(UTC).date()
    export = await partner.send(f"{today - timedelta(days=80)} {today}")
    rows = list(csv.DictReader(io.StringIO(export.sent[-1].file.content.decode("utf-8"))))
    assert [row["id"] for row in rows] == [str(p.id) for p in payouts]
    for row, payout in zip(rows, payouts, strict=True):
        wire = payout.item()
        assert row["pay_amount"] == wire["pay_amount"] and row["pay_currency"] == wire["pay_currency_code"]
        assert row["original_amount"] == wire["original_amount"]
        assert row["status"] == {0: "pending", 1: "paid", 2: "refused", 3: "cancelled"}[payout.status]


# -- payouts ---------------------------------------------------------------------------------------


async def test_withdraw_below_minimum_is_refused_before_the_api(
    make_client, sandbox: SandboxExchanger
) -> None:
    newbie = make_client(user_id=700010)
    await link_key(newbie, NEWBIE)
    reply = await newbie.send("/withdraw")
    assert "below the minimum payout of <b>10.00</b>" in reply.text
    assert not any("Confirm" in label for label in newbie.last.button_labels())
    assert sandbox.partners.accounts[9].payouts == []


async def _review(client: BotClient, account: str = "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE"):
    await client.send("/withdraw")
    await client.click(re.compile("Tether TRC20"))
    return await client.send(account)


async def test_double_confirm_requests_one_payout(partner: BotClient, sandbox: SandboxExchanger) -> None:
    before = len(sandbox.partners.accounts[7].payouts)
    review = await _review(partner)
    assert "Check your payout request" in review.text and "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE" in review.text
    shown, button = partner.find_button("✅ Confirm")
    first = await partner.click_data(button.callback_data, shown)
    second = await partner.click_data(button.callback_data, shown)
    payouts = sandbox.partners.accounts[7].payouts
    assert len(payouts) == before + 1
    payout_id = str(payouts[-1].id)
    assert f"Payout ID: <b>{payout_id}</b>" in first.text
    assert second.callback_answer is not None and f"Payout ID: {payout_id}" in second.callback_answer.text
    assert f"Payout ID: <b>{payout_id}</b>" in partner.last.text
    assert payouts[-1].account == "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE" and payouts[-1].method_id == 1


async def test_server_refusal_is_translated(partner: BotClient, sandbox: SandboxExchanger) -> None:
    await _review(partner, "P1048576")
    # The balance is paid out elsewhere between review and Confirm: the exchange refuses.
    sandbox.partners.add_payout(7, "2", "P1048576", sandbox.bids.values(), sandbox.now)
    reply = await partner.click("✅ Confirm")
    assert "refused the payout: your balance is below the minimum payout." in reply.text


async def test_bad_account_stays_in_the_step(partner: BotClient) -> None:
    await partner.send("/withdraw")
    await partner.click(re.compile("Payeer"))
    reply = await partner.send("   ")
    assert "does not look like an account" in reply.text
    assert "Check your payout request" in (await partner.send("P1048576")).text


# -- links -----------------------------------------------------------------------------------------


def _link_of(text: str) -> str:
    return re.search(r"<code>(http[^<]*\?rid=[^<]*)</code>", text).group(1).replace("&amp;", "&")


async def test_link_builder_utm_custom_params_and_rid_protection(
    partner: BotClient, services: Services
) -> None:
    reply = await partner.send("/link")
    assert _link_of(reply.text) == services.site_url + "/?rid=7"
    await partner.click("📣 Channel")
    await partner.click("utm_campaign")
    await partner.send("spring sale/ü&x=1")
    await partner.click("➕ Other parameter")
    refused = await partner.send("rid=99")
    assert "can't be changed" in refused.text
    refused = await partner.send("utm_source=vk")
    assert "own buttons" in refused.text
    reply = await partner.send("sub_id=a b&c")
    link = _link_of(reply.text)
    assert " " not in link and "ü" not in link
    query = parse_qs(urlsplit(link).query)
    assert query == {
        "rid": ["7"],
        "utm_source": ["telegram"],
        "utm_medium": ["channel"],
        "utm_campaign": ["spring sale/ü&x=1"],
        "sub_id": ["a b&c"],
    }
    assert "campaign tag: springsalex1" in reply.text

    qr = await partner.click("🔳 QR: site link")
    photo = qr.sent[-1]
    assert photo.file.kind == "photo" and photo.file.content.startswith(b"\x89PNG")
    assert photo.text.replace("&amp;", "&") == link


async def test_link_to_a_direction(partner: BotClient, sandbox: SandboxExchanger) -> None:
    await partner.send("/link")
    reply = await partner.click("🎯 Exchange direction…")
    assert "What does the customer give?" in reply.text
    give_label = partner.last.buttons[0][0].text
    await partner.click(give_label)
    get_label = partner.last.buttons[0][0].text
    reply = await partner.click(get_label)
    link = _link_of(reply.text)
    assert f"{give_label} → {get_label}" in reply.text
    assert link.startswith(sandbox.url) and link.endswith("?rid=7") and urlsplit(link).path != "/"
    home = await partner.click("🏠 Home page")
    assert _link_of(home.text) == sandbox.url + "/?rid=7"


# -- deep links ------------------------------------------------------------------------------------


async def _deep_link(partner: BotClient, campaign: str | None = None) -> str:
    await partner.send("/link")
    if campaign:
        await partner.click("utm_campaign")
        await partner.send(campaign)
    match = re.search(
        r"<code>(https://t\.me/exchanger_demo_bot\?start=([A-Za-z0-9_-]+))</code>", partner.last.text
    )
    assert match and len(match.group(2)) <= 64
    return match.group(2)


async def test_deep_link_attributes_the_customer_and_reaches_create_bid(
    partner: BotClient, make_client, services: Services, sandbox: SandboxExchanger
) -> None:
    payload = await _deep_link(partner, "spring")
    customer = make_client(user_id=800001, first_name="Cus")
    reply = await customer.send(f"/start {payload}")
    assert "Hello, Cus" in reply.text
    attribution = await services.chat_settings.get_attribution(customer.chat.id, PLATFORM)
    assert attribution is not None and attribution.partner == "7" and attribution.campaign == "spring"

    # First partner wins: a later genuine link of another partner changes nothing.
    await customer.send("/start " + encode_payload(services.link_signing_key, "9", "other"))
    assert (await services.chat_settings.get_attribution(customer.chat.id, PLATFORM)).partner == "7"

    # A partner opening their own link is not their own referral.
    await partner.send(f"/start {payload}")
    assert await services.chat_settings.get_attribution(partner.chat.id, PLATFORM) is None

    stats = await partner.send("/stats")
    assert "• spring: 1" in stats.text

    request = OrderRequest(direction_id="102", amount=Decimal("10000"), fields=FIELDS_102)
    direction = await services.catalogue.direction(None, "102")
    placed = await services.ordering.place(
        chat_id=customer.chat.id, key=services.ordering.new_key(), direction=direction, request=request
    )
    assert sandbox.bids[int(placed.order.id)].partner_id == 7


@pytest.mark.parametrize("mangle", ["partner", "tag", "mac", "truncate"])
async def test_forged_or_garbled_payload_is_ignored(
    partner: BotClient, make_client, services: Services, mangle: str
) -> None:
    payload = await _deep_link(partner, "spring")
    forged = {
        "partner": payload.replace("r7-", "r9-", 1),
        "tag": payload.replace("-spring-", "-summer-", 1),
        "mac": payload[:-1] + ("A" if payload[-1] != "A" else "B"),
        "truncate": payload[:-3],
    }[mangle]
    customer = make_client(user_id=800100 + len(mangle))
    reply = await customer.send(f"/start {forged}")
    assert "Hello" in reply.text
    assert await services.chat_settings.get_attribution(customer.chat.id, PLATFORM) is None


async def test_the_cabinet_speaks_russian(make_client, sandbox: SandboxExchanger) -> None:
    client = make_client(user_id=700011, language_code="ru")
    reply = await link_key(client)
    assert "Ключ привязан" in reply.text
    stats = await client.send("/stats")
    assert "Статистика" in stats.text and "Переходов" in stats.text and "(по UTC)" in stats.text
    assert "📈 График" in client.last.button_labels()
    home = await client.send("/partner")
    assert "Партнёрский кабинет" in home.text and "Тезер TRC20 USDT" in home.text


# -- a platform that serves less -------------------------------------------------------------------

NARROWED = frozenset({Capability.PARTNER_CLICKS, Capability.PAYOUT_REQUEST, Capability.REFERRAL_LINKS})


@pytest.fixture
def narrowed(services: Services, bot: Bot) -> BotClient:
    """The PremiumExchanger adapter declaring no clicks, no payout request and no link builder, with a
    payout page on its site: the Dispatcher is built for that."""
    info = services.platform.info
    services.platform.info = dataclasses.replace(  # type: ignore[misc]
        info, capabilities=info.capabilities - NARROWED, payout_page="/partner-payouts/"
    )
    return BotClient(build_dispatcher(services), bot, user_id=700020)


async def test_only_what_the_platform_serves_is_offered(narrowed: BotClient, services: Services) -> None:
    commands = [command for command, _text in partner_commands(services.platform.info)]
    assert commands == ["partner", "stats", "pexchanges", "payouts", "login", "logout"]
    reply = await link_key(narrowed)
    assert "Key linked" in reply.text
    home = await narrowed.send("/partner")
    labels = narrowed.last.button_labels()
    assert {"📊 Statistics", "🔁 Exchanges", "💸 Payouts"} <= set(labels)
    assert not {"👣 Clicks", "💰 Withdraw", "🔗 Referral link"} & set(labels)
    assert "Commands: /stats /pexchanges /payouts /logout" in home.text
    payout_page = services.site_url + "/partner-payouts/"
    assert narrowed.find_button("💰 Withdraw on the site")[1].url == payout_page

    # /withdraw says where on the site payouts are requested; the other screens don't exist.
    withdraw = await narrowed.send("/withdraw")
    assert "payout requests on its website" in withdraw.text and payout_page in withdraw.text
    for command in ("/clicks", "/referrals", "/link"):
        reply = await narrowed.send(command)
        assert "did not understand" in reply.text, command
    for data in ("pt:clk", "pt:wd", "pt:link", "ptl:clk:0:w:0:0:show", "ptk:show::0"):
        reply = await narrowed.click_data(data, narrowed.last)
        assert reply.callback_answer is not None and "no longer active" in (reply.callback_answer.text or "")

    # Statistics without clicks: exchange figures only.
    stats = await narrowed.send("/stats")
    assert (
        "Exchanges referred" in stats.text and "Clicks" not in stats.text and "Conversion" not in stats.text
    )
    payouts = await narrowed.send("/payouts")
    assert "Your payouts" in payouts.text
    assert narrowed.find_button("💰 Withdraw on the site")[1].url == payout_page
