"""The partner cabinet within Telegram's limits, whatever servers, visitors or partners send.

Through the production Dispatcher: the fake session refuses what Telegram refuses (texts over 4096
visible characters, captions over 1024, more than 100 buttons…), so a screen that would be refused
shows up here as the generic "Something went wrong" instead of the screen.
"""

from __future__ import annotations

import html
import re
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from segno import DataOverflowError

from bot.logs import MAX_SECRETS, REDACTOR, SecretRedactor
from bot.partner.links import MAX_LINK_LENGTH
from bot.platforms.premiumexchanger.sandbox import SandboxExchanger
from bot.platforms.premiumexchanger.sandbox.keys import PARTNER
from bot.platforms.premiumexchanger.sandbox.partner import PayoutMethod
from bot.platforms.premiumexchanger.sandbox.texts import T
from offline.bot_client import BotClient
from tests.test_partner_bot import _link_of

TAG = re.compile(r"<[^>]+>")
WENT_WRONG = "Something went wrong"


def visible(text: str) -> int:
    return len(html.unescape(TAG.sub("", text)))


@pytest.fixture
async def partner(make_client) -> BotClient:
    client = make_client(user_id=710007, first_name="Pat")
    await client.send("/login")
    await client.send(PARTNER.login)
    assert "Key linked" in (await client.send(PARTNER.key)).text
    return client


def assert_fits(text: str) -> None:
    assert WENT_WRONG not in text
    assert 0 < visible(text) <= 4096


# -- lists -----------------------------------------------------------------------------------------


async def test_referrals_with_huge_referrers_fit_in_a_message(
    partner: BotClient, sandbox: SandboxExchanger
) -> None:
    clicks = sorted(sandbox.partners.accounts[7].clicks, key=lambda c: c.id, reverse=True)[:8]
    for n, click in enumerate(clicks):
        click.referrer = f"https://start{n}.example/<b>&" + "a" * 600 + f"-end{n}"
        click.browser = "Unknown/1.0 " + "b" * 600
        click.query_string = f"rid=7&utm_source={'s' * 300}&utm_campaign={'c' * 300}&x=<i>"
    reply = await partner.send("/referrals")
    assert_fits(reply.text)
    assert reply.text.count("🕒") == 8, "every row of the page is shown"
    for n in range(8):
        # Both ends kept, escaped.
        assert f"https://start{n}.example/&lt;b&gt;&amp;" in reply.text and f"-end{n}" in reply.text
    assert "<b>&" not in reply.text and "x=&lt;i&gt;" in reply.text
    # The same clicks feed the top sources of /stats.
    stats = await partner.send("/stats")
    assert_fits(stats.text)
    assert "Top traffic sources" in stats.text


async def test_payouts_and_exchanges_with_huge_server_texts_fit(
    partner: BotClient, sandbox: SandboxExchanger, monkeypatch: pytest.MonkeyPatch
) -> None:
    for payout in sandbox.partners.accounts[7].payouts:
        payout.pay_currency_code = "<" + "C" * 700
        payout.account = "A" * 700
    reply = await partner.send("/payouts")
    assert_fits(reply.text)
    assert reply.text.count("<b>#") == len(sandbox.partners.accounts[7].payouts)
    assert "&lt;CCC" in reply.text

    import bot.platforms.premiumexchanger.sandbox.methods as methods

    real = methods.exchange_item

    def bloated(bid, lang, with_history, partner=False):
        item = real(bid, lang, with_history, partner=partner)
        item.update(psys_give="P" * 900, psys_get="<script>" + "Q" * 900, currency_code_give="G" * 300)
        item.update(status="s" * 300)
        return item

    monkeypatch.setattr(methods, "exchange_item", bloated)
    reply = await partner.send("/pexchanges")
    assert_fits(reply.text)
    assert (
        reply.text.count("Reward:") == 8 and "<script>" not in reply.text and "&lt;script&gt;" in reply.text
    )


async def test_many_long_payout_currencies_fit_the_cabinet_and_withdraw(
    partner: BotClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.platforms.premiumexchanger.sandbox.partner as sandbox_partner

    many = {
        i: PayoutMethod(i, T(f"<u>Method {i} " + "x" * 300, f"Метод {i}"), Decimal(1), "USD", Decimal(1))
        for i in range(1, 151)
    }
    monkeypatch.setattr(sandbox_partner, "PAYOUT_METHODS", many)
    home = await partner.send("/partner")
    assert_fits(home.text)
    assert "…and 130 more." in home.text and "&lt;u&gt;Method 1 " in home.text
    withdraw = await partner.send("/withdraw")
    assert_fits(withdraw.text)
    labels = partner.last.button_labels()
    assert 2 <= len(labels) <= 100 and all(0 < len(label) <= 40 for label in labels)
    await partner.click(labels[0])
    review = await partner.send("P1048576")
    assert_fits(review.text)
    assert "Check your payout request" in review.text


# -- referral links --------------------------------------------------------------------------------


async def test_link_builder_refuses_a_value_that_makes_the_link_too_long(partner: BotClient) -> None:
    cyrillic = "я" * 100  # 100 characters, 600 once URL-encoded
    await partner.send("/link")
    await partner.click("utm_campaign")
    first = await partner.send(cyrillic)
    link = _link_of(first.text)
    assert parse_qs(urlsplit(link).query)["utm_campaign"] == [cyrillic]

    await partner.click("utm_content")
    refused = await partner.send(cyrillic)
    assert WENT_WRONG not in refused.text
    assert f"over {MAX_LINK_LENGTH} characters" in refused.text
    # Still in the step: a shorter value is taken, and the earlier one is kept.
    shorter = await partner.send("short")
    link = _link_of(shorter.text)
    query = parse_qs(urlsplit(link).query)
    assert query["utm_content"] == ["short"] and query["utm_campaign"] == [cyrillic]

    # Custom parameters too; the builder stays as it was.
    await partner.click("➕ Other parameter")
    refused = await partner.send(f"p0={cyrillic}")
    assert WENT_WRONG not in refused.text and "too long" in refused.text
    back = await partner.click("⬅️ Back")
    assert_fits(back.text)
    assert _link_of(back.text) == link
    await partner.click("➕ Other parameter")
    taken = await partner.send("p0=ok")
    link = _link_of(taken.text)
    assert parse_qs(urlsplit(link).query)["p0"] == ["ok"] and len(link) <= MAX_LINK_LENGTH

    qr = await partner.click("🔳 QR: site link")
    photo = qr.sent[-1]
    assert photo.file is not None and photo.file.kind == "photo"
    assert visible(photo.text) <= 1024 and photo.text.replace("&amp;", "&") == link


async def test_link_builder_in_russian_refuses_too_long_links(make_client) -> None:
    client = make_client(user_id=710011, language_code="ru")
    await client.send("/login")
    await client.send(PARTNER.login)
    await client.send(PARTNER.key)
    await client.send("/link")
    await client.click("utm_campaign")
    await client.send("я" * 100)
    await client.click("utm_term")
    refused = await client.send("ю" * 100)
    assert "Ссылка станет слишком длинной" in refused.text


async def test_qr_code_overflow_is_answered_politely(
    partner: BotClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import handlers.partner.links as links

    def overflow(data: str, scale: int = 8) -> bytes:
        raise DataOverflowError("Data too large")

    monkeypatch.setattr(links, "qr_png", overflow)
    await partner.send("/link")
    reply = await partner.click("🔳 QR: site link")
    assert reply.callback_answer is not None and reply.callback_answer.show_alert
    assert "too long for a QR code" in (reply.callback_answer.text or "")
    assert not reply.sent


# -- the key step and the log redactor -------------------------------------------------------------


async def test_key_step_adds_only_key_shaped_values_to_the_log_redactor(make_client) -> None:
    client = make_client(user_id=710020)
    await client.send("/login")
    await client.send(PARTNER.login)
    for word in ("order", "INFO", "partner_id", "short-key-15chr"):
        reply = await client.send(word)
        assert "does not look like your API key" in reply.text, word
        assert reply.deleted, "whatever is sent at the key step is deleted"
    assert REDACTOR.redact("INFO order partner_id short-key-15chr") == "INFO order partner_id short-key-15chr"
    # A key-shaped value is redacted from then on, whether or not the exchange accepts it.
    wrong = "not-the-right-key-abcdefgh"
    assert "does not accept this key" in (await client.send(wrong)).text
    assert REDACTOR.redact(f"key={wrong}") == "key=***"


def test_redactor_ignores_short_values_and_forgets_the_oldest() -> None:
    redactor = SecretRedactor(max_secrets=3)
    for value in (None, "", "order", "1234567"):
        redactor.add(value)
    assert len(redactor) == 0 and redactor.redact("order 1234567") == "order 1234567"
    for n in range(5):
        redactor.add(f"secret-number-{n}")
    assert len(redactor) == 3
    assert (
        redactor.redact("secret-number-0 secret-number-1 secret-number-4")
        == "secret-number-0 secret-number-1 ***"
    )
    redactor.add("secret-number-2")  # re-added: now the newest
    redactor.add("secret-number-5")
    assert redactor.redact("secret-number-2 secret-number-3") == "*** secret-number-3"
    assert MAX_SECRETS == 10_000 and SecretRedactor()._max == MAX_SECRETS
