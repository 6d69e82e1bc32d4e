"""Creating a 0trace order exactly once per Idempotency-Key, and keeping its one-time token.

``prepare`` serializes the create body once; the core stores those bytes (encrypted: they hold the
customer's addresses) with the key before the first send, and every attempt resends exactly them with
the same key and a fresh nonce. Same key + same bytes never makes a second order: 0trace replays the
first one, but **without its token** (it keeps only a hash). So:

- an answer with a token: the order, reachable (the core stores the token before showing anything);
- a replay without a token, when this process saw the token earlier for that key (a double tap): the
  order with that token;
- otherwise the token went with a lost answer: :class:`OrderUnreachable`. The order must not be shown
  as payable; the documented remedy is a new order under a fresh key (the abandoned one expires unpaid).

``find`` can't look an order up by key (0trace has no such call, and replaying the create would open
the order if it doesn't exist yet). It answers from what this process knows, replays the stored bytes
while a created order would still be worth paying, and otherwise reports no usable order. A replay
that comes back without a token is an order created by an attempt whose answer was lost (committed
late, perhaps): :class:`OrderUnreachable`, so the bot keeps it rather than forgetting the key.
``COMMIT_HORIZON_SECONDS`` is within the replay window, so the last look before a reservation is
dropped is still a real one.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections import OrderedDict

from pydantic import SecretStr

from bot.domain.errors import (
    AmountOutOfLimits,
    CredentialsRejected,
    ExchangerError,
    TransportError,
    UnexpectedResponse,
    ValidationFailed,
)
from bot.domain.models import AMOUNT_FIELD, Order, OrderRef, OrderRequest
from bot.observability import deadline
from bot.platforms.base import OrderUnreachable, PlacementUncertain
from bot.platforms.zerotrace import mapping
from bot.platforms.zerotrace.client import MAX_INLINE_WAIT, ZeroTraceClient
from bot.platforms.zerotrace.customer import ZeroTraceCustomer
from bot.platforms.zerotrace.networks import valid_address
from bot.platforms.zerotrace.signing import body_bytes

__all__ = ["COMMIT_HORIZON_SECONDS", "REPLAY_WINDOW_SECONDS", "ZeroTracePlacement", "create_body"]

log = logging.getLogger(__name__)

# How long after the reservation a replay may still open the order (half the 30-minute deposit window).
REPLAY_WINDOW_SECONDS = 15 * 60
# How long after the reservation a create may still be committed without our seeing its answer.
COMMIT_HORIZON_SECONDS = 10 * 60
_CODE = re.compile(r"^[A-Za-z0-9_-]{4,32}$")
_MEMORY = 2000  # keys remembered by this process


def create_body(request: OrderRequest, give: str, get: str) -> bytes:
    fields = request.fields
    payload: dict[str, object] = {
        "type": "float",
        "fromCcy": give,
        "toCcy": get,
        "direction": "from" if request.side.is_give else "to",
        "amount": request.amount,
        "toAddress": fields.get(mapping.TO_FIELD, "").strip(),
    }
    tag = fields.get(mapping.TAG_FIELD, "").strip()
    if tag:
        payload["tag"] = tag
    payload["refundAddress"] = fields.get(mapping.REFUND_FIELD, "").strip()
    return body_bytes(payload)


def field_errors(
    request: OrderRequest, assets: dict[str, mapping.Asset], give: str, get: str
) -> dict[str, str]:
    """What 0trace would refuse with a bare code 1, named per field (messages are for logs)."""
    errors: dict[str, str] = {}
    if request.amount <= 0:
        errors[AMOUNT_FIELD] = "the amount must be positive"
    for name, code in ((mapping.TO_FIELD, get), (mapping.REFUND_FIELD, give)):
        value = request.fields.get(name, "").strip()
        asset = assets.get(code)
        if not value:
            errors[name] = "required"
        elif not valid_address(asset.network if asset else None, value):
            errors[name] = f"not an address on {asset.network if asset else 'this network'}"
    return errors


class _Memory(OrderedDict[str, object]):
    def put(self, key: str, value: object) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > _MEMORY:
            self.popitem(last=False)


class ZeroTracePlacement:
    def __init__(
        self,
        client: ZeroTraceClient,
        *,
        attempts: int = 3,
        retry_delay: float = 0.3,
        commit_horizon: int = COMMIT_HORIZON_SECONDS,
    ) -> None:
        self._client = client
        self.commit_horizon_seconds = commit_horizon
        self._customer = ZeroTraceCustomer(client)
        self.attempts = attempts
        self.retry_delay = retry_delay
        self._issued = _Memory()  # keys new_key() gave out → True
        self._sent = _Memory()  # keys sent at least once → their exact bytes
        self._tokens = _Memory()  # keys → (order id, token) seen by this process
        self._locks: dict[str, asyncio.Lock] = {}

    def new_key(self) -> str:
        key = uuid.uuid4().hex  # 32 characters: within 0trace's 8..128
        self._issued.put(key, True)
        return key

    def prepare(self, request: OrderRequest, key: str) -> bytes:
        """The create body, serialized once. Raises ``ValidationFailed`` naming the fields a bare
        code 1 would be about (checked against the catalogue last read)."""
        give, get = self._pair(request)
        self._check(request, self._customer.catalogue.assets_now(), give, get)
        return create_body(request, give, get)

    @staticmethod
    def _pair(request: OrderRequest) -> tuple[str, str]:
        pair = mapping.pair_of(request.direction_id)
        if pair is None:
            raise ValidationFailed("not a 0trace pair", {AMOUNT_FIELD: "unknown direction"}, method="create")
        return pair

    @staticmethod
    def _check(request: OrderRequest, assets: dict[str, mapping.Asset], give: str, get: str) -> None:
        errors = field_errors(request, assets, give, get)
        if errors:
            raise ValidationFailed("the order form is incomplete or invalid", errors, method="create")

    async def place(
        self,
        request: OrderRequest,
        key: str,
        prepared: bytes | None,
        *,
        reserved_at: int,
        retry: bool,
        lang: str | None = None,  # 0trace words nothing per language
    ) -> Order:
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            known = self._tokens.get(key)
            if known is not None:
                return await self._read_known(known)
            give, get = self._pair(request)
            if prepared is None:
                await self._customer.catalogue.pair(request.direction_id)
                self._check(request, await self._customer.catalogue.assets(), give, get)
                prepared = create_body(request, give, get)
            return await self._create(request, key, prepared)

    async def _read_known(self, known: object) -> Order:
        order_id, token = known  # type: ignore[misc]
        return await self._customer.read_order(OrderRef(id=order_id, secret=SecretStr(token)))

    def _code_of(self, request: OrderRequest) -> str | None:
        attribution = request.attribution
        if attribution is None or not attribution.partner:
            return None
        if not _CODE.fullmatch(attribution.partner):
            log.warning("attribution %r is not a 0trace reference code; order sent without it",
                        attribution.partner[:40])  # fmt: skip
            return None
        return attribution.partner

    async def _create(self, request: OrderRequest, key: str, body: bytes) -> Order:
        """Send ``body`` until 0trace answers clearly: each attempt the same bytes and key, a new nonce."""
        self._sent.put(key, body)
        code = self._code_of(request)
        maybe_created = False
        for attempt in range(self.attempts):
            if attempt:
                delay = self.retry_delay * 2 ** (attempt - 1)
                if not deadline.allows(delay):  # the customer is waiting: a retry of theirs resumes
                    raise PlacementUncertain(
                        f"create {key}: stopped at the update's deadline after {attempt} attempt(s)"
                    )
                await asyncio.sleep(delay)
            try:
                data = await self._client.call(
                    "create", body, code=code, extra={"Idempotency-Key": key}, retry=False
                )
            except TransportError as exc:
                maybe_created = maybe_created or exc.may_have_been_processed
                log.warning("create %s: no answer (%s), attempt %d", key, type(exc).__name__, attempt + 1)
                continue
            except UnexpectedResponse as exc:
                # A proxy page or a cut-off body: the request may have been processed behind it.
                maybe_created = True
                # The type only: a cut-off create answer may carry the order's one-time token.
                log.warning(
                    "create %s: unreadable answer (%s), attempt %d", key, type(exc).__name__, attempt + 1
                )
                continue
            except AmountOutOfLimits as exc:
                raise await self._customer.limits_error(request.direction_id, request.amount, request.side,
                                                        exc) from None  # fmt: skip
            except CredentialsRejected:
                if code is None or maybe_created:
                    raise
                # 0trace refuses the key with a disabled or deleted reference code in it (code 3), and
                # nothing was created: the customer still gets their exchange, uncredited.
                log.warning("create %s: reference code %s refused; sent again without it", key, code)
                code = None
                continue
            except ExchangerError as exc:
                if exc.code in ("5", "9", "10", "11", "99") and attempt + 1 < self.attempts:
                    retry_after = getattr(exc, "retry_after", None)
                    if not retry_after:
                        continue
                    self._client.budget.hold(retry_after)
                    wait = min(retry_after, MAX_INLINE_WAIT)
                    if deadline.allows(wait):
                        await asyncio.sleep(wait)
                        continue
                    # No time left to wait for it: answered as after the last attempt.
                if maybe_created:
                    # An earlier attempt may have opened the order; this refusal doesn't say.
                    raise PlacementUncertain(
                        f"create {key}: {type(exc).__name__} after a lost answer"
                    ) from None
                raise
            return self._received(key, data)
        raise PlacementUncertain(f"create {key}: no clear answer after {self.attempts} attempts")

    def _received(self, key: str, data: object) -> Order:
        token = data.get("token") if isinstance(data, dict) else None
        assets = self._customer.catalogue.assets_now()
        if isinstance(token, str) and token:
            order = mapping.order(data, token=token, assets=assets)
            self._tokens.put(key, (order.id, token))
            return order
        order = mapping.order(data, assets=assets)
        known = self._tokens.get(key)
        if known is not None and known[0] == order.id:  # type: ignore[index]
            return mapping.order(data, token=known[1], assets=assets)  # type: ignore[index]
        log.warning(
            "create %s: 0trace replayed order %s without its token (the first answer was lost); "
            "it can't be followed through the API and is abandoned unpaid",
            key, order.id,
        )  # fmt: skip
        raise OrderUnreachable(order)

    async def find(self, key: str, *, reserved_at: int, prepared: bytes | None = None) -> Order | None:
        known = self._tokens.get(key)
        if known is not None:
            return await self._read_known(known)
        body = self._sent.get(key)
        assert body is None or isinstance(body, bytes)
        body = body if body is not None else prepared  # after a restart: the bytes stored with the key
        if body is None:
            if key not in self._issued:
                log.info("create %s: unknown to this process; any order under it is unreachable", key)
            return None
        if time.time() - reserved_at > REPLAY_WINDOW_SECONDS:
            log.info("create %s: too old to replay; any order under it is unreachable", key)
            return None
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            try:
                data = await self._client.call("create", body, extra={"Idempotency-Key": key})
            except (TransportError, UnexpectedResponse) as exc:
                raise TransportError(f"create {key} could not be replayed ({type(exc).__name__})",
                                     method="create") from None  # fmt: skip
            return self._received(key, data)  # OrderUnreachable when the token went with a lost answer
