"""Texts of the exchange conversation. Server HTML goes through bot.text before it reaches Telegram."""

from __future__ import annotations

from decimal import Decimal
from html import escape

from aiogram.utils.i18n import gettext as _

from bot.exchange.draft import ExchangeDraft, QuoteSnapshot
from bot.exchanger.models import CalcAction, Direction, FieldSpec, FieldType, Pricing
from bot.money import AmountErrorReason, format_money
from bot.text import plain_text, shorten, telegram_html


def money(amount: Decimal | None, code: str) -> str:
    # exact: show the exchanger's own figure, never one rounded up past what the customer receives.
    return format_money(amount, code, exact=True) if amount is not None else "—"


def pair(direction: Direction) -> str:
    return f"{escape(direction.give_currency_code)} → {escape(direction.get_currency_code)}"


def _limits(low: Decimal | None, high: Decimal | None, code: str) -> str | None:
    if low is not None and high is not None:
        return _("from {low} to {high}").format(low=money(low, code), high=money(high, code))
    if low is not None:
        return _("at least {low}").format(low=money(low, code))
    if high is not None:
        return _("at most {high}").format(high=money(high, code))
    return None


def limit_lines(pricing: Pricing) -> list[str]:
    lines = []
    if give := _limits(pricing.min_give, pricing.max_give, pricing.give_currency_code):
        lines.append(_("You give: {limits}").format(limits=give))
    if get := _limits(pricing.min_get, pricing.max_get, pricing.get_currency_code):
        lines.append(_("You receive: {limits}").format(limits=get))
    return lines


def action_label(action: CalcAction, direction: Direction) -> str:
    give, get = escape(direction.give_currency_code), escape(direction.get_currency_code)
    return {
        CalcAction.GIVE: _("I give {code}").format(code=give),
        CalcAction.GET: _("I receive {code}").format(code=get),
        CalcAction.GIVE_WITH_COMMISSION: _("I give {code}, fees included").format(code=give),
        CalcAction.GET_WITH_COMMISSION: _("I receive {code}, fees deducted").format(code=get),
    }[action]


def direction_card(direction: Direction, give_title: str, get_title: str, action: CalcAction) -> str:
    lines = [
        _("<b>{give} → {get}</b>").format(give=escape(give_title), get=escape(get_title)),
        "",
        _("Rate: {give} = {get}").format(
            give=money(direction.give_rate, direction.give_currency_code),
            get=money(direction.get_rate, direction.get_currency_code),
        ),
    ]
    if direction.reserve is not None:
        lines.append(
            _("Reserve: {amount}").format(amount=money(direction.reserve, direction.get_currency_code))
        )
    lines += limit_lines(direction)
    for commission in (direction.give_commission_text, direction.get_commission_text):
        if text := telegram_html(commission, limit=300):
            lines.append(f"💸 {text}")
    if info := telegram_html(direction.info.timeline_text, limit=1500):
        lines += ["", info]
    lines += ["", amount_prompt(direction, action)]
    return "\n".join(lines)


def amount_prompt(direction: Direction, action: CalcAction) -> str:
    return _(
        "✍️ Type the amount ({meaning}), for example 1500 or 0.5. The buttons change what it means."
    ).format(meaning=action_label(action, direction))


def amount_error(reason: AmountErrorReason) -> str:
    return {
        AmountErrorReason.EMPTY: _("Please type an amount, for example 1500 or 0.5."),
        AmountErrorReason.NOT_A_NUMBER: _("That is not a number. Type digits, for example 1500 or 0.5."),
        AmountErrorReason.ZERO: _("The amount must be more than zero."),
        AmountErrorReason.NEGATIVE: _("The amount cannot be negative."),
        AmountErrorReason.SCIENTIFIC: _("Please write the amount in full digits, for example 0.0001."),
        AmountErrorReason.TOO_MANY_DECIMALS: _("Too many digits after the point: at most 8."),
    }[reason]


def quote_lines(quote: QuoteSnapshot) -> list[str]:
    return [
        _("You give: <b>{amount}</b>").format(amount=money(quote.pays, quote.give_code)),
        _("You receive: <b>{amount}</b>").format(amount=money(quote.receives, quote.get_code)),
    ]


def out_of_limits(quote: QuoteSnapshot, action: CalcAction, pricing: Pricing, suggested: Decimal) -> str:
    code = quote.give_code if action in (1, 3) else quote.get_code
    lines = [_("⚠️ This amount is outside the exchange's limits.")]
    lines += limit_lines(pricing)
    lines += ["", _("The nearest possible amount is {amount}:").format(amount=money(suggested, code))]
    lines += quote_lines(quote)
    lines += ["", _("Use it, or type another amount.")]
    return "\n".join(lines)


def field_prompt(spec: FieldSpec, position: int, total: int, error: str | None = None) -> str:
    lines = []
    if error:
        lines += [f"⚠️ {error}", ""]
    lines.append(
        _("<b>{label}</b> (step {position} of {total})").format(
            label=escape(plain_text(spec.label) or spec.name), position=position, total=total
        )
    )
    if spec.tooltip:
        lines.append(f"<i>{escape(plain_text(spec.tooltip))}</i>")
    if spec.type is FieldType.SELECT:
        lines.append(_("Choose one of the options."))
    elif spec.type is FieldType.CHECKBOX:
        lines.append(escape(plain_text(spec.checkbox_text or spec.label)))
    elif spec.type is FieldType.TEXTAREA:
        lines.append(_("Type your answer (several lines are fine)."))
    else:
        lines.append(_("Type your answer."))
    if not spec.required:
        lines.append(_("This one is optional: you can skip it."))
    return "\n".join(lines)


def display_value(spec: FieldSpec, value: str) -> str:
    if not value:
        return "—"
    if spec.type is FieldType.SELECT:
        labels = dict(spec.options)
        return escape(plain_text(labels.get(value, value)))
    if spec.type is FieldType.CHECKBOX:
        return _("Yes")
    return escape(shorten(value, 80))


def summary(direction: Direction, draft: ExchangeDraft, give_title: str, get_title: str) -> str:
    lines = [
        _("<b>Please check your order</b>"),
        "",
        _("{give} → {get}").format(give=escape(give_title), get=escape(get_title)),
    ]
    if draft.quote is not None:
        lines += quote_lines(draft.quote)
    if direction.fields:
        lines.append("")
        for spec in direction.fields:
            label = escape(plain_text(spec.label) or spec.name)
            lines.append(f"{label}: {display_value(spec, draft.fields.get(spec.name, ''))}")
    if before := telegram_html(direction.info.before_button_text, limit=800):
        lines += ["", before]
    lines += ["", _("Press Confirm to create the order.")]
    return "\n".join(lines)
