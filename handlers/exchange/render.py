"""Texts of the exchange conversation. Server HTML goes through bot.text before it reaches Telegram."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from html import escape

from aiogram.utils.i18n import gettext as _

from bot.domain.models import AmountSide, Direction, FieldKind, FormField, Pricing
from bot.domain.money import AmountErrorReason, format_amount, format_money
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


def side_label(side: AmountSide, direction: Direction, *, html: bool = True) -> str:
    """The button of an amount meaning (``QuotingService.sides``: exactly what is sent or received);
    ``html=False`` for the button itself (labels are plain text), True to quote it in a message."""
    quote = escape if html else str
    if side.is_give:
        return _("I send exactly … {code}").format(code=quote(direction.give_currency_code))
    return _("I receive exactly … {code}").format(code=quote(direction.get_currency_code))


def fee_lines(pricing: Pricing) -> list[str]:
    """The platform's fee texts, each once, with the currency it is charged in."""
    lines: list[str] = []
    seen: set[str] = set()
    for fee, code in (
        (pricing.give_fee_text, pricing.give_currency_code),
        (pricing.get_fee_text, pricing.get_currency_code),
    ):
        text = telegram_html(fee, limit=300)
        said = plain_text(fee).strip()
        if not text or said in seen:
            continue
        seen.add(said)
        if code and code.casefold() not in said.casefold():
            text = _("{fee} (in {code})").format(fee=text, code=escape(code))
        lines.append(f"💸 {text}")
    return lines


def direction_card(
    direction: Direction,
    give_title: str,
    get_title: str,
    side: AmountSide,
    sides: Sequence[AmountSide] = (),
) -> str:
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
    lines += fee_lines(direction)
    if direction.floating_rate and not direction.notes.timeline:  # the platform's note says it better
        lines.append(floating_line())
    if info := telegram_html(direction.notes.timeline, limit=1500):
        lines += ["", info]
    lines += ["", amount_prompt(direction, side, sides)]
    return "\n".join(lines)


def amount_prompt(direction: Direction, side: AmountSide, sides: Sequence[AmountSide] = ()) -> str:
    """What to type and what it means; with one sentence on the other meaning, when there is one."""
    if side.is_give:
        code = escape(direction.give_currency_code)
        text = _(
            "✍️ Type how much {code} you send, for example 1500 or 0.5. It is exactly what you pay: "
            "fees, if any, come out of it."
        ).format(code=code)
    else:
        code = escape(direction.get_currency_code)
        text = _(
            "✍️ Type how much {code} you want to receive, for example 1500 or 0.5. It is exactly what "
            "you get: fees, if any, are added to what you send."
        ).format(code=code)
    other = next((s for s in sides if s.is_give != side.is_give), None)
    if other is not None:
        text += " " + _("To type the other amount instead, tap «{label}».").format(
            label=side_label(other, direction)
        )
    return text


def amount_error(reason: AmountErrorReason) -> str:
    return {
        AmountErrorReason.EMPTY: _("Please type an amount, for example 1500 or 0.5."),
        AmountErrorReason.NOT_A_NUMBER: _("That is not a number. Type digits, for example 1500 or 0.5."),
        AmountErrorReason.ZERO: _("The amount must be more than zero."),
        AmountErrorReason.NEGATIVE: _("The amount cannot be negative."),
        AmountErrorReason.SCIENTIFIC: _("Please write the amount in full digits, for example 0.0001."),
        AmountErrorReason.TOO_MANY_DECIMALS: _("Too many digits after the point: at most 8."),
        AmountErrorReason.AMBIGUOUS: _("Please type the amount in full digits, for example 1500 or 0.5."),
    }[reason]


def direction_refused() -> str:
    return _(
        "😕 The exchange does not take orders in this direction through the bot, so nothing was "
        "created. Please choose another direction."
    )


def _fee(before: Decimal | None, after: Decimal | None) -> Decimal | None:
    if before is None or after is None or after == before:
        return None
    return abs(after - before)


def quote_fees(quote: QuoteSnapshot) -> list[str]:
    """Each fee of the quote once, as an amount in its currency."""
    fees = []
    if (give := _fee(quote.give_amount, quote.give_amount_with_fees)) is not None:
        fees.append(money(give, quote.give_code))
    if (get := _fee(quote.get_amount, quote.get_amount_with_fees)) is not None:
        fees.append(money(get, quote.get_code))
    return fees


def quote_lines(quote: QuoteSnapshot, *, floating_note: bool = True) -> list[str]:
    gives = _("You give: <b>{amount}</b>").format(amount=money(quote.pays, quote.give_code))
    if quote.give_usd is not None:
        gives += " " + _("(≈ {amount})").format(amount=money(quote.give_usd, USD))
    lines = [gives, _("You receive: <b>{amount}</b>").format(amount=money(quote.receives, quote.get_code))]
    if fees := quote_fees(quote):
        lines.append(_("💸 Fees, already counted above: {fees}").format(fees=", ".join(fees)))
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
    sides: Sequence[AmountSide] = (),
) -> str:
    """The exchange refused the amount: why (already safe HTML), its limits, and the prompt again."""
    lines = [f"⚠️ {reason}"]
    if low is not None or high is not None:
        limits = _limits(low, high, side_code(direction, side))
        lines.append(_("Possible amounts: {limits}").format(limits=limits))
    else:
        lines += limit_lines(direction)
    lines += ["", amount_prompt(direction, side, sides)]
    return "\n".join(lines)


def over_reserve(
    direction: Direction, reserve: Decimal, side: AmountSide, sides: Sequence[AmountSide]
) -> str:
    """The quote would pay more than the exchange has: the most it can pay, and the prompt again."""
    lines = [
        _("⚠️ The exchange can pay at most {amount} right now.").format(
            amount=money(reserve, direction.get_currency_code)
        ),
        _("Type a smaller amount."),
        "",
        amount_prompt(direction, side, sides),
    ]
    return "\n".join(lines)


def ambiguous_amount(choices: tuple[Decimal, Decimal], code: str) -> str:
    # exact: the readings are the buttons' own figures ("1.234" must not show as 1.23).
    first, second = (format_amount(choice, code, exact=True) for choice in choices)
    return _("🤔 Which amount did you mean: {first} or {second} {code}?").format(
        first=first, second=second, code=escape(code)
    )


# A refusal at create lists at most this many answers (then "…and N more").
MAX_REFUSED_LISTED = 8


def refused_answers(listed: Sequence[tuple[str, str]]) -> str:
    """The answers the exchange refused at create, as (label, reason), both safe HTML and short."""
    lines = [_("⚠️ The exchange did not accept these answers:")]
    lines += [f"• <b>{label}</b>: {reason or '—'}" for label, reason in listed[:MAX_REFUSED_LISTED]]
    if len(listed) > MAX_REFUSED_LISTED:
        lines.append(_("…and {count} more.").format(count=len(listed) - MAX_REFUSED_LISTED))
    if len(listed) > 1:
        lines.append(_("Let's fix them one by one."))
    return "\n".join(lines)


def option_figure(quote: QuoteSnapshot, side: AmountSide) -> tuple[Decimal | None, str]:
    """What a price option changes for the customer: what they receive when they fixed what they
    send, or what they send when they fixed what they receive."""
    return (quote.receives, quote.get_code) if side.is_give else (quote.pays, quote.give_code)


def option_prices(spec: FormField, prices: Mapping[str, QuoteSnapshot], side: AmountSide) -> list[str]:
    """One line per priced option: what the customer would get (or pay) with it, and how much less
    (or more) that is than with the best option."""
    figures = {key: option_figure(quote, side) for key, quote in prices.items()}
    known = [amount for amount, _code in figures.values() if amount is not None]
    if not known:
        return []
    best = max(known) if side.is_give else min(known)
    lines = []
    for option in spec.options:
        amount, code = figures.get(option.key, (None, ""))
        if amount is None:
            continue
        label = escape(shorten(plain_text(option.label) or option.key, 60))
        if side.is_give:
            line = _("{option}: you receive {amount}")
        else:
            line = _("{option}: you send {amount}")
        line = line.format(option=label, amount=money(amount, code))
        if amount != best:
            difference = money(abs(amount - best), code)
            more = _("({amount} less)") if side.is_give else _("({amount} more)")
            line += " " + more.format(amount=difference)
        lines.append(line)
    return lines


def option_notes(prices: Mapping[str, QuoteSnapshot], side: AmountSide) -> dict[str, str]:
    """The figure to show on each priced option's button."""
    notes = {}
    for key, quote in prices.items():
        amount, code = option_figure(quote, side)
        if amount is not None:
            notes[key] = money(amount, code)
    return notes


def field_prompt(spec: FormField, position: int, total: int, error: str | None = None) -> str:
    lines = []
    if error:
        lines += [f"⚠️ {error}", ""]
    lines.append(
        _("<b>{label}</b> (step {position} of {total})").format(
            label=escape(shorten(plain_text(spec.label) or spec.name, 200)), position=position, total=total
        )
    )
    if spec.hint:  # the site's words, cut so that the step fits one message with a refusal's list
        lines.append(f"<i>{escape(shorten(plain_text(spec.hint), 600))}</i>")
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
