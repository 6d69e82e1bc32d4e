"""The iEXExchanger sandbox's state and test controls, apart from serving it (server.py) and
answering (app.py), which both read and change it."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal

from bot.platforms.iexexchanger.sandbox.auth import NonceBook
from bot.platforms.iexexchanger.sandbox.data import PartnerAccount, Payout, generate, iso, payout_json
from bot.platforms.iexexchanger.sandbox.faults import FaultQueue
from bot.platforms.iexexchanger.sandbox.keys import CLIENTS, KEYS, DemoKey
from bot.platforms.iexexchanger.sandbox.webhooks import Delivery, Event, WebhookBook

__all__ = ["IexState"]

PAYOUT_PAID = "partner.payout.paid"


class IexState:
    def __init__(
        self,
        *,
        seed: int = 1,
        now: Callable[[], float] = time.time,
        keys: dict[str, DemoKey] | None = None,
        site_name: str = "iEX Sandbox",
    ) -> None:
        self.seed = seed
        self.now = now
        self.site_name = site_name
        self.keys = dict(KEYS if keys is None else keys)
        self.rate_limit = 120
        self.rate_window = 60.0
        self.stats_range = True
        self.money_as_numbers = False
        self.wrap_results = False
        self.faults = FaultQueue()
        self.nonces = NonceBook()
        self.requests: list[dict] = []
        self.windows: dict[int, tuple[float, int]] = {}
        self.quota_used: dict[int, int] = {}
        self.idempotency: dict[tuple[int, str], tuple[bytes, int, dict]] = {}
        self.webhooks = WebhookBook(now)
        started = int(now())
        self.accounts: dict[int, PartnerAccount] = {}
        for client in CLIENTS.values():
            if client.partner == "rich":
                self.accounts[client.id] = generate(client.id, started, seed)
            elif client.partner == "empty":
                self.accounts[client.id] = PartnerAccount(
                    client.id, referral_hash="Nw", created_at=started - 86400
                )
        self.url = ""
        self.running = False  # served over HTTP

    def key(self, handle: str) -> DemoKey:
        return self.keys[handle]

    def account(self, handle: str = "full") -> PartnerAccount:
        return self.accounts[self.keys[handle].client_id]

    def calls(self, path: str | None = None, key: str | None = None) -> list[dict]:
        """Recorded API calls (``path`` under /api/v3), optionally of one key handle."""
        return [
            r for r in self.requests
            if (path is None or r["path"] == "/api/v3" + path) and (key is None or r["key"] == key)
        ]  # fmt: skip

    # -- payouts and their webhook ---------------------------------------------------------------------

    def _find_payout(self, payout_id: int) -> tuple[PartnerAccount, Payout]:
        for account in self.accounts.values():
            for payout in account.payouts:
                if payout.id == payout_id:
                    return account, payout
        raise KeyError(f"no payout {payout_id}")

    def new_payout(self, client_id: int = 501, amount: Decimal | None = None) -> Payout:
        """What a partner does on the site: request a payout (pending) of ``amount`` (half the balance)."""
        account = self.accounts[client_id]
        amount = amount if amount is not None else (account.balance / 2).quantize(Decimal("0.01"))
        if amount <= 0 or amount > account.balance:
            raise ValueError("the balance does not cover that payout")
        now = int(self.now())
        payout_id = max((p.id for a in self.accounts.values() for p in a.payouts), default=200) + 1
        payout = Payout(payout_id, "pending", amount, account.currency, "Tether TRC20",
                        "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE", now, updated_at=now)  # fmt: skip
        account.payouts.append(payout)
        return payout

    async def pay_payout(
        self, payout_id: int, *, deliver: bool = True
    ) -> tuple[Event | None, list[Delivery]]:
        """Staff mark a pending payout paid: status, tx id, paid_at change, and ``partner.payout.paid``
        goes, signed, to every active endpoint of the partner subscribed to it."""
        account, payout = self._find_payout(payout_id)
        if payout.status != "pending":
            raise ValueError(f"payout {payout_id} is {payout.status}, not pending")
        now = int(self.now())
        payout.status, payout.paid_at, payout.updated_at = "paid", now, now
        payout.tx_id = f"{payout_id:08x}" + "9f2c1e" * 9 + "ab"
        event = self.webhooks.event(PAYOUT_PAID, {"payout": _plain(payout_json(payout))}, iso)
        deliveries = await self.webhooks.deliver(event, account.client_id) if deliver else []
        return event, deliveries

    def reject_payout(self, payout_id: int, reason: str = "Rejected by the exchanger") -> None:
        _, payout = self._find_payout(payout_id)
        payout.status, payout.comment, payout.updated_at = "rejected", reason, int(self.now())


def _plain(row: dict) -> dict:
    return {k: (format(v, "f") if isinstance(v, Decimal) else v) for k, v in row.items()}
