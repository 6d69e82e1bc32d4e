"""GET /metrics after a real exchange through the Dispatcher against the sandbox: the counters moved,
the text is Prometheus's, and the admin's list of recent exchanger errors holds no secret."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramRetryAfter
from prometheus_client.parser import text_string_to_metric_families

from bot.app.web import start_web_server
from bot.app.wiring import Services
from bot.notifications import NotificationConfig, Notifications, build_notifications
from bot.observability import Metrics, instrument_bot
from bot.platforms.premiumexchanger.sandbox import SandboxExchanger
from bot.platforms.premiumexchanger.sandbox.keys import DEMO
from offline.bot_client import BotClient
from tests.test_exchange_flow import fill_102, only_bid

PE = "premiumexchanger"
FAST = NotificationConfig(
    poll_min_interval=0.02, poll_max_interval=0.1, per_chat_interval=0.0, outbox_recheck=0.05
)


class FakeClock:
    """Monotonic time that only moves when slept on: the sender paces without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels`` (0 when there is none)."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


@pytest.fixture
def notifications(services: Services, bot: Bot) -> Notifications:
    return build_notifications(services, bot, FAST, FakeClock())


@pytest.fixture
async def base_url(services: Services, notifications: Notifications) -> AsyncIterator[str]:
    runner = await start_web_server(services, notifications)
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def scrape(base_url: str) -> Samples:
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{base_url}/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(answer.text)


async def test_an_exchange_moves_the_counters(
    services: Services,
    sandbox: SandboxExchanger,
    bot: Bot,
    dp: Dispatcher,
    notifications: Notifications,
    base_url: str,
) -> None:
    instrument_bot(bot, services.metrics)
    dp["order_statuses"] = notifications.statuses
    before = await scrape(base_url)
    assert value(before, "bot_orders_created_total") == 0
    assert value(before, "bot_notifications_total", outcome="sent") == 0

    client = BotClient(dp, bot, user_id=920001)
    summary = await fill_102(client)
    assert "Please check your order" in summary.text
    await client.click("✅ Confirm")
    bid = only_bid(sandbox)

    # The status changes at the exchange; the tracker sees it, the sender meets flood control once.
    tracker = notifications.tracker
    await tracker.poll_once()
    sandbox.advance(bid.id)
    await tracker.poll_once()
    assert tracker.last_changes == 1
    bot.session.inject(  # type: ignore[attr-defined]
        "SendMessage",
        lambda method: TelegramRetryAfter(method=method, message="Too Many Requests", retry_after=1),
        chat_id=client.chat.id,
    )
    await notifications.sender.drain()

    after = await scrape(base_url)
    updates = value(after, "bot_updates_total", type="message") + value(
        after, "bot_updates_total", type="callback_query"
    )
    assert updates >= 9  # /exchange, two clicks, five fields, yes, confirm
    assert value(after, "bot_update_handling_seconds_count", type="callback_query") >= 4
    for method in ("get_directions", "get_direction", "get_calc", "create_bid", "bid_info"):
        assert value(after, "bot_exchanger_requests_total", platform=PE, method=method, outcome="2xx") >= 1
        assert value(after, "bot_exchanger_request_seconds_count", platform=PE, method=method) >= 1
    assert value(after, "bot_exchanger_requests_total", method="create_bid") == 1
    assert value(after, "bot_orders_created_total", platform=PE) == 1
    assert value(after, "bot_orders_recovered_total") == 0
    assert value(after, "bot_notifications_total", outcome="retried") == 1
    assert value(after, "bot_notifications_total", outcome="sent") == 1
    assert value(after, "bot_notifications_total", outcome="failed") == 0
    assert value(after, "bot_telegram_rate_limited_total", method="SendMessage") == 1
    assert value(after, "bot_outbox_pending") == 0
    assert value(after, "bot_exchanger_errors_total") == 0
    assert value(after, "bot_exchanger_last_answer_age_seconds") >= 0
    assert ("bot_tracker_lag_seconds", frozenset()) in after


async def test_exchanger_errors_are_counted_and_listed_without_secrets(
    services: Services, sandbox: SandboxExchanger, client: BotClient, base_url: str
) -> None:
    await client.send("/start")
    for _ in range(3):  # the call and both retries
        sandbox.faults.next("get_directions", "http502")
    reply = await client.send("/exchange")
    assert "not answering" in reply.text

    samples = await scrape(base_url)
    assert value(samples, "bot_exchanger_requests_total", method="get_directions", outcome="5xx") == 3
    assert (
        value(samples, "bot_exchanger_errors_total", method="get_directions", error="UnexpectedResponse")
        == 1
    )
    errors = services.metrics.recent_errors()
    assert [(e.platform, e.method, e.code, e.error) for e in errors] == [
        (PE, "get_directions", "HTTP 502", "UnexpectedResponse")
    ]
    assert "502" in errors[0].message and errors[0].at.tzinfo is not None
    assert all(DEMO.key not in e.message for e in errors)


def test_recent_errors_redact_registered_secrets_and_stay_bounded() -> None:
    from bot.domain.errors import ApiError
    from bot.logs import REDACTOR

    secret = "s3cret-partner-key-0123456789"
    REDACTOR.add(secret)
    metrics = Metrics()
    observer = metrics.exchanger("somewhere")
    for n in range(60):
        observer.failed(ApiError("7", f"key {secret} refused\n#{n} " + "x" * 500), "get_thing")
    errors = metrics.recent_errors()
    assert len(errors) == 50 and errors[-1].message.startswith("error 7: key *** refused #59")
    assert all(secret not in e.message and "\n" not in e.message and len(e.message) <= 300 for e in errors)
    assert metrics.render().count(b'bot_exchanger_errors_total{error="ApiError"') == 1


def test_two_bots_in_one_process_keep_their_own_counters() -> None:
    first, second = Metrics(), Metrics()
    first.order_created("a")
    assert b'bot_orders_created_total{platform="a"} 1.0' in first.render()
    assert b"bot_orders_created_total{" not in second.render()


class RecordingProxy:
    """A plain HTTP forward proxy on loopback: records each request line (absolute form) and passes the
    request on to where it names."""

    def __init__(self) -> None:
        self.request_lines: list[str] = []
        self.url = ""
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> RecordingProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            verb, target, _ = head[0].split(" ", 2)
            self.request_lines.append(f"{verb} {target}")
            headers = dict(line.split(": ", 1) for line in head[1:] if line)
            hop = {"host", "connection", "proxy-connection", "keep-alive", "content-length"}
            length = int(next((v for k, v in headers.items() if k.lower() == "content-length"), "0"))
            body = await reader.readexactly(length) if length else b""
            async with httpx.AsyncClient(trust_env=False) as upstream:
                answer = await upstream.request(
                    verb,
                    target,
                    content=body,
                    headers={k: v for k, v in headers.items() if k.lower() not in hop},
                )
            writer.write(
                f"HTTP/1.1 {answer.status_code} OK\r\nContent-Type: {answer.headers.get('content-type', '')}"
                f"\r\nContent-Length: {len(answer.content)}\r\nConnection: close\r\n\r\n".encode()
                + answer.content
            )
            await writer.drain()
        finally:
            writer.close()


@pytest.fixture
def clean_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


@pytest.mark.parametrize("bypassed", [False, True])
async def test_observed_exchanger_calls_keep_the_operators_proxy(
    sandbox: SandboxExchanger, clean_proxy_env: pytest.MonkeyPatch, bypassed: bool
) -> None:
    from pydantic import SecretStr

    from bot.platforms.premiumexchanger.client import PremiumExchangerClient
    from bot.platforms.premiumexchanger.models import ApiCredentials

    metrics = Metrics()
    async with RecordingProxy() as proxy:
        clean_proxy_env.setenv("HTTP_PROXY", proxy.url)
        if bypassed:
            clean_proxy_env.setenv("NO_PROXY", "127.0.0.1")
        client = PremiumExchangerClient(
            sandbox.url,
            ApiCredentials(login=DEMO.login, key=SecretStr(DEMO.key)),
            retries=0,
            observer=metrics.exchanger(PE),
        )
        async with client:
            assert await client.list_currencies()
    through_proxy = [line for line in proxy.request_lines if line.startswith(f"POST {sandbox.url}/")]
    assert (through_proxy == []) is bypassed
    assert proxy.request_lines == through_proxy
    assert b'outcome="2xx",platform="premiumexchanger"} 1.0' in metrics.render()  # still observed
