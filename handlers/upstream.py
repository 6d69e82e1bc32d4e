"""What to tell a user when the exchanger fails: never blame them for the exchange being down."""

from aiogram.utils.i18n import gettext as _

from bot.exchanger.errors import ExchangerError, TransportError, UnexpectedResponse


def upstream_error_text(exc: ExchangerError) -> str:
    if isinstance(exc, TransportError | UnexpectedResponse):
        return _("⏳ The exchange is not answering right now. Please try again in a minute.")
    return _("🛠 The exchange is temporarily unavailable. Please try again later.")
