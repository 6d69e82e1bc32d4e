"""Every bad answer of the reference page, over HTTP to the Lara sandbox: what the client does and
which neutral error goes up (each on a fresh cache, so nothing older can be served instead)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl, urlsplit

import pytest

from bot.domain import errors
from bot.platforms.larascript.adapter import LaraPlatform
from bot.platforms.larascript.sandbox import LaraSandbox
from bot.platforms.larascript.sandbox.keys import DEMO
from bot.platforms.larascript.transport import RetryPolicy
from tests.platforms.larascript_harness import Clock, open_lara

PAGES = 5  # 902 rows on the wire at 200 a page


@pytest.fixture
async def lara() -> AsyncIterator[tuple[LaraPlatform, LaraSandbox, Clock]]:
    async with open_lara() as opened:
        yield opened


def cabinet(platform: LaraPlatform):
    return platform.cabinet(platform.credentials({"key": DEMO.key, "rid": DEMO.rid}))


def queries(sb: LaraSandbox) -> list[dict[str, str]]:
    return [dict(parse_qsl(urlsplit(path).query)) for path in sb.requests]


# -- answers that are not the API's JSON -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["html200", "garbage200", "nodata200", "http500", "http502"])
async def test_a_bad_answer_is_retried_then_reported(lara, kind: str) -> None:
    platform, sb, _clock = lara
    sb.faults.next(kind, times=3)
    with pytest.raises(errors.UnexpectedResponse) as info:
        await cabinet(platform).summary()
    assert info.value.transient and isinstance(info.value, errors.ExchangerUnavailable)
    assert len(sb.requests) == 3  # three tries of the first page, no walk on garbage
    assert platform.cache.peek(platform.credentials({"key": DEMO.key, "rid": "1"}).values["key"]) is None


@pytest.mark.parametrize("kind", ["html200", "garbage200", "http502", "disconnect"])
async def test_one_bad_answer_mid_walk_is_retried(lara, kind: str) -> None:
    platform, sb, _clock = lara
    sb.faults.next(kind, page=3)
    summary = await cabinet(platform).summary()
    assert summary.exchanges == len(sb.counted(DEMO.key))
    assert len(sb.requests) == PAGES + 1


async def test_a_failure_mid_walk_fails_the_whole_read(lara) -> None:
    platform, sb, _clock = lara
    sb.faults.next("http500", page=4, times=3)
    with pytest.raises(errors.UnexpectedResponse):
        await cabinet(platform).summary()
    assert len(sb.requests) == 3 + 3  # pages 1-3, then page 4 three times; nothing partial is kept
    summary = await cabinet(platform).summary()
    assert summary.exchanges == len(sb.counted(DEMO.key))


async def test_maintenance_503(lara) -> None:
    platform, sb, _clock = lara
    sb.faults.next("http503", seconds=120, times=3)
    with pytest.raises(errors.Maintenance) as info:
        await cabinet(platform).summary()
    assert info.value.text == "Service Unavailable"


async def test_dropped_connections(lara) -> None:
    platform, sb, _clock = lara
    sb.faults.next("disconnect", times=3)
    with pytest.raises(errors.TransportError) as info:
        await cabinet(platform).summary()
    assert not info.value.may_have_been_processed  # a read


async def test_a_slow_answer_times_out() -> None:
    async with open_lara(policy=RetryPolicy(attempts=1, timeout=0.3)) as (platform, sb, _clock):
        sb.faults.next("delay", seconds=2)
        with pytest.raises(errors.ExchangerTimeout):
            await cabinet(platform).summary()


async def test_404_is_not_retried(lara) -> None:
    platform, sb, _clock = lara
    sb.faults.next("http404", times=3)
    with pytest.raises(errors.UnexpectedResponse) as info:
        await cabinet(platform).summary()
    assert info.value.status_code == 404 and not info.value.transient
    assert len(sb.requests) == 1


# -- 429 and Retry-After ---------------------------------------------------------------------------------


async def test_a_short_retry_after_is_waited_for(lara) -> None:
    platform, sb, _clock = lara
    sb.faults.next("http429", seconds=1)
    started = time.monotonic()
    summary = await cabinet(platform).summary()
    assert summary.exchanges == len(sb.counted(DEMO.key))
    assert time.monotonic() - started >= 1.0  # Retry-After: 1 was honoured
    assert len(sb.requests) == PAGES + 1


async def test_a_long_retry_after_goes_up_as_rate_limited(lara) -> None:
    platform, sb, _clock = lara
    sb.faults.next("http429", seconds=30)
    with pytest.raises(errors.RateLimited) as info:
        await cabinet(platform).summary()
    assert info.value.retry_after == 30 and info.value.text == "Too Many Attempts."
    assert len(sb.requests) == 1
    with pytest.raises(errors.RateLimited) as again:  # nothing is sent until the wait is over
        await cabinet(platform).check_key()
    assert again.value.retry_after and 0 < again.value.retry_after <= 30 and len(sb.requests) == 1


async def test_the_sandbox_throttles_and_the_client_backs_off(lara) -> None:
    platform, sb, _clock = lara
    sb.throttle_limit = 2
    with pytest.raises(errors.RateLimited) as info:
        await cabinet(platform).summary()
    assert info.value.retry_after and info.value.retry_after > 2


# -- the page size -----------------------------------------------------------------------------------------


async def test_both_spellings_of_the_page_size_are_sent_and_kept(lara) -> None:
    platform, sb, _clock = lara
    await cabinet(platform).summary()
    sent = queries(sb)
    assert len(sent) == PAGES
    assert all(q.get("perPage") == "200" and q.get("per_page") == "200" for q in sent)
    assert [q.get("page") for q in sent] == [None, "2", "3", "4", "5"]


@pytest.mark.parametrize("name", ["perPage", "per_page"])
async def test_whichever_spelling_the_site_reads(lara, name: str) -> None:
    platform, sb, _clock = lara
    sb.size_param = name
    sb.next_keeps_size = True  # the link keeps it: not added twice
    summary = await cabinet(platform).summary()
    assert summary.exchanges == 900 and len(sb.requests) == PAGES
    assert all(path.count(f"{name}=") == 1 for path in sb.requests)


async def test_a_422_on_the_page_size_walks_at_the_default_size(lara) -> None:
    platform, sb, _clock = lara
    sb.max_per_page = 100  # an install with a lower limit
    summary = await cabinet(platform).summary()
    assert summary.exchanges == 900
    sent = queries(sb)
    assert sent[0].get("perPage") == "200"  # refused with 422 ...
    assert all("perPage" not in q and "per_page" not in q for q in sent[1:])  # ... then without it
    assert len(sent) == 1 + -(-902 // 15)  # Laravel's default 15 a page


async def test_a_site_that_ignores_the_page_size(lara) -> None:
    platform, sb, _clock = lara
    sb.size_param = None
    summary = await cabinet(platform).summary()
    assert summary.exchanges == 900 and len(sb.requests) == -(-902 // 15)


# -- next_page ---------------------------------------------------------------------------------------------


async def test_next_page_on_another_host_is_never_followed(lara) -> None:
    platform, sb, _clock = lara
    sb.faults.next("offsite", page=2)
    with pytest.raises(errors.UnexpectedResponse, match="another host"):
        await cabinet(platform).summary()
    assert len(sb.requests) == 2  # pages 1 and 2 on the site; nothing anywhere else


async def test_next_page_on_another_port_is_never_followed(lara) -> None:
    platform, sb, _clock = lara
    sb.link_base = sb.url.rsplit(":", 1)[0] + ":1"
    with pytest.raises(errors.UnexpectedResponse, match="another port"):
        await cabinet(platform).summary()
    assert len(sb.requests) == 1


async def test_a_link_with_the_other_scheme_is_rebuilt_on_the_configured_one(lara) -> None:
    platform, sb, _clock = lara
    sb.faults.next("http_link", page=1)
    summary = await cabinet(platform).summary()
    assert summary.exchanges == 900 and len(sb.requests) == PAGES


async def test_a_next_page_loop_stops_the_walk(lara) -> None:
    platform, sb, _clock = lara
    sb.faults.next("loop", page=2)
    await cabinet(platform).summary()
    assert len(sb.requests) == 2


async def test_a_page_number_going_back_stops_the_walk(lara) -> None:
    platform, sb, _clock = lara
    sb.faults.next("back", page=3)
    await cabinet(platform).summary()
    assert len(sb.requests) == 3


async def test_a_new_exchange_mid_walk_is_counted_once(lara) -> None:
    platform, sb, _clock = lara
    added = []

    def arrive() -> None:
        added.append(sb.book.add(DEMO.key, created_at=int(sb.now()), completed=False))

    sb.faults.next("hook", page=2, hook=arrive)  # pushes every row one place down
    read = [e async for e in cabinet(platform).exchanges(0, 2**31)]
    # every row once: the undated one is in no period, the new one arrived on page 1 (already read)
    assert len(read) == len({e.id for e in read}) == len(sb.counted(DEMO.key)) - 2
    assert added[0].key not in {e.id for e in read}


async def test_a_paginator_that_never_ends_is_capped(lara) -> None:
    platform, sb, _clock = lara
    sb.endless = True
    summary = await cabinet(platform).summary()
    assert summary.exchanges == 900
    assert len(sb.requests) == PAGES + 1  # counts.last_page + 1, not forever


@pytest.mark.parametrize(
    ("link", "site", "expected"),
    [
        ("http://ex.com/api/v1/partner/referral-exchanges?page=2", "https://ex.com", "https://ex.com/api/v1/partner/referral-exchanges?page=2"),
        ("https://ex.com/api/v1/partner/referral-exchanges?page=2", "https://ex.com", "https://ex.com/api/v1/partner/referral-exchanges?page=2"),
        ("/api/v1/partner/referral-exchanges?page=3", "https://ex.com", "https://ex.com/api/v1/partner/referral-exchanges?page=3"),
        ("https://ex.com.evil.net/api/v1/x?page=2", "https://ex.com", None),
        ("https://evil.net/api/v1/x?page=2", "https://ex.com", None),
        ("https://ex.com:8443/api/v1/x?page=2", "https://ex.com", None),
        ("ftp://ex.com/api/v1/x?page=2", "https://ex.com", None),
    ],
)  # fmt: skip
def test_next_page_is_followed_only_on_the_configured_site(
    link: str, site: str, expected: str | None
) -> None:
    from bot.platforms.larascript.walk import on_site

    if expected is None:
        with pytest.raises(errors.UnexpectedResponse):
            on_site(link, site)
    else:
        assert on_site(link, site) == expected
