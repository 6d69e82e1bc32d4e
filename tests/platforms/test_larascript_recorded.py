"""The Lara-script adapter reading the documentation's own example bodies (recorded/larascript/),
served over loopback HTTP by a tiny site that answers each page with the file a test chose."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from aiohttp import web

from bot.domain import errors
from bot.domain.models import OrderPhase
from bot.platforms.larascript.adapter import LaraPlatform
from bot.platforms.larascript.cache import PageCache
from bot.platforms.larascript.transport import RetryPolicy, Transport

RECORDED = Path(__file__).parent / "recorded" / "larascript"
KEY = "recorded-key-0123456789abcdef"


@dataclass
class RecordedSite:
    """Answers page N with ``pages[N]`` (status, file); the last entry answers any later page."""

    pages: dict[int, tuple[int, str]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(request.path_qs)
        page = int(request.query.get("page", "1"))
        status, name = self.pages.get(page) or self.pages[max(self.pages)]
        body = (RECORDED / name).read_text().replace("{site}", self.url)
        return web.Response(text=body, status=status, content_type="application/json")


@pytest.fixture
async def site() -> AsyncIterator[tuple[RecordedSite, LaraPlatform]]:
    recorded = RecordedSite()
    app = web.Application()
    app.router.add_get("/api/v1/partner/referral-exchanges", recorded.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    recorded.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    platform = LaraPlatform(PageCache(Transport(recorded.url, RetryPolicy(backoff=0.01))))
    try:
        yield recorded, platform
    finally:
        await platform.aclose()
        await runner.cleanup()


def cabinet(platform: LaraPlatform):
    return platform.cabinet(platform.credentials({"key": KEY, "rid": "123"}))


async def test_the_documented_example_read_to_the_end(site) -> None:
    recorded, platform = site
    recorded.pages = {1: (200, "doc_200_on_site.json"), 2: (200, "doc_200_page2.json")}
    cab = cabinet(platform)
    summary = await cab.summary()
    assert summary.exchanges == 2 and summary.completed_exchanges == 1
    assert summary.earned == {"USDT": Decimal("12.50000000")} and summary.partner_id == "123"
    read = [e async for e in cab.exchanges(1691200000, 1691240000)]
    assert [e.id for e in read] == ["1611085", "1611084"]
    done, open_ = read
    assert done.status.phase is OrderPhase.DONE and done.accrued and done.completed_time == 1691234567
    assert done.time == 1691230000 and format(done.amount, "f") == "0.05000000"
    assert (done.give_currency_code, done.get_currency_code) == ("USDTTRC20", "BTC")
    assert format(done.reward, "f") == "12.50000000" and done.reward_currency == "USDT"
    assert done.params == {
        "utm_source": "telegram", "utm_medium": "referral", "utm_campaign": "crypto_exchange_promo",
        "utm_content": "banner_usdt_to_btc", "utm_term": "usdt_btc_swap", "pid": "1101231",
    }  # fmt: skip
    assert not open_.accrued and open_.completed_time is None and open_.params == {}
    queries = [dict(parse_qsl(urlsplit(p).query)) for p in recorded.requests]
    assert queries == [
        {"perPage": "200", "per_page": "200"},
        {"page": "2", "perPage": "200", "per_page": "200"},  # the size put back on next_page
    ]


async def test_the_literal_example_links_to_another_host(site) -> None:
    recorded, platform = site
    recorded.pages = {1: (200, "doc_200.json")}
    with pytest.raises(errors.UnexpectedResponse, match="another host"):
        await cabinet(platform).summary()
    assert len(recorded.requests) == 1


async def test_the_documented_401(site) -> None:
    recorded, platform = site
    recorded.pages = {1: (401, "doc_401.json")}
    with pytest.raises(errors.CredentialsRejected) as info:
        await cabinet(platform).check_key()
    assert (info.value.text, info.value.code) == ("Invalid API key.", "4004")
    assert KEY not in str(info.value)


async def test_the_documented_422_is_retried_once_without_the_page_size(site) -> None:
    recorded, platform = site
    recorded.pages = {1: (422, "doc_422.json")}
    with pytest.raises(errors.ValidationFailed) as info:
        await cabinet(platform).summary()
    assert info.value.code == "0001" and info.value.field_errors == {
        "perPage": "The per page field value must not exceed 200."
    }
    assert [urlsplit(p).query for p in recorded.requests] == ["perPage=200&per_page=200", ""]
