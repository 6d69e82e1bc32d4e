"""GET /health on the bot's real HTTP server: ok, degraded or failing, with reasons and the status
code, from a real write to the database, the sandbox exchanger, the update intake and the outbox."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.app import health
from bot.app.health import HealthMonitor, IntakeState, Level
from bot.app.web import start_web_server
from bot.app.wiring import Services
from bot.notifications import NotificationConfig, notifications_running
from bot.platforms.premiumexchanger.sandbox import SandboxExchanger
from bot.storage.outbox import OutboxRepository
from tests.bot_process import BOT_TOKEN
from tests.telegram_emulator import TelegramEmulator


async def get_health(services: Services, monitor: HealthMonitor) -> httpx.Response:
    runner = await start_web_server(services, monitor=monitor)
    try:
        host, port = runner.addresses[0][:2]
        async with httpx.AsyncClient(timeout=30) as http:
            return await http.get(f"http://{host}:{port}/health")
    finally:
        await runner.cleanup()


@pytest.fixture
async def running(services: Services, bot: Bot) -> AsyncIterator[HealthMonitor]:
    config = NotificationConfig(poll_min_interval=0.05, outbox_recheck=0.05)
    async with notifications_running(services, bot, config) as notifications:
        intake = IntakeState("polling", running=True)
        yield HealthMonitor(services, intake=intake, notifications=notifications)


async def test_all_well_is_ok_and_asks_a_quiet_exchanger_itself(
    services: Services, running: HealthMonitor, sandbox: SandboxExchanger
) -> None:
    assert services.metrics.last_exchanger_answer() is None
    response = await get_health(services, running)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["reasons"] == [], body
    assert set(body["checks"]) == {"database", "exchanger", "updates", "notifications"}
    # Nothing had called the exchanger: the monitor's own check did, and noted the answer.
    assert services.metrics.last_exchanger_answer() is not None
    # The database check wrote.
    assert await services.db.get_meta(health.PROBE_META) is not None


async def test_database_that_refuses_writes_is_failing_503(
    services: Services, running: HealthMonitor
) -> None:
    await services.db.connection.execute("PRAGMA query_only = ON")
    try:
        response = await get_health(services, running)
    finally:
        await services.db.connection.execute("PRAGMA query_only = OFF")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing"
    assert body["checks"]["database"]["status"] == "failing"
    assert body["reasons"] == ["database: the database cannot be written (OperationalError)"], body
    # The public report names the error's type only; the operator's report (/admin) quotes it.
    assert "readonly" not in response.text and "query_only" not in response.text
    await services.db.connection.execute("PRAGMA query_only = ON")
    try:
        detailed = await running.report()
    finally:
        await services.db.connection.execute("PRAGMA query_only = OFF")
    assert "OperationalError: " in detailed.reasons[0] and "readonly" in detailed.reasons[0]


async def test_silent_exchanger_and_a_stuck_queue_are_degraded(
    services: Services, bot: Bot, sandbox: SandboxExchanger
) -> None:
    await sandbox.stop()
    outbox = OutboxRepository(services.db)
    item = await outbox.enqueue(4242, "text", {"text": "hi"})
    await services.db.execute("UPDATE outbox SET created_at = created_at - 3600 WHERE id = ?", (item,))
    monitor = HealthMonitor(services, probe_timeout=5)
    report = await monitor.report()
    assert report.status is Level.DEGRADED and report.http_status == 200
    checks = {c.name: c for c in report.checks}
    assert checks["exchanger"].level is Level.DEGRADED and "exchanger" in checks["exchanger"].reason
    assert checks["notifications"].level is Level.DEGRADED
    assert checks["notifications"].age_seconds is not None and checks["notifications"].age_seconds >= 3600
    assert checks["database"].level is Level.OK
    # The probe is not repeated on every request.
    probed_at = monitor._probed_at
    await monitor.report()
    assert monitor._probed_at == probed_at


def test_updates_check_tells_a_quiet_bot_from_a_broken_intake(services: Services) -> None:
    now = [1000.0]
    intake = IntakeState("polling", clock=lambda: now[0], running=True)
    monitor = HealthMonitor(services, intake=intake, clock=lambda: now[0])
    assert monitor._updates(intake).level is Level.OK  # no update ever: a quiet bot, not a fault
    intake.note_poll(ConnectionError("boom"))
    now[0] += 30
    assert monitor._updates(intake).level is Level.OK  # a short outage: the loop retries
    now[0] += 60
    check = monitor._updates(intake)
    assert check.level is Level.DEGRADED and "ConnectionError" in check.reason and "boom" not in check.reason
    intake.note_poll()
    assert monitor._updates(intake).level is Level.OK
    intake.running = False
    assert monitor._updates(intake).level is Level.FAILING
    webhook = IntakeState("webhook")
    assert monitor._updates(webhook).level is Level.FAILING  # not registered
    webhook.running = True
    assert monitor._updates(webhook).level is Level.OK


async def test_stopped_sender_is_failing(services: Services, bot: Bot) -> None:
    async with notifications_running(services, bot) as notifications:
        notifications.sender.stop()
        await notifications.tasks["sender"]
        report = await HealthMonitor(services, notifications=notifications).report()
    assert report.status is Level.FAILING
    assert "notifications: the notification sender is not running" in report.reasons


async def test_webhook_mode_reports_what_telegram_says_about_deliveries(services: Services) -> None:
    emulator = TelegramEmulator()
    await emulator.start()
    bot = Bot(BOT_TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(emulator.url)))
    url = "https://bot.example.com/tg/hook"
    try:
        emulator.webhook = {"url": url}
        intake = IntakeState("webhook", webhook_url=url, running=True)

        def monitor() -> HealthMonitor:  # a fresh one: getWebhookInfo answers are kept a minute
            return HealthMonitor(services, intake=intake, bot=bot)

        def updates(report: health.HealthReport) -> health.Check:
            return next(c for c in report.checks if c.name == "updates")

        assert updates(await monitor().report()).level is Level.OK
        emulator.webhook_error = (int(time.time()) - 5, "Wrong response from the webhook: 502 Bad Gateway")
        report = await monitor().report()
        check = updates(report)
        assert check.level is Level.DEGRADED and "502 Bad Gateway" in check.reason
        # Telegram's words stay out of the public /health.
        public = updates(report.public())
        assert public.level is Level.DEGRADED and "webhook" in public.reason
        assert "502" not in json.dumps(report.public().as_json())
        intake.note_update()  # an update arrived after the error: deliveries work again
        assert updates(await monitor().report()).level is Level.OK
        emulator.webhook = {"url": "https://elsewhere.example/hook"}
        assert updates(await monitor().report()).level is Level.FAILING
        assert emulator.count("getWebhookInfo") == 4
    finally:
        await bot.session.close()
        await emulator.stop()


async def test_public_health_is_cached_for_a_moment(services: Services) -> None:
    """/health is public: a burst of requests makes one report (one database write), not one each."""
    now = [1000.0]
    monitor = HealthMonitor(services, clock=lambda: now[0])
    runner = await start_web_server(services, monitor=monitor)
    try:
        host, port = runner.addresses[0][:2]
        async with httpx.AsyncClient(timeout=30) as http:
            first = await http.get(f"http://{host}:{port}/health")
            writes = services.db.connection.total_changes
            again = [await http.get(f"http://{host}:{port}/health") for _ in range(5)]
            assert services.db.connection.total_changes == writes
            assert {r.text for r in again} == {first.text}
            now[0] += monitor.public_cache_seconds
            await http.get(f"http://{host}:{port}/health")
            assert services.db.connection.total_changes > writes
    finally:
        await runner.cleanup()
