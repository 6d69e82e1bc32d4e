"""Texts of the exchange conversation. Server HTML goes through bot.text before it reaches Telegram."""

from __future__ import annotations

from decimal import Decimal
from html import escape

from aiogram.utils.i18n import gettext as _

from bot.domain.models import AmountSide, Direction, FieldKind, FormField, Pricing
from bot.domain.money import AmountErrorReason, format_money
from bot.exchange.draft import ExchangeDraft, QuoteSnapshot
from bot.text import plain_text, shorten, telegram_html


def money(amount: Decimal | None, code: str) -> str:
    # exact: show the exchanger's own figure, never one rounded up past what the customer receives.
    return format_money(amount, code, exact=True) if amount is not None else "—"


def side_code(pricing: Pricing, side: AmountSide) -> str:
    """The currency an amount typed on ``side`` is in."""
    return pricing.give_currency_code if side.is_give else pricing.get_currency_code


def _limits(low: Decimal | None, high: Decimal | None, code: str) -> str | None:
    if low is not None and high is not None:
        return _("from {low} to {high}").format(low=money(low, code), high=money(high, code))
    if low is not None:
        return _("at least {low}").format(low=money(low, code))
    if high is not None:
        return _("at most {high}").format(high=money(high, code))
    return None


USD = "USD"


def limit_lines(pricing: Pricing) -> list[str]:
    lines = []
    if give := _limits(pricing.min_give, pricing.max_give, pricing.give_currency_code):
        lines.append(_("You give: {limits}").format(limits=give))
    if get := _limits(pricing.min_get, pricing.max_get, pricing.get_currency_code):
        lines.append(_("You receive: {limits}").format(limits=get))
    if usd := _limits(pricing.min_usd, pricing.max_usd, USD):
        lines.append(_("In US dollars: {limits}").format(limits=usd))
    return lines


def floating_line() -> str:
    return _("📈 The rate may change until your payment arrives.")


def side_label(side: AmountSide, direction: Direction) -> str:
    give, get = escape(direction.give_currency_code), escape(direction.get_currency_code)
    return {
        AmountSide.GIVE: _("I give {code}").format(code=give),
        AmountSide.GET: _("I receive {code}").format(code=get),
        AmountSide.GIVE_WITH_FEES: _("I give {code}, fees included").format(code=give),
        AmountSide.GET_WITH_FEES: _("I receive {code}, fees deducted").format(code=get),
    }[side]


def direction_card(direction: Direction, give_title: str, get_title: str, side: AmountSide) -> str:
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
    for fee in (direction.give_fee_text, direction.get_fee_text):
        if text := telegram_html(fee, limit=300):
            lines.append(f"💸 {text}")
    if direction.floating_rate and not direction.notes.timeline:  # the platform's note says it better
        lines.append(floating_line())
    if info := telegram_html(direction.notes.timeline, limit=1500):
        lines += ["", info]
    lines += ["", amount_prompt(direction, side)]
    return "\n".join(lines)


def amount_prompt(direction: Direction, side: AmountSide) -> str:
    return _(
        "✍️ Type the amount ({meaning}), for example 1500 or 0.5. The buttons change what it means."
    ).format(meaning=side_label(side, direction))


def amount_error(reason: AmountErrorReason) -> str:
    return {
        AmountErrorReason.EMPTY: _("Please type an amount, for example 1500 or 0.5."),
        AmountErrorReason.NOT_A_NUMBER: _("That is not a number. Type digits, for example 1500 or 0.5."),
        AmountErrorReason.ZERO: _("The amount must be more than zero."),
        AmountErrorReason.NEGATIVE: _("The amount cannot be negative."),
        AmountErrorReason.SCIENTIFIC: _("Please write the amount in full digits, for example 0.0001."),
        AmountErrorReason.TOO_MANY_DECIMALS: _("Too many digits after the point: at most 8."),
    }[reason]


def quote_lines(quote: QuoteSnapshot, *, floating_note: bool = True) -> list[str]:
    gives = _("You give: <b>{amount}</b>").format(amount=money(quote.pays, quote.give_code))
    if quote.give_usd is not None:
        gives += " " + _("(≈ {amount})").format(amount=money(quote.give_usd, USD))
    lines = [gives, _("You receive: <b>{amount}</b>").format(amount=money(quote.receives, quote.get_code))]
    if quote.floating_rate and floating_note:
        lines.append(floating_line())
    return lines


def out_of_limits(quote: QuoteSnapshot, side: AmountSide, pricing: Pricing, suggested: Decimal) -> str:
    code = quote.give_code if side.is_give else quote.get_code
    lines = [_("⚠️ This amount is outside the exchange's limits.")]
    lines += limit_lines(pricing)
    lines += ["", _("The nearest possible amount is {amount}:").format(amount=money(suggested, code))]
    lines += quote_lines(quote)
    lines += ["", _("Use it, or type another amount.")]
    return "\n".join(lines)


def amount_refused(
    direction: Direction,
    side: AmountSide,
    reason: str,
    low: Decimal | None = None,
    high: Decimal | None = None,
) -> str:
    """The exchange refused the amount: why (already safe HTML), its limits, and the prompt again."""
    lines = [f"⚠️ {reason}"]
    if low is not None or high is not None:
        limits = _limits(low, high, side_code(direction, side))
        lines.append(_("Possible amounts: {limits}").format(limits=limits))
    else:
        lines += limit_lines(direction)
    lines += ["", amount_prompt(direction, side)]
    return "\n".join(lines)


def field_prompt(spec: FormField, position: int, total: int, error: str | None = None) -> str:
    lines = []
    if error:
        lines += [f"⚠️ {error}", ""]
    lines.append(
        _("<b>{label}</b> (step {position} of {total})").format(
            label=escape(plain_text(spec.label) or spec.name), position=position, total=total
        )
    )
    if spec.hint:
        lines.append(f"<i>{escape(plain_text(spec.hint))}</i>")
    if spec.kind is FieldKind.SELECT:
        lines.append(_("Choose one of the options."))
    elif spec.kind is FieldKind.CHECKBOX:
        lines.append(escape(plain_text(spec.checkbox_text or spec.label)))
    elif spec.kind is FieldKind.TEXTAREA:
        lines.append(_("Type your answer (several lines are fine)."))
    else:
        lines.append(_("Type your answer."))
    if not spec.required:
        lines.append(_("This one is optional: you can skip it."))
    return "\n".join(lines)


def display_value(spec: FormField, value: str) -> str:
    if not value:
        return "—"
    if spec.kind is FieldKind.SELECT:
        labels = {option.key: option.label for option in spec.options}
        return escape(plain_text(labels.get(value, value)))
    if spec.kind is FieldKind.CHECKBOX:
        return _("Yes")
    return escape(shorten(value, 80))


def summary(direction: Direction, draft: ExchangeDraft, give_title: str, get_title: str) -> str:
    lines = [
        _("<b>Please check your order</b>"),
        "",
        _("{give} → {get}").format(give=escape(give_title), get=escape(get_title)),
    ]
    if draft.quote is not None:
        lines += quote_lines(draft.quote, floating_note=not direction.notes.before_confirm)
    if direction.fields:
        lines.append("")
        for spec in direction.fields:
            label = escape(plain_text(spec.label) or spec.name)
            lines.append(f"{label}: {display_value(spec, draft.fields.get(spec.name, ''))}")
    if before := telegram_html(direction.notes.before_confirm, limit=800):
        lines += ["", before]
    lines += ["", _("Press Confirm to create the order.")]
    return "\n".join(lines)
