"""iEXExchanger transport over loopback: rate limits and quotas (never sent into a 429 early), upstream
failures retried only when safe, and no secret in any error or log line."""

from __future__ import annotations

import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.domain import errors
from bot.observability import Metrics
from bot.platforms.iexexchanger.adapter import IexPlatform
from bot.platforms.iexexchanger.client import IexClient
from bot.platforms.iexexchanger.errors import QuotaExhausted
from bot.platforms.iexexchanger.ratelimit import parse_retry_after
from bot.platforms.iexexchanger.sandbox import IexSandbox
from bot.platforms.iexexchanger.sandbox.keys import HMAC, KEYS
from bot.platforms.iexexchanger.webhooks_api import WebhooksApi
from tests.platforms.iexexchanger_support import cabinet_for, platform_fixture, sb_fixture, statuses  # noqa: F401

SUMMARY = "/private/partner"


async def adapter_on(sb: IexSandbox, **settings: object) -> IexPlatform:
    settings.setdefault("backoff", 0.01)
    adapter = IexPlatform(IexClient(sb.url, **settings))  # type: ignore[arg-type]
    adapter.install.cache_seconds = 0
    return adapter


async def test_long_walks_are_paced_by_the_remaining_header(platform: IexPlatform, sb: IexSandbox) -> None:
    sb.rate_limit, sb.rate_window = 2, 1.0
    cabinet = cabinet_for(platform, "full")
    for _ in range(3):
        await cabinet.summary()
    assert statuses(sb, SUMMARY) == [200, 200, 200]  # the third waited for the reset: no 429 drawn


async def test_a_429_is_waited_out_then_retried(sb: IexSandbox) -> None:
    sb.rate_limit, sb.rate_window = 1, 1.0
    first, second = await adapter_on(sb, max_rate_wait=3.0), await adapter_on(sb, max_rate_wait=3.0)
    try:
        await cabinet_for(first, "full").summary()  # another process used the key's window
        assert (await cabinet_for(second, "full").summary()).balance is not None
    finally:
        await first.aclose()
        await second.aclose()
    # the retry waited for Retry-After: sent early, the sandbox would have answered 429 again
    assert statuses(sb, SUMMARY) == [200, 429, 200]


async def test_a_long_retry_after_is_raised_and_nothing_is_sent_until_it_passes(sb: IexSandbox) -> None:
    sb.rate_limit, sb.rate_window = 1, 60.0
    adapter = await adapter_on(sb, max_rate_wait=0.5)
    try:
        cabinet = cabinet_for(adapter, "full")
        await cabinet.summary()  # X-RateLimit-Remaining: 0 from now on
        with pytest.raises(errors.RateLimited) as info:
            await cabinet.summary()
        assert info.value.retry_after is not None and 30 < info.value.retry_after <= 61
        assert statuses(sb, SUMMARY) == [200]  # the gate knew: remaining 0 until the reset
        sb.windows.clear()
        adapter.client.gate._keys.clear()  # forget what the headers said
        await cabinet.summary()
        with pytest.raises(errors.RateLimited) as info:
            await cabinet.summary()
        assert statuses(sb, SUMMARY) == [200, 200]
    finally:
        await adapter.aclose()


async def test_a_429_from_the_server_blocks_the_key(sb: IexSandbox) -> None:
    sb.faults.next(SUMMARY, "http429", seconds=40)
    adapter = await adapter_on(sb, max_rate_wait=1.0)
    try:
        cabinet = cabinet_for(adapter, "full")
        with pytest.raises(errors.RateLimited) as info:
            await cabinet.summary()
        assert info.value.retry_after == 40
        with pytest.raises(errors.RateLimited):
            await cabinet.summary()
        with pytest.raises(errors.RateLimited):
            [p async for p in cabinet.payouts(0, 2**31)]
        assert len(sb.calls()) == 1
        other = cabinet_for(adapter, "preset")  # another key is not blocked
        assert (await other.summary()).balance is not None
    finally:
        await adapter.aclose()


async def test_a_short_proxy_429_is_retried(platform: IexPlatform, sb: IexSandbox) -> None:
    sb.faults.next(SUMMARY, "http429", seconds=0)
    assert (await cabinet_for(platform, "full").summary()).balance is not None
    assert statuses(sb, SUMMARY) == ["fault:http429", 200]


async def test_an_exhausted_quota_is_told_at_once(platform: IexPlatform, sb: IexSandbox) -> None:
    key = KEYS["quota"]
    sb.quota_used[key.key_id] = (key.daily_quota or 0) - 1
    cabinet = cabinet_for(platform, "quota")
    await cabinet.summary()
    with pytest.raises(QuotaExhausted) as info:
        await cabinet.summary()
    assert isinstance(info.value, errors.RateLimited) and info.value.code == "quota_exceeded"
    assert info.value.retry_after is not None and info.value.retry_after > 0
    with pytest.raises(QuotaExhausted):
        await cabinet.summary()
    assert statuses(sb, SUMMARY) == [200, 429]


@pytest.mark.parametrize("kind", ["http502", "html200", "truncated", "http500", "disconnect"])
async def test_a_transient_failure_of_a_read_is_retried(
    platform: IexPlatform, sb: IexSandbox, kind: str
) -> None:
    sb.faults.next(SUMMARY, kind)
    assert (await cabinet_for(platform, "full").summary()).balance is not None
    assert statuses(sb, SUMMARY) == [f"fault:{kind}", 200]


@pytest.mark.parametrize(
    ("kind", "error"),
    [("http502", errors.UnexpectedResponse), ("html200", errors.UnexpectedResponse),
     ("disconnect", errors.TransportError)],
)  # fmt: skip
async def test_a_lasting_failure_is_an_unavailable_exchange(
    platform: IexPlatform, sb: IexSandbox, kind: str, error: type[Exception]
) -> None:
    sb.faults.next(SUMMARY, kind, times=3)
    with pytest.raises(error) as info:
        await cabinet_for(platform, "full").summary()
    assert isinstance(info.value, errors.ExchangerUnavailable)
    assert len(sb.calls(SUMMARY)) == 3  # the first try and two retries
    if kind == "html200":
        assert "Технические работы" in str(info.value)


async def test_a_write_is_not_retried_blindly(platform: IexPlatform, sb: IexSandbox) -> None:
    sb.faults.next("/private/webhooks", "http502", times=3)
    cabinet = cabinet_for(platform, "full")
    with pytest.raises(errors.UnexpectedResponse):
        await WebhooksApi(cabinet.client).create(
            "https://bot.example/webhooks/iexexchanger/t1", ["partner.payout.paid"]
        )
    # sent with an Idempotency-Key, so it was retried; the server replays instead of creating twice
    endpoint = await WebhooksApi(cabinet.client).create(
        "https://bot.example/webhooks/iexexchanger/t1",
        ["partner.payout.paid"],
        idempotency_key="same-key-123",
    )
    again = await WebhooksApi(cabinet.client).create(
        "https://bot.example/webhooks/iexexchanger/t1",
        ["partner.payout.paid"],
        idempotency_key="same-key-123",
    )
    assert again.id == endpoint.id and len(sb.webhooks.of_client(501)) == 1
    with pytest.raises(errors.IdempotencyConflict):
        await WebhooksApi(cabinet.client).create(
            "https://bot.example/other", ["partner.payout.paid"], idempotency_key="same-key-123"
        )


async def test_no_secret_in_errors_or_logs(
    platform: IexPlatform, sb: IexSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = HMAC.hmac_secret or ""
    cabinet = cabinet_for(platform, "hmac")
    await cabinet.check_key()
    sb.faults.next(SUMMARY, "http502", times=3)
    with pytest.raises(errors.ExchangerError) as info:
        await cabinet.summary()
    wrong = platform.cabinet(
        platform.credentials({"token": HMAC.token, "hmac_secret": "hs_wrong_secret_12345"})
    )
    with pytest.raises(errors.CredentialsRejected) as rejected:
        await wrong.check_key()
    text = (
        caplog.text
        + str(info.value)
        + repr(info.value)
        + str(rejected.value)
        + repr(cabinet)
        + repr(platform)
    )
    for value in (HMAC.token, secret, "hs_wrong_secret_12345", HMAC.token.split("|")[1]):
        assert value not in text


async def test_self_check(platform: IexPlatform, sb: IexSandbox) -> None:
    check = await platform.self_check()
    assert check.ok and "iEX Sandbox" in check.message
    elsewhere = IexPlatform(IexClient(sb.url + "/shop", retries=0))
    try:
        wrong = await elsewhere.self_check()
    finally:
        await elsewhere.aclose()
    assert not wrong.ok and "EXCHANGER_URL" in wrong.message


def test_retry_after_forms() -> None:
    assert parse_retry_after("7") == 7 and parse_retry_after("1.5") == 1.5
    assert parse_retry_after("Thu, 01 Jan 2099 00:00:10 GMT", now=4070908800.0) == 10
    assert (
        parse_retry_after("soon") is None and parse_retry_after(None) is None and parse_retry_after("-3") == 0
    )


async def test_summary_and_statistics_are_cached_briefly(sb: IexSandbox) -> None:
    adapter = await adapter_on(sb)
    adapter.install.cache_seconds = 30
    try:
        first = await cabinet_for(adapter, "full").summary()
        assert await cabinet_for(adapter, "full").summary() == first
        await cabinet_for(adapter, "full").statistics("week")
        await cabinet_for(adapter, "full").statistics("week")
        await cabinet_for(adapter, "preset").summary()  # another key has its own figures
    finally:
        await adapter.aclose()
    assert len(sb.calls(SUMMARY)) == 2 and len(sb.calls("/private/partner/statistics")) == 1


def method_labels(metrics: Metrics, family: str) -> set[str]:
    return {
        sample.labels["method"]
        for metric in text_string_to_metric_families(metrics.render().decode())
        if metric.name == family
        for sample in metric.samples
        if sample.name == family + "_total"
    }


async def test_an_error_is_counted_under_its_requests_method_label(sb: IexSandbox) -> None:
    metrics = Metrics()
    sb.faults.next(SUMMARY, "http429", seconds=40)
    adapter = await adapter_on(sb, max_rate_wait=1.0, observer=metrics.exchanger("iexexchanger"))
    try:
        with pytest.raises(errors.RateLimited):
            await cabinet_for(adapter, "full").summary()
    finally:
        await adapter.aclose()
    requests = method_labels(metrics, "bot_exchanger_requests")
    assert requests == {"GET /private/partner"}
    assert method_labels(metrics, "bot_exchanger_errors") == requests
