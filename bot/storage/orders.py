"""Exchange orders of every platform, under the bot's own integer id (what buttons carry).

``reserve`` records the idempotency key (and, where the platform resends exact bytes, the prepared
request, encrypted) before anything is sent; ``attach`` fills in what the exchange answered. A
per-order secret (an access token) is stored encrypted and bound to its row.
"""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import SecretStr

from bot.domain.models import FINAL_PHASES, OrderPhase, OrderStatus, PaymentDetails
from bot.storage.crypto import DecryptionError, SecretBox
from bot.storage.database import Database

_FINAL = tuple(sorted(phase.value for phase in FINAL_PHASES))
_OPEN = (
    "order_id IS NOT NULL AND unreachable = 0"
    f" AND (status_phase IS NULL OR status_phase NOT IN ({','.join('?' * len(_FINAL))}))"
)


class KeyTaken(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(f"order key {key!r} is already reserved")
        self.key = key


class OrderNotStored(LookupError):
    pass


@dataclass(frozen=True)
class StoredOrder:
    id: int
    chat_id: int
    platform: str
    idempotency_key: str
    order_id: str | None
    number: str | None
    direction_id: str | None
    status_code: str | None
    status_phase: str | None
    status_title: str | None
    status_rank: int
    notified_status: str | None
    push_token: str | None
    give_amount: str | None
    get_amount: str | None
    give_currency_code: str | None
    get_currency_code: str | None
    created_at: int
    updated_at: int | None
    status_changed_at: int | None
    checked_at: int | None
    next_check_at: int | None
    # Created, but the secret to follow it was lost with the answer: never shown as payable or polled.
    unreachable: bool = False
    secret: SecretStr | None = field(default=None, repr=False)

    @property
    def is_final(self) -> bool:
        return self.status_phase in _FINAL

    @property
    def label(self) -> str:
        """What the customer knows the order by: its number on the site, else its id."""
        return self.number or self.order_id or str(self.id)

    @property
    def status(self) -> OrderStatus | None:
        if self.status_code is None or self.status_phase is None:
            return None
        try:
            phase = OrderPhase(self.status_phase)
        except ValueError:
            phase = OrderPhase.PROCESSING
        return OrderStatus(
            code=self.status_code, phase=phase, title=self.status_title or "", rank=self.status_rank
        )


_COLUMNS = tuple(name for name in StoredOrder.__dataclass_fields__ if name != "secret")
# What is kept of an order's payment details: what was to be sent, and where.
PAYMENT_KEPT_FIELDS = frozenset({"amount", "currency_code", "network", "address", "tag"})


class OrderRepository:
    def __init__(self, db: Database, box: SecretBox) -> None:
        self.db = db
        self.box = box

    @staticmethod
    def _aad(kind: str, platform: str, key: str) -> bytes:
        return f"orders:{kind}:{platform}:{key}".encode()

    def _from_row(self, row: sqlite3.Row) -> StoredOrder:
        secret = None
        if row["secret_ciphertext"] is not None:
            aad = self._aad("secret", row["platform"], row["idempotency_key"])
            secret = SecretStr(self.box.decrypt(row["secret_ciphertext"], aad=aad))
        values = {name: row[name] for name in _COLUMNS}
        values["unreachable"] = bool(values["unreachable"])
        return StoredOrder(**values, secret=secret)

    async def _one(self, where: str, params: tuple[object, ...]) -> StoredOrder | None:
        row = await self.db.fetchone(f"SELECT * FROM orders WHERE {where}", params)
        return None if row is None else self._from_row(row)

    async def _many(self, sql: str, params: tuple[object, ...]) -> list[StoredOrder]:
        return [self._from_row(row) for row in await self.db.fetchall(sql, params)]

    # -- creating ----------------------------------------------------------------------------------

    async def reserve(
        self, chat_id: int, platform: str, key: str, direction_id: str | None, prepared: bytes | None = None
    ) -> int:
        """Record the key before the create request; returns the local id. Raises :class:`KeyTaken`."""
        sealed = None
        if prepared is not None:
            sealed = self.box.encrypt(
                base64.b64encode(prepared).decode("ascii"), aad=self._aad("prepared", platform, key)
            )
        try:
            return await self.db.execute_insert(
                """
                INSERT INTO orders (
                    chat_id, platform, idempotency_key, prepared_ciphertext, direction_id, created_at
                )
                VALUES (?, ?, ?, ?, ?, ?)
                """,
                (chat_id, platform, key, sealed, direction_id, self.db.now()),
            )
        except sqlite3.IntegrityError as exc:
            if "idempotency_key" not in str(exc):
                raise
            raise KeyTaken(key) from None

    async def prepared_request(self, platform: str, key: str) -> bytes | None:
        """The exact request bytes stored at :meth:`reserve` (None when the platform keeps none)."""
        sealed = await self.db.fetchval(
            "SELECT prepared_ciphertext FROM orders WHERE platform = ? AND idempotency_key = ?",
            (platform, key),
        )
        if sealed is None:
            return None
        return base64.b64decode(self.box.decrypt(sealed, aad=self._aad("prepared", platform, key)))

    async def attach(
        self,
        platform: str,
        key: str,
        *,
        order_id: str,
        number: str | None = None,
        secret: SecretStr | None = None,
        status: OrderStatus | None = None,
        push_token: str | None = None,
        give_amount: str | None = None,
        get_amount: str | None = None,
        give_currency_code: str | None = None,
        get_currency_code: str | None = None,
        if_pending: bool = False,
    ) -> bool:
        """Fill in the exchange's order. Amounts are exact decimal strings. The status it was created
        with counts as already notified (None: unknown, so the next one recorded is told).
        ``if_pending``: only while no order is attached yet (an order found after the fact: whoever
        attaches it first announces it); returns whether this call attached it.
        Raises :class:`OrderNotStored` when ``key`` was never reserved."""
        now = self.db.now()
        sealed = None
        if secret is not None:
            sealed = self.box.encrypt(secret.get_secret_value(), aad=self._aad("secret", platform, key))
        code = status.code if status is not None else None
        only_pending = " AND order_id IS NULL" if if_pending else ""
        changed = await self.db.execute(
            f"""
            UPDATE orders SET order_id = ?, number = ?, secret_ciphertext = COALESCE(?, secret_ciphertext),
                status_code = ?, status_phase = ?, status_title = ?, status_rank = ?,
                notified_status = ?, push_token = COALESCE(?, push_token),
                give_amount = ?, get_amount = ?, give_currency_code = ?, get_currency_code = ?,
                updated_at = ?, status_changed_at = ?
            WHERE platform = ? AND idempotency_key = ?{only_pending}
            """,
            (
                str(order_id),
                number,
                sealed,
                code,
                status.phase.value if status is not None else None,
                status.title or None if status is not None else None,
                status.rank if status is not None else 0,
                code,
                push_token,
                give_amount,
                get_amount,
                give_currency_code,
                get_currency_code,
                now,
                now if status is not None else None,
                platform,
                key,
            ),
        )
        if not changed:
            if if_pending and await self.get_by_key(platform, key) is not None:
                return False
            raise OrderNotStored(f"no order reserved under key {key!r}")
        return True

    # -- lookups -----------------------------------------------------------------------------------

    async def get(self, local_id: int) -> StoredOrder | None:
        return await self._one("id = ?", (local_id,))

    async def get_by_key(self, platform: str, key: str) -> StoredOrder | None:
        return await self._one("platform = ? AND idempotency_key = ?", (platform, key))

    async def get_by_order_id(self, platform: str, order_id: str) -> StoredOrder | None:
        return await self._one("platform = ? AND order_id = ?", (platform, str(order_id)))

    async def get_by_push_token(self, token: str) -> StoredOrder | None:
        return await self._one("push_token = ?", (token,))

    async def list_for_chat(
        self, chat_id: int, platform: str, limit: int = 10, offset: int = 0
    ) -> list[StoredOrder]:
        """The chat's orders (reservations that never became one are left out), newest first."""
        return await self._many(
            """
            SELECT * FROM orders WHERE chat_id = ? AND platform = ? AND order_id IS NOT NULL
            ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?
            """,
            (chat_id, platform, limit, offset),
        )

    async def count_for_chat(self, chat_id: int, platform: str) -> int:
        return int(
            await self.db.fetchval(
                "SELECT COUNT(*) FROM orders WHERE chat_id = ? AND platform = ? AND order_id IS NOT NULL",
                (chat_id, platform),
            )
        )

    # -- reservations without an answer -------------------------------------------------------------

    async def pending_reservations(
        self, platform: str, *, chat_id: int | None = None, since: int = 0
    ) -> list[StoredOrder]:
        """Reservations (a key sent, or about to be) with no order attached yet, oldest first."""
        where = "platform = ? AND order_id IS NULL AND created_at >= ?"
        params: tuple[object, ...] = (platform, since)
        if chat_id is not None:
            where, params = where + " AND chat_id = ?", (*params, chat_id)
        return await self._many(f"SELECT * FROM orders WHERE {where} ORDER BY id", params)

    async def forget_reservation(self, platform: str, key: str) -> bool:
        """Drop a reservation the exchange certainly has no order for (refused, or looked up: none)."""
        deleted = await self.db.execute(
            "DELETE FROM orders WHERE platform = ? AND idempotency_key = ? AND order_id IS NULL",
            (platform, key),
        )
        return deleted > 0

    # -- statuses ------------------------------------------------------------------------------------

    async def update_status(self, local_id: int, status: OrderStatus) -> bool:
        """Record the order's status; True only when the code changed (a new title alone is saved but
        returns False)."""
        now = self.db.now()
        async with self.db.transaction():
            current = await self.db.fetchone(
                "SELECT status_code, status_title FROM orders WHERE id = ?", (local_id,)
            )
            if current is None:
                return False
            if current["status_code"] == status.code:
                if (current["status_title"] or "") != status.title and status.title:
                    await self.db.execute(
                        "UPDATE orders SET status_title = ?, updated_at = ? WHERE id = ?",
                        (status.title, now, local_id),
                    )
                return False
            await self.db.execute(
                """
                UPDATE orders SET status_code = ?, status_phase = ?, status_title = ?, status_rank = ?,
                    updated_at = ?, status_changed_at = ?
                WHERE id = ?
                """,
                (status.code, status.phase.value, status.title or None, status.rank, now, now, local_id),
            )
            return True

    async def restore_phases(self, platform: str, status_of: Callable[[str, str], OrderStatus]) -> int:
        """Give a phase and rank to statuses stored as a bare code (orders of schema 2), as the
        platform reads its codes; returns how many were filled in."""
        rows = await self.db.fetchall(
            """
            SELECT id, status_code, status_title FROM orders
            WHERE platform = ? AND status_code IS NOT NULL AND status_phase IS NULL
            """,
            (platform,),
        )
        async with self.db.transaction():
            for row in rows:
                status = status_of(row["status_code"], row["status_title"] or "")
                await self.db.execute(
                    "UPDATE orders SET status_phase = ?, status_rank = ? WHERE id = ?",
                    (status.phase.value, status.rank, row["id"]),
                )
        return len(rows)

    async def open_orders(self, platform: str) -> list[StoredOrder]:
        """Attached orders not in a final phase (unknown statuses count as open), oldest first."""
        return await self._many(
            f"SELECT * FROM orders WHERE platform = ? AND {_OPEN} ORDER BY id", (platform, *_FINAL)
        )

    async def count_open(self, platform: str) -> int:
        """How many orders :meth:`open_orders` would return."""
        return int(
            await self.db.fetchval(
                f"SELECT COUNT(*) FROM orders WHERE platform = ? AND {_OPEN}", (platform, *_FINAL)
            )
        )

    async def mark_unreachable(self, local_id: int) -> None:
        await self.db.execute("UPDATE orders SET unreachable = 1 WHERE id = ?", (local_id,))

    async def remember_payment(self, local_id: int, payment: PaymentDetails | None) -> None:
        """Keep what the order asks to be sent and where (encrypted, bound to its row): exchanges stop
        showing it once the customer says they paid. None forgets it (the order is done)."""
        row = await self.db.fetchone(
            "SELECT platform, idempotency_key FROM orders WHERE id = ?", (local_id,)
        )
        if row is None:
            return
        sealed = None
        if payment is not None:
            kept = payment.model_dump_json(include=set(PAYMENT_KEPT_FIELDS))
            sealed = self.box.encrypt(kept, aad=self._aad("payment", row["platform"], row["idempotency_key"]))
        await self.db.execute("UPDATE orders SET payment_ciphertext = ? WHERE id = ?", (sealed, local_id))

    async def kept_payment(self, local_id: int) -> PaymentDetails | None:
        """The payment details kept by :meth:`remember_payment`; None when none are (or no longer read)."""
        row = await self.db.fetchone(
            "SELECT platform, idempotency_key, payment_ciphertext FROM orders WHERE id = ?", (local_id,)
        )
        if row is None or row["payment_ciphertext"] is None:
            return None
        try:
            kept = self.box.decrypt(
                row["payment_ciphertext"], aad=self._aad("payment", row["platform"], row["idempotency_key"])
            )
            return PaymentDetails.model_validate_json(kept)
        except (DecryptionError, ValueError):  # a changed SECRET_KEY, or a shape no longer read
            return None

    async def mark_notified(self, local_id: int, code: str) -> None:
        """The chat has been told about (or has seen) status ``code``."""
        await self.db.execute("UPDATE orders SET notified_status = ? WHERE id = ?", (code, local_id))

    async def schedule_check(self, local_id: int, checked_at: int | None, next_check_at: int | None) -> None:
        """When the status tracker should read this order directly next (None: a while after its last
        status change, see :meth:`due_for_check`)."""
        await self.db.execute(
            "UPDATE orders SET checked_at = COALESCE(?, checked_at), next_check_at = ? WHERE id = ?",
            (checked_at, next_check_at, local_id),
        )

    async def due_for_check(
        self, platform: str, now: int, unchanged_for: int, limit: int
    ) -> list[StoredOrder]:
        """Open orders whose ``next_check_at`` has passed (never scheduled: ``unchanged_for`` seconds
        after their last status change), the longest overdue first."""
        due = "COALESCE(next_check_at, COALESCE(status_changed_at, created_at) + ?)"
        return await self._many(
            f"""
            SELECT *, {due} AS due_at FROM orders
            WHERE platform = ? AND {_OPEN} AND {due} <= ?
            ORDER BY due_at, id LIMIT ?
            """,
            (unchanged_for, platform, *_FINAL, unchanged_for, now, limit),
        )
