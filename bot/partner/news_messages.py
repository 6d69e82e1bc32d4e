"""The partner news notification (outbox kind :data:`NEWS_KIND`), rendered at send time in the chat's
language from the payload :func:`bot.partner.watch.news_payload` wrote. Importing this module
registers the renderer."""

from __future__ import annotations

import html
from decimal import Decimal, InvalidOperation

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.domain.money import format_money
from bot.i18n import N_
from bot.notifications.messages import RenderContext, Rendered, register_renderer
from bot.storage.outbox import OutboxItem
from bot.text import shorten
from handlers.partner.callbacks import PartnerCb

NEWS_KIND = "partner_news"
KEY_REJECTED = "key_rejected"  # payload "news": the platform rejected the key, polling stopped
TEXT = 64  # campaign tags and codes come from visitors' links and the site: short, escaped

_COMPLETED = N_("🎉 A referred exchange completed: <b>+{reward}</b> reward, {pair}.")
_COMPLETED_NO_REWARD = N_("🎉 A referred exchange completed: {pair}.")
_CAMPAIGN = N_("Campaign: {campaign}")
_PAYOUT = {
    "paid": N_("💸 Payout {number} is paid: <b>{amount}</b>."),
    "pending": N_("⏳ Payout {number} of {amount} is waiting to be paid."),
    "refused": N_("❌ Payout {number} of {amount} was rejected."),
    "cancelled": N_("🚫 Payout {number} of {amount} was cancelled."),
}
_PAYOUT_OTHER = N_("💸 Payout {number} of {amount}: {status}.")
_TX = N_("Transaction: <code>{tx}</code>")
_NOTE = N_("The exchange says: {note}")
_KEY_REJECTED = N_(
    "🔑 The exchange no longer accepts your linked partner key, so I stopped sending you partner "
    "notifications. Link a key again with /login."
)
_OPEN = N_("🤝 Open the cabinet")


def _text(value: object, limit: int = TEXT) -> str:
    return html.escape(shorten(" ".join(str(value or "").split()), limit))


def _money(amount: object, code: object, locale: str) -> str | None:
    if amount is None:
        return None
    try:
        return format_money(Decimal(str(amount)), shorten(str(code or ""), TEXT), exact=True, locale=locale)
    except (InvalidOperation, ValueError):  # not a finite number
        return None


def _keyboard(ctx: RenderContext, locale: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=ctx.gettext(_OPEN, locale), callback_data=PartnerCb(screen="home"))
    return kb.as_markup()


@register_renderer(NEWS_KIND)
async def render_partner_news(ctx: RenderContext, item: OutboxItem, locale: str) -> Rendered | None:
    payload = item.payload
    if payload.get("platform") != ctx.services.platform.info.name:
        return None  # queued under another platform: its keys and wording no longer apply
    kind = payload.get("news")
    t = ctx.gettext
    if kind == KEY_REJECTED:
        return Rendered(t(_KEY_REJECTED, locale))
    if kind == "exchange_completed":
        pair = f"{_text(payload.get('give') or '?')} → {_text(payload.get('get') or '?')}"
        reward = _money(payload.get("reward"), payload.get("reward_currency"), locale)
        lines = [
            t(_COMPLETED, locale).format(reward=reward, pair=pair)
            if reward
            else t(_COMPLETED_NO_REWARD, locale).format(pair=pair)
        ]
        if payload.get("campaign"):
            lines.append(t(_CAMPAIGN, locale).format(campaign=_text(payload["campaign"])))
        return Rendered("\n".join(lines), _keyboard(ctx, locale))
    if kind == "payout_changed":
        number = _text(payload.get("number") or payload.get("payout_id") or "")
        amount = _money(payload.get("amount"), payload.get("currency"), locale) or "—"
        status = str(payload.get("status") or "")
        template = _PAYOUT.get(status)
        if template is not None:
            lines = [t(template, locale).format(number=number, amount=amount)]
        else:
            lines = [
                t(_PAYOUT_OTHER, locale).format(
                    number=number, amount=amount, status=_text(payload.get("status_code") or status)
                )
            ]
        if status == "paid" and payload.get("tx_id"):
            lines.append(t(_TX, locale).format(tx=_text(payload["tx_id"], 160)))
        if status == "refused" and payload.get("note"):
            lines.append(t(_NOTE, locale).format(note=_text(payload["note"])))
        return Rendered("\n".join(lines), _keyboard(ctx, locale))
    return None
