"""What to tell a user when the exchanger fails: never blame them for the exchange being down."""

from html import escape

from aiogram.utils.i18n import gettext as _

from bot.domain.errors import (
    DirectionUnavailable,
    ExchangerError,
    ExchangerTimeout,
    Maintenance,
    RateLimited,
    TransportError,
    UnexpectedResponse,
)
from bot.text import plain_text

SITE_TEXT_LIMIT = 500


def site_text(raw: str | None) -> str:
    """Words the site wrote for its customers (a maintenance notice): plain, escaped, bounded."""
    text = plain_text(raw)
    if len(text) > SITE_TEXT_LIMIT:
        text = text[: SITE_TEXT_LIMIT - 1].rstrip() + "…"
    return escape(text)


def upstream_error_text(exc: ExchangerError) -> str:
    if isinstance(exc, Maintenance):
        text = _("🛠 The exchange is closed for maintenance. Please try again later.")
        if said := site_text(exc.text):
            text += "\n\n" + _("The exchange says: {text}").format(text=f"<i>{said}</i>")
        return text
    if isinstance(exc, RateLimited):
        return _("⏳ The exchange asks to slow down. Please try again in a minute.")
    if isinstance(exc, DirectionUnavailable):
        return direction_unavailable_text()
    if isinstance(exc, ExchangerTimeout):
        # Also what a slow exchange ends with once the update's deadline has passed
        # (bot.observability.deadline), however many retries were left.
        return _("⏳ The exchange is answering too slowly right now. Please try again in a minute.")
    if isinstance(exc, TransportError | UnexpectedResponse):
        return _("⏳ The exchange is not answering right now. Please try again in a minute.")
    return _("🛠 The exchange is temporarily unavailable. Please try again later.")


def direction_unavailable_text() -> str:
    return _(
        "😕 This exchange direction is not available right now: it may be paused or closed. "
        "Please choose another one."
    )
