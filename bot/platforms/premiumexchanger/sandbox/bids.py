"""Bid store, status machine and bid serialization of the sandbox exchanger.

- Ids start at 1001 and increase by one; hashes are 32 hex chars drawn from `random.Random(seed)`.
- amount_give / amount_get of a bid are the amounts WITH commission (what the client pays /
  receives: the quote's sum_give_com / sum_get_com); pay_amount equals amount_give.
- Each bid follows a status path chosen at creation:
    success: new -> payed -> realpay -> verify -> success
    cancel:  new -> payed -> cancel
    error:   new -> payed -> realpay -> error
  The path is the direction's outcome (see catalogue.py: 105 cancels, 106 errors, others succeed),
  overridden by the give amount (sum_give, before commission): integer part ending in 13 -> error,
  ending in 66 -> cancel.
  advance() moves one step: coldnew -> new, techpay -> the path's second step, a status on the path ->
  the next one, any other non-final status -> the path's final status; final statuses do not move.
- Actions: cancel_bid from new/techpay/coldnew/amlwait/merchwait, pay_bid from new/techpay,
  success_bid from payed/realpay/verify/coldsuccess/partpayout/payouterror/scrpayerror; otherwise the
  API answers "no bid exists". api_actions by direction `actions`:
    default      type "default", pay "api", cancel "api", card instruction
    address      type "address", pay "api", cancel "api", deposit `address`, dest_tag ""
    address_tag  as address plus a numeric `dest_tag`
    link         type "link", pay = merchant URL (SITE/merchant/pay/HASH/), cancel "api"
    disabled     type "myaction", pay "disabled", cancel "disabled"
  Past new/techpay, api_actions.type is "finished" and pay/cancel are "disabled".
- Dates are rendered in the server's local zone, fixed at UTC+3 (Europe/Moscow, no DST).
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from bot.platforms.premiumexchanger.sandbox.catalogue import Direction
from bot.platforms.premiumexchanger.sandbox.money import fmt, quantize
from bot.platforms.premiumexchanger.sandbox.texts import T, status_title

SERVER_TZ = timezone(timedelta(hours=3), "MSK")
FINAL = frozenset({"success", "cancel", "delete", "error"})
CANCEL_FROM = frozenset({"new", "techpay", "coldnew", "amlwait", "merchwait"})
PAY_FROM = frozenset({"new", "techpay"})
SUCCESS_FROM = frozenset(
    {"payed", "realpay", "verify", "coldsuccess", "partpayout", "payouterror", "scrpayerror"}
)
PATHS: dict[str, tuple[str, ...]] = {
    "success": ("new", "payed", "realpay", "verify", "success"),
    "cancel": ("new", "payed", "cancel"),
    "error": ("new", "payed", "realpay", "error"),
}
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
PARTNER_REWARD_RATE = Decimal("0.005")  # of the give amount in USD


def server_date(ts: int) -> str:
    return datetime.fromtimestamp(ts, SERVER_TZ).strftime("%Y-%m-%d %H:%M:%S")


def outcome_for(direction: Direction, amount_give: Decimal) -> str:
    tail = int(amount_give) % 100
    if tail == 13:
        return "error"
    if tail == 66:
        return "cancel"
    return direction.outcome


def partner_reward(direction: Direction, amount_give: Decimal) -> Decimal:
    return quantize(amount_give * direction.give.usd_rate * PARTNER_REWARD_RATE, 2)


def _b58(hex_text: str, length: int) -> str:
    source = (hex_text * 3)[: length * 2]
    return "".join(_B58[int(source[i : i + 2], 16) % 58] for i in range(0, length * 2, 2))


def deposit_address(direction: Direction, bid_hash: str) -> tuple[str, str]:
    """(address, dest_tag) for the give currency of a crypto-deposit direction."""
    if direction.actions not in ("address", "address_tag"):
        return "", ""
    give = direction.give
    if give.code == "BTC":
        address = "bc1q" + (bid_hash * 2)[:38]
    elif give.id == 3:
        address = "T" + _b58(bid_hash, 33)
    elif give.code == "XRP":
        address = "r" + _b58(bid_hash[::-1], 33)
    else:
        address = "0x" + (bid_hash * 2)[:40]
    tag = str(int(bid_hash[:8], 16) % 1_000_000_000) if direction.actions == "address_tag" else ""
    return address, tag


@dataclass
class Bid:
    id: int
    hash: str
    login: str  # API login that created it; "" for the partner demo history (made on the site)
    direction: Direction
    sum_give: Decimal
    sum_get: Decimal
    amount_give: Decimal  # with commission
    amount_get: Decimal  # with commission
    outcome: str
    created: int
    api_id: str = ""
    user_ip: str = ""
    user_hash: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    partner_id: int = 0
    partner_reward: Decimal = Decimal(0)
    callback_url: str = ""
    address: str = ""
    dest_tag: str = ""
    history: list[tuple[int, str]] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.history[-1][1]

    @property
    def time(self) -> int:
        return self.history[-1][0]

    @property
    def course_give(self) -> Decimal:
        return self.direction.course_give

    @property
    def course_get(self) -> Decimal:
        return self.direction.course_get

    @property
    def final(self) -> bool:
        return self.status in FINAL

    def next_status(self) -> str | None:
        path = PATHS[self.outcome]
        status = self.status
        if status in FINAL:
            return None
        if status == "coldnew":
            return "new"
        if status == "techpay":
            return path[1]
        if status in path:
            return path[path.index(status) + 1]
        return path[-1]

    @property
    def can_pay_api(self) -> bool:
        return self.direction.actions in ("default", "address", "address_tag")

    @property
    def can_cancel_api(self) -> bool:
        return self.direction.actions != "disabled"


_INSTRUCTIONS = {
    "default": T(
        "<p>Transfer exactly <b>{amount} {code}</b> to the {psys} card "
        '<span class="js_copy">2200 7001 2345 6789</span>.</p><p>Then press <b>I paid</b>.<br>'
        "Do not write a payment comment.</p>",
        "<p>Переведите ровно <b>{amount} {code}</b> на карту {psys} "
        '<span class="js_copy">2200 7001 2345 6789</span>.</p><p>Затем нажмите <b>Я оплатил</b>.<br>'
        "Комментарий к платежу не пишите.</p>",
    ),
    "address": T(
        '<p>Send exactly <b>{amount} {code}</b> to the address <span class="js_copy">{address}</span>.</p>'
        "<p>The order is processed after 2 network confirmations.</p>",
        '<p>Отправьте ровно <b>{amount} {code}</b> на адрес <span class="js_copy">{address}</span>.</p>'
        "<p>Заявка обрабатывается после 2 подтверждений сети.</p>",
    ),
    "address_tag": T(
        '<p>Send exactly <b>{amount} {code}</b> to the address <span class="js_copy">{address}</span>'
        '<br>with the destination tag <span class="js_copy">{tag}</span>.</p>'
        "<p><b>Without the tag the payment is lost.</b></p>",
        '<p>Отправьте ровно <b>{amount} {code}</b> на адрес <span class="js_copy">{address}</span>'
        '<br>с тегом назначения <span class="js_copy">{tag}</span>.</p>'
        "<p><b>Без тега платёж будет потерян.</b></p>",
    ),
    "link": T(
        "<p>Press <b>Pay</b> to pay <b>{amount} {code}</b> on the merchant's page.</p>",
        "<p>Нажмите <b>Оплатить</b>, чтобы оплатить <b>{amount} {code}</b> на странице мерчанта.</p>",
    ),
    "disabled": T(
        '<p>This order is handled on the <a href="{url}">order page</a> of the site.</p>',
        '<p>Эта заявка обрабатывается на <a href="{url}">странице заявки</a> на сайте.</p>',
    ),
}


def bid_url(site: str, bid: Bid) -> str:
    return f"{site}/hst_{bid.hash}/"


def api_actions(site: str, bid: Bid, lang: str) -> dict:
    kind = bid.direction.actions
    give = bid.direction.give
    amount = fmt(bid.amount_give)
    out = {
        "type": {"default": "default", "link": "link", "disabled": "myaction"}.get(kind, "address"),
        "cancel": "api" if bid.can_cancel_api else "disabled",
        "pay": "api" if bid.can_pay_api else "disabled",
        "pay_amount": amount,
        "instruction": _INSTRUCTIONS[kind](lang).format(
            amount=amount,
            code=give.code,
            psys=give.psys(lang),
            address=bid.address,
            tag=bid.dest_tag,
            url=bid_url(site, bid),
        ),
        "address": bid.address,
        "dest_tag": bid.dest_tag,
    }
    if kind == "link":
        out["pay"] = f"{site}/merchant/pay/{bid.hash}/"
    if bid.status not in PAY_FROM:
        out.update(type="finished", cancel="disabled", pay="disabled", instruction="")
    return out


def bid_object(site: str, bid: Bid, lang: str) -> dict:
    d = bid.direction
    return {
        "url": bid_url(site, bid),
        "id": bid.id,
        "hash": bid.hash,
        "status": bid.status,
        "status_title": status_title(bid.status, lang),
        "psys_give": d.give.psys(lang),
        "psys_get": d.get.psys(lang),
        "currency_code_give": d.give.code,
        "currency_code_get": d.get.code,
        "amount_give": fmt(bid.amount_give),
        "amount_get": fmt(bid.amount_get),
        "course_give": fmt(bid.course_give),
        "course_get": fmt(bid.course_get),
        "api_actions": api_actions(site, bid, lang),
    }


def exchange_item(bid: Bid, lang: str, with_history: bool, partner: bool = False) -> dict:
    d = bid.direction
    item = {
        "id": bid.id,
        "api_id": bid.api_id,
        "time": bid.time,
        "date": server_date(bid.time),
        "psys_give": d.give.psys(lang),
        "psys_get": d.get.psys(lang),
        "currency_code_give": d.give.code,
        "currency_code_get": d.get.code,
        "course_give": fmt(bid.course_give),
        "course_get": fmt(bid.course_get),
        "amount_give": fmt(bid.amount_give),
        "amount_get": fmt(bid.amount_get),
        "exchange_success": 1 if bid.status == "success" else 0,
        "user_hash": bid.user_hash,
        "user_ip": bid.user_ip,
        "status": bid.status,
        "hash": bid.hash,
    }
    if partner:
        item["accrued"] = 1 if bid.status == "success" else 0
        item["partner_reward"] = fmt(bid.partner_reward)
    if with_history:
        item["statuses"] = [{"time": t, "date": server_date(t), "status": s} for t, s in bid.history]
    return item


class BidStore:
    """Bids created through the API. `notify(bid)` is called after every status change but the first."""

    def __init__(self, now: Callable[[], float], seed: int, notify: Callable[[Bid], None]) -> None:
        self._now = now
        self._rng = random.Random(seed)
        self._notify = notify
        self.bids: dict[int, Bid] = {}
        self.next_id = 1001

    def new_hash(self) -> str:
        return f"{self._rng.getrandbits(128):032x}"

    def add(self, bid: Bid) -> Bid:
        self.bids[bid.id] = bid
        self.next_id = max(self.next_id, bid.id + 1)
        return bid

    def find(self, login: str, bid_id: str | None, bid_hash: str | None) -> Bid | None:
        bid = None
        if bid_id and bid_id.strip().isdigit():
            bid = self.bids.get(int(bid_id.strip()))
        elif bid_hash and bid_hash.strip():
            bid = next((b for b in self.bids.values() if b.hash == bid_hash.strip()), None)
        if bid is None or bid.login != login:
            return None
        return bid

    def api_id_taken(self, login: str, api_id: str) -> bool:
        return any(b.login == login and b.api_id == api_id for b in self.bids.values())

    def set_status(self, bid: Bid, status: str) -> None:
        bid.history.append((int(self._now()), status))
        self._notify(bid)

    def advance(self, bid: Bid) -> str:
        nxt = bid.next_status()
        if nxt is not None:
            self.set_status(bid, nxt)
        return bid.status
