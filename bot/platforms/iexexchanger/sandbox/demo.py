"""Demo controls for the terminal chat (offline/demo.py): what the demo partner and the exchanger's
staff do on the site. Paying a payout sends the signed ``partner.payout.paid`` to the bot's registered
webhook (the bot polls the payout list when it registered none)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from bot.platforms.iexexchanger.sandbox.data import Payout
from bot.platforms.iexexchanger.sandbox.keys import PARTNER_CLIENT
from bot.platforms.iexexchanger.sandbox.state import IexState
from offline.demo import DemoControl

__all__ = ["demo_controls"]


def _pending(sandbox: IexState) -> list[Payout]:
    return [p for p in sandbox.accounts[PARTNER_CLIENT.id].payouts if p.status == "pending"]


def _name(payout: Payout) -> str:
    return f"payout {payout.id} ({payout.amount:f} {payout.currency})"


def demo_controls(sandbox: IexState) -> list[DemoControl]:
    async def new_payout(args: list[str]) -> str:
        amount = None
        if args:
            try:
                amount = Decimal(args[0].replace(",", "."))
            except InvalidOperation:
                return f"Not an amount: {args[0][:20]}"
        try:
            payout = sandbox.new_payout(PARTNER_CLIENT.id, amount)
        except ValueError as exc:
            return f"No payout: {exc}."
        return f"The demo partner requested {_name(payout)} on the site: pending."

    async def pay(args: list[str]) -> str:
        pending = _pending(sandbox)
        if args:
            if not args[0].isdigit():
                return f"Not a payout id: {args[0][:20]}"
            chosen = [p for p in pending if p.id == int(args[0])]
            if not chosen:
                return f"No pending payout {args[0]}; pending: {[p.id for p in pending] or 'none'}."
        else:
            chosen = pending[-1:]
            if not chosen:
                return "No pending payout: request one with !payout."
        payout = chosen[0]
        _event, deliveries = await sandbox.pay_payout(payout.id)
        sent = ", ".join(f"{d.http_status or 'no answer'}" for d in deliveries)
        where = f"webhook answered {sent}" if deliveries else "no webhook registered: the bot polls"
        return f"Staff paid {_name(payout)}, tx {payout.tx_id} ({where})."

    async def reject(args: list[str]) -> str:
        pending = _pending(sandbox)
        chosen = [p for p in pending if args and args[0].isdigit() and p.id == int(args[0])] or pending[-1:]
        if not chosen:
            return "No pending payout."
        sandbox.reject_payout(chosen[0].id)
        return f"Staff rejected {_name(chosen[0])}."

    return [
        DemoControl(
            "payout", "[AMOUNT] the demo partner requests a payout (half its balance by default)", new_payout
        ),
        DemoControl("pay", "[ID] staff pay a pending payout (the latest by default): a signed webhook", pay),
        DemoControl("reject", "[ID] staff reject a pending payout (the latest by default)", reject),
    ]
