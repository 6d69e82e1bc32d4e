"""Partner-program demo data and payouts of the sandbox exchanger.

Every key of a real user (user_id != 0) has a partner account; the "System" key (DEMO, user 0)
answers "no partner id". Balances are in USD, min_payout is 10 USD for everybody.

PARTNER (user 7): generated at start() relative to the sandbox's now(), from `random.Random(seed)`:
  - ~1,250 clicks over the last 70 days (about 20-27 a day in the last 30 days, so a 30-day window
    holds more than 500 and needs paging), at least 5 in the last 10 minutes, ids ascending by time.
    query_string "rid=7" plus utm_source/utm_medium/utm_campaign for about 3 in 4 clicks
    (telegram/channel/spring, telegram/channel/summer_promo, google/cpc/brand, vk/post/giveaway,
    youtube/video/review); referrer, browser (user agent), ip and user_hash come from a pool of 400
    visitors, so distinct user_hash < clicks.
  - ~175 partner exchanges (ids 412..~900, older than the API-created bids from 1001) on every
    direction but 109: about 65 % success (accrued 1), the rest cancel / error and, in the last two days,
    some still open (new / payed / verify). partner_reward = 0.5 % of the give amount in USD.
  - 6 payouts covering every status: 1 paid (three of them), 2 refused, 3 cancelled by user, 0 pending.
  balance = accrued rewards - paid and pending payouts; it stays well above min_payout.
NEWBIE (user 9), RESTRICTED (8), IP_LOCKED (10): no clicks, exchanges or payouts, balance 0.
Bids created through create_bid with partner_id=<a user id above> are credited to that partner
(reward computed at creation, accrued once the bid reaches success).

Payout methods (get_partner_info items, spelled `comission`):
  1 "Tether TRC20 USDT" 2 % · 2 "Payeer USD" 1 % · 3 "Sberbank RUB" 3 % (95 RUB per USD)
add_partner_payout pays out the whole balance; its errors (all error "1"):
  "payout method not found", "account is empty", "Payout amount is less than minimum".
"""

import hashlib
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from bot.platforms.premiumexchanger.sandbox.bids import PATHS, Bid, partner_reward, server_date
from bot.platforms.premiumexchanger.sandbox.calc import quote
from bot.platforms.premiumexchanger.sandbox.catalogue import DIRECTIONS
from bot.platforms.premiumexchanger.sandbox.money import D, fmt, quantize
from bot.platforms.premiumexchanger.sandbox.texts import T

DAY = 86400
MIN_PAYOUT = D(10)


@dataclass(frozen=True)
class PayoutMethod:
    id: int
    title: T
    percent: Decimal
    currency_code: str
    per_usd: Decimal

    def convert(self, usd: Decimal) -> Decimal:
        return quantize(usd * self.per_usd * (1 - self.percent / 100), 2)


PAYOUT_METHODS: dict[int, PayoutMethod] = {
    m.id: m
    for m in (
        PayoutMethod(1, T("Tether TRC20 USDT", "Тезер TRC20 USDT"), D(2), "USDT", D(1)),
        PayoutMethod(2, T("Payeer USD", "Пайер USD"), D(1), "USD", D(1)),
        PayoutMethod(3, T("Sberbank RUB", "Сбербанк RUB"), D(3), "RUB", D(95)),
    )
}


@dataclass
class Click:
    id: int
    time: int
    browser: str
    ip: str
    referrer: str
    user_hash: str
    query_string: str

    def item(self) -> dict:
        return {
            "id": self.id,
            "time": self.time,
            "date": server_date(self.time),
            "browser": self.browser,
            "ip": self.ip,
            "referrer": self.referrer,
            "user_hash": self.user_hash,
            "query_string": self.query_string,
        }


@dataclass
class Payout:
    id: int
    time: int
    method_id: int
    account: str
    pay_amount: Decimal
    pay_currency_code: str
    original_amount: Decimal
    status: int  # 0 pending, 1 paid, 2 refused, 3 cancelled by user

    def item(self) -> dict:
        return {
            "id": self.id,
            "time": self.time,
            "date": server_date(self.time),
            "method_id": self.method_id,
            "account": self.account,
            "pay_amount": fmt(self.pay_amount),
            "pay_currency_code": self.pay_currency_code,
            "original_amount": fmt(self.original_amount),
            "original_currency_code": "USD",
            "status": self.status,
        }


@dataclass
class PartnerAccount:
    user_id: int
    clicks: list[Click] = field(default_factory=list)
    history: list[Bid] = field(default_factory=list)  # exchanges made on the site
    payouts: list[Payout] = field(default_factory=list)


class PayoutError(Exception):
    pass


_BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 "
    "Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 "
    "Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
    "Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "TelegramBot (like TwitterBot)",
)
_CAMPAIGNS = (
    ("telegram", "channel", "spring", "https://t.me/"),
    ("telegram", "channel", "summer_promo", "https://t.me/"),
    ("google", "cpc", "brand", "https://www.google.com/"),
    ("vk", "post", "giveaway", "https://vk.com/"),
    ("youtube", "video", "review", "https://www.youtube.com/"),
)
_NO_UTM_REFERRERS = ("", "https://yandex.ru/", "https://bestchange.ru/", "https://forum.example.org/t/123")
_PAYOUT_ACCOUNTS = {1: "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE", 2: "P1048576", 3: "2200700123456789"}


def _generate_partner(account: PartnerAccount, now: int, rng: random.Random, first_bid_id: int) -> None:
    visitors = [
        (
            f"{rng.getrandbits(64):016x}",
            f"{rng.randint(5, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            rng.choice(_BROWSERS),
        )
        for _ in range(400)
    ]
    times: list[int] = [now - rng.randint(0, 600) for _ in range(5)]
    for day in range(70):
        count = rng.randint(18, 26) if day < 30 else rng.randint(12, 18)
        times += [now - day * DAY - rng.randint(0, DAY - 1) for _ in range(count)]
    times.sort()
    for index, t in enumerate(times, start=1):
        user_hash, ip, browser = rng.choice(visitors)
        qs = f"rid={account.user_id}"
        if rng.random() < 0.75:
            source, medium, campaign, referrer = rng.choice(_CAMPAIGNS)
            qs += f"&utm_source={source}&utm_medium={medium}&utm_campaign={campaign}"
        else:
            referrer = rng.choice(_NO_UTM_REFERRERS)
        account.clicks.append(Click(index, t, browser, ip, referrer, user_hash, qs))

    directions = [d for d in DIRECTIONS.values() if d.api_allowed]
    starts = sorted(
        now - day * DAY - rng.randint(3600, DAY - 1) for day in range(70) for _ in range(rng.randint(1, 4))
    )
    bid_id = first_bid_id
    for start in starts:
        direction = rng.choice(directions)
        base = direction.min_give or direction.default_give / 10
        factor = D(rng.choice(("1", "1.5", "2", "3", "5", "8", "12")))
        amount = quantize(base * factor, direction.give.decimals)
        q = quote(direction, amount, 1, {})
        roll = rng.random()
        recent = now - start < 2 * DAY
        if recent and roll < 0.3:
            outcome, stop = "success", rng.choice(("new", "payed", "verify"))
        elif roll < 0.68:
            outcome, stop = "success", "success"
        elif roll < 0.93:
            outcome, stop = "cancel", "cancel"
        else:
            outcome, stop = "error", "error"
        path = PATHS[outcome]
        steps = path[: path.index(stop) + 1]
        t = start
        history = []
        for status in steps:
            history.append((t, status))
            t = min(t + rng.randint(120, 1800), now)
        user_hash, ip, _ = rng.choice(visitors)
        bid = Bid(
            id=bid_id,
            hash=f"{rng.getrandbits(128):032x}",
            login="",
            direction=direction,
            sum_give=q.sum_give,
            sum_get=q.sum_get,
            amount_give=q.sum_give_com,
            amount_get=q.sum_get_com,
            outcome=outcome,
            created=start,
            user_ip=ip,
            user_hash=user_hash,
            partner_id=account.user_id,
            partner_reward=partner_reward(direction, q.sum_give_com),
            history=history,
        )
        account.history.append(bid)
        bid_id += rng.randint(1, 4)

    accrued = sum((b.partner_reward for b in account.history if b.status == "success"), D(0))
    plan = (  # (days ago, share of accrued, method, status)
        (64, "0.30", 1, 1),
        (50, "0.10", 3, 2),
        (41, "0.20", 2, 1),
        (27, "0.05", 1, 3),
        (15, "0.15", 3, 1),
        (2, "0.05", 1, 0),
    )
    for index, (days, share, method_id, status) in enumerate(plan, start=31):
        usd = quantize(accrued * D(share), 2)
        method = PAYOUT_METHODS[method_id]
        account.payouts.append(
            Payout(
                index,
                now - days * DAY - rng.randint(0, DAY // 2),
                method_id,
                _PAYOUT_ACCOUNTS[method_id],
                method.convert(usd),
                method.currency_code,
                usd,
                status,
            )
        )


class PartnerBook:
    def __init__(self, user_ids: Iterable[int]) -> None:
        self.accounts: dict[int, PartnerAccount] = {uid: PartnerAccount(uid) for uid in user_ids if uid}

    def generate(self, user_id: int, now: int, seed: int) -> None:
        account = PartnerAccount(user_id)
        _generate_partner(account, now, random.Random(seed * 1000 + user_id), first_bid_id=412)
        self.accounts[user_id] = account

    def exchanges(self, user_id: int, live: Iterable[Bid]) -> list[Bid]:
        account = self.accounts[user_id]
        return account.history + [b for b in live if b.partner_id == user_id]

    def balance(self, user_id: int, live: Iterable[Bid]) -> Decimal:
        rewards = [b.partner_reward for b in self.exchanges(user_id, live) if b.status == "success"]
        accrued = sum(rewards, D(0))
        taken = sum((p.original_amount for p in self.accounts[user_id].payouts if p.status in (0, 1)), D(0))
        return quantize(accrued - taken, 2)

    def info(self, user_id: int, live: Iterable[Bid], lang: str) -> dict:
        balance = self.balance(user_id, live)
        return {
            "partner_id": user_id,
            "balance": fmt(balance),
            "min_payout": fmt(MIN_PAYOUT),
            "items": [
                {
                    "id": m.id,
                    "title": m.title(lang),
                    "comission": f"{fmt(m.percent)}%",
                    "amount": fmt(m.convert(max(balance, D(0)))),
                }
                for m in PAYOUT_METHODS.values()
            ],
        }

    def add_payout(
        self, user_id: int, method_id: str, account_text: str, live: Iterable[Bid], now: Callable[[], float]
    ) -> int:
        method = PAYOUT_METHODS.get(int(method_id)) if method_id.strip().isdigit() else None
        if method is None:
            raise PayoutError("payout method not found")
        if not account_text.strip():
            raise PayoutError("account is empty")
        balance = self.balance(user_id, live)
        if balance < MIN_PAYOUT:
            raise PayoutError("Payout amount is less than minimum")
        payouts = self.accounts[user_id].payouts
        payout_id = max((p.id for p in self.all_payouts()), default=30) + 1
        payouts.append(
            Payout(
                payout_id,
                int(now()),
                method.id,
                account_text.strip(),
                method.convert(balance),
                method.currency_code,
                balance,
                0,
            )
        )
        return payout_id

    def record_click(
        self, user_id: int, now: int, *, browser: str, ip: str, referrer: str, query_string: str
    ) -> Click | None:
        """A visit of a site page with ``?rid=<user_id>`` (the site ignores an unknown partner)."""
        account = self.accounts.get(user_id)
        if account is None:
            return None
        click_id = max((c.id for a in self.accounts.values() for c in a.clicks), default=0) + 1
        user_hash = hashlib.md5(f"{ip}|{browser}".encode()).hexdigest()
        click = Click(click_id, now, browser, ip, referrer, user_hash, query_string)
        account.clicks.append(click)
        return click

    def all_payouts(self) -> list[Payout]:
        return [p for a in self.accounts.values() for p in a.payouts]
