"""Telling linked partners what happened (a referred exchange completed, a payout changed), once each.

:class:`PartnerWatcher` polls ``PartnerCabinet.news`` for every partner linked on the platform
(``Capability.PARTNER_NEWS``), each every 60–120 s (jittered), and queues one outbox notification
(kind :data:`NEWS_KIND`, rendered by :mod:`bot.partner.news_messages`) per news item. The news keys
told and the platform's cursor are stored in one transaction with the queued rows
(:mod:`bot.partner.news_state`), so a restart neither repeats nor loses a message. A key the platform
rejects is not polled again until the partner links a key again, and the partner is told once. A
partner who turned the notifications off is not polled (nothing piles up meanwhile), nor is one whose
news the platform pushes (a push token is stored), nor one the platform rate-limits, until it says.

Signed partner pushes (iEX ``partner.payout.paid``) take the same path: :func:`on_partner_push` (or
:meth:`PartnerWatcher.on_push`, a ``PushInbox.on`` handler) asks the platform what the event means
(``PartnerCabinet.push_news``, re-read from its lists) and tells it unless polling already did.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.domain.capabilities import Capability
from bot.domain.errors import CredentialsRejected, ExchangerError, RateLimited
from bot.domain.models import PartnerNews, PartnerNewsKind
from bot.partner.news_messages import KEY_REJECTED, NEWS_KIND
from bot.partner.news_state import NewsState, load_state, news_enabled, save_state
from bot.platforms.base import PushEvent
from bot.storage.outbox import OutboxRepository

if TYPE_CHECKING:
    from bot.app.wiring import Services
    from bot.storage.repositories import LinkedCredentials

log = logging.getLogger(__name__)

INTERVAL = (60.0, 120.0)  # seconds between two polls of one partner (uniformly jittered)
TICK = 5.0  # how often the watcher looks for partners due
CONCURRENCY = 4


def _decimal(value: object) -> str | None:
    return None if value is None else format(value, "f")


def news_payload(platform: str, news: PartnerNews) -> dict[str, Any]:
    """What the renderer needs, as JSON (amounts as exact decimal strings)."""
    payload: dict[str, Any] = {"platform": platform, "news": news.kind.value, "key": news.key}
    if news.kind is PartnerNewsKind.EXCHANGE_COMPLETED and news.exchange is not None:
        e = news.exchange
        payload.update(
            exchange_id=e.id,
            reward=_decimal(e.reward) if e.reward else None,
            reward_currency=e.reward_currency,
            give=e.give_currency_code,
            get=e.get_currency_code,
            campaign=news.campaign,
        )
    elif news.kind is PartnerNewsKind.PAYOUT_CHANGED and news.payout is not None:
        p = news.payout
        payload.update(
            payout_id=p.id,
            number=p.number,
            status=p.status.value,
            status_code=p.status_code,
            amount=_decimal(p.amount),
            currency=p.currency_code,
            tx_id=p.tx_id,
            note=p.note,
        )
    return payload


class PartnerWatcher:
    def __init__(
        self,
        services: Services,
        *,
        wake: Callable[[], None] | None = None,
        interval: tuple[float, float] = INTERVAL,
        tick: float = TICK,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.services = services
        self.name = services.platform.info.name
        self.wake = wake or (lambda: None)
        self.interval = interval
        self.tick = tick
        self.rng = rng or random.Random()
        self.clock = clock
        self._due: dict[int, float] = {}  # chat id -> monotonic time of its next poll
        self._gate = asyncio.Semaphore(CONCURRENCY)
        self.outbox = OutboxRepository(services.db)

    @property
    def serves(self) -> bool:
        return self.services.platform.info.serves(Capability.PARTNER_NEWS)

    # -- polling -----------------------------------------------------------------------------------

    async def poll_once(self, *, all_partners: bool = True) -> int:
        """Poll every linked partner (``all_partners``) or those due; returns how many notifications
        were queued."""
        if not self.serves:
            return 0
        now = self.clock()
        linked = await self.services.partner_credentials.linked(self.name)
        chats = {item.chat_id for item in linked}
        for chat_id in list(self._due):
            if chat_id not in chats:
                del self._due[chat_id]
        due = []
        for item in linked:
            # A partner seen for the first time is spread over the interval, not polled all at once.
            first = self._due.setdefault(item.chat_id, now + self.rng.uniform(0, self.interval[0]))
            if all_partners or first <= now:
                due.append(item)
                self._due[item.chat_id] = now + self.rng.uniform(*self.interval)
        counts = await asyncio.gather(*(self._poll_gated(item) for item in due))
        return sum(counts)

    async def _poll_gated(self, linked: LinkedCredentials) -> int:
        async with self._gate:
            try:
                return await self.poll_partner(linked)
            except Exception:  # one partner's trouble never stops the others
                log.exception("partner news of chat %s: poll failed", linked.chat_id)
                return 0

    async def poll_partner(self, linked: LinkedCredentials) -> int:
        db = self.services.db
        chat_id = linked.chat_id
        if linked.push_token and self.services.settings.public_url:
            return 0  # the platform pushes this partner's news (on_push): no polling on their quota
        if not await news_enabled(db, self.name, chat_id):
            return 0
        state = await load_state(db, self.name, chat_id)
        if not state.belongs_to(linked.created_at):
            state = NewsState(since=linked.created_at)
        if state.stopped:
            return 0
        try:
            cabinet = self.services.platform.cabinet(linked.credentials, None)
        except ValueError:
            return 0  # stored under other field names: the partner links the key again
        try:
            news, cursor = await cabinet.news(state.cursor)
        except CredentialsRejected:
            log.info("partner news of chat %s: the key is rejected; polling stops", chat_id)
            await self._key_rejected(linked)
            return 0
        except RateLimited as exc:
            # Never poll into a limit: this partner waits as long as the platform asks.
            wait = max(exc.retry_after or 0.0, self.interval[1])
            self._due[chat_id] = self.clock() + wait
            log.info("partner news of chat %s: rate limited; next poll in %.0f s", chat_id, wait)
            return 0
        except ExchangerError as exc:
            log.info("partner news of chat %s: %s; next time", chat_id, type(exc).__name__)
            return 0
        return await self.tell(linked, news, cursor)

    async def _key_rejected(self, linked: LinkedCredentials) -> None:
        db = self.services.db
        async with db.transaction():
            state = await self._current(linked)
            if state.stopped:
                return
            state.stopped = True
            await self._enqueue(linked.chat_id, {"platform": self.name, "news": KEY_REJECTED})
            await save_state(db, self.name, linked.chat_id, state)
        self.wake()

    async def _current(self, linked: LinkedCredentials) -> NewsState:
        state = await load_state(self.services.db, self.name, linked.chat_id)
        return state if state.belongs_to(linked.created_at) else NewsState(since=linked.created_at)

    async def _enqueue(self, chat_id: int, payload: dict[str, Any]) -> None:
        await self.outbox.enqueue(chat_id, NEWS_KIND, payload)  # joins the caller's transaction

    async def tell(
        self, linked: LinkedCredentials, news: list[PartnerNews], cursor: str | None = None
    ) -> int:
        """Queue the news not told before and store their keys (and ``cursor``), all in one
        transaction; returns how many were queued. With notifications off nothing is queued but the
        keys are stored all the same."""
        db = self.services.db
        queued = 0
        async with db.transaction():
            state = await self._current(linked)
            enabled = await news_enabled(db, self.name, linked.chat_id)
            now = db.now()
            for item in news:
                if item.key in state.seen:
                    continue
                state.seen[item.key] = now
                if enabled and not state.stopped:
                    await self._enqueue(linked.chat_id, news_payload(self.name, item))
                    queued += 1
            if cursor is not None:
                state.cursor = cursor
            await save_state(db, self.name, linked.chat_id, state)
        if queued:
            self.wake()
        return queued

    async def run(self) -> None:
        """Poll the partners due, forever (cancel to stop)."""
        if not self.serves:
            return
        while True:
            try:
                await self.poll_once(all_partners=False)
            except Exception:
                log.exception("partner news: a round failed")
            await asyncio.sleep(self.tick)

    # -- pushes ------------------------------------------------------------------------------------

    async def on_push(self, event: PushEvent, linked: LinkedCredentials | None) -> None:
        """A verified partner push (``PushInbox.on(kind, watcher.on_push)``); ``linked``: the partner
        whose per-partner URL it came to. Raises the platform's error so the push is retried."""
        if linked is None:
            log.info("partner push %s: no partner to tell; acknowledged", event.dedupe_key)
            return
        try:
            cabinet = self.services.platform.cabinet(linked.credentials, None)
        except ValueError:
            return
        push_news = getattr(cabinet, "push_news", None)
        if push_news is None:
            return
        try:
            news = await push_news(event)
        except CredentialsRejected:
            await self._key_rejected(linked)
            return
        await self.tell(linked, news)


async def on_partner_push(
    services: Services,
    platform_name: str,
    token: str,
    event: PushEvent,
    wake: Callable[[], None] | None = None,
) -> bool:
    """A verified push that came to ``…/webhooks/<platform>/<token>``: told through the news path
    (deduplicated with polling by the news key). False when no partner has that token."""
    if platform_name != services.platform.info.name:
        return False
    linked = await services.partner_credentials.get_by_push_token(platform_name, token)
    if linked is None:
        return False
    await PartnerWatcher(services, wake=wake).on_push(event, linked)
    return True
