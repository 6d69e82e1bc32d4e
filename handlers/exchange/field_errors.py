"""What is wrong with a typed answer, in the customer's language (:mod:`bot.exchange.validation`)."""

from __future__ import annotations

from html import escape

from aiogram.utils.i18n import gettext as _

from bot.domain.models import FormField
from bot.exchange.validation import Problem
from bot.text import plain_text


def _label(spec: FormField) -> str:
    return escape(plain_text(spec.label) or spec.name)


def not_valid(spec: FormField) -> str:
    return _("This is not a valid value for «{label}». Please check it and type it again.").format(
        label=_label(spec)
    )


def problem_text(spec: FormField, problem: Problem, value: str = "") -> str:
    network = escape(spec.network or spec.currency or "")
    if problem is Problem.REQUIRED:
        return _("This field is required.")
    if problem is Problem.TOO_LONG:
        return _("Too long: at most {limit} characters.").format(limit=spec.max_length)
    if problem is Problem.CARD_DIGITS:
        return _("A card number is made of digits only (spaces and dashes are fine). Please type it again.")
    if problem is Problem.CARD_LENGTH:
        digits = sum(c.isdigit() for c in value)
        return _(
            "A card number has 12 to 19 digits, this one has {count}. Please check it and type it again."
        ).format(count=digits)
    if problem is Problem.CARD_CHECKSUM:
        return _(
            "This card number has a typo: its check digit does not match. Please check it and type it again."
        )
    if problem is Problem.ADDRESS:
        return _("«{label}»: this is not a {network} address. Please check it and type it again.").format(
            label=_label(spec), network=network
        )
    if problem is Problem.ADDRESS_CHECKSUM:
        return _(
            "«{label}»: this looks like a {network} address but has a typo (its checksum does not match). "
            "Please copy it from your wallet again."
        ).format(label=_label(spec), network=network)
    if problem is Problem.EMAIL:
        return _("This is not an e-mail address. It looks like name@example.com.")
    if problem is Problem.PHONE:
        return _(
            "Not a phone number. Type it with the country code (7 to 15 digits), like +44 20 7946 0958."
        )
    if problem is Problem.TELEGRAM:
        return _("This is not a Telegram username: 5 to 32 letters, digits or _, like @name.")
    return not_valid(spec)
