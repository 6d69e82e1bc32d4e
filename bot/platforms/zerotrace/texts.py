"""The few words 0trace doesn't send but the order form needs (field labels, the floating-rate note),
translated through the bot's catalogue (locales/*/LC_MESSAGES/messages.po) into the customer's language."""

from __future__ import annotations

import gettext
from functools import lru_cache

from bot.i18n import DOMAIN, LOCALES_DIR, N_, ensure_compiled

__all__ = ["FLOATING_NOTE", "REFUND_HINT", "REFUND_LABEL", "TAG_LABEL", "TO_HINT", "TO_LABEL", "translate"]

TO_LABEL = N_("Receiving address ({asset})")
TO_HINT = N_("Your address on {network} where the {coin} will be sent.")
TAG_LABEL = N_("Memo / tag ({asset})")
REFUND_LABEL = N_("Refund address ({asset})")
REFUND_HINT = N_(
    "Your address on {network}: if the exchange can't be completed, the deposit is returned there."
)
FLOATING_NOTE = N_(
    "Floating rate: the amount you receive is calculated when your deposit is confirmed and may differ "
    "slightly from this quote."
)


@lru_cache(maxsize=8)
def _catalogue(lang: str) -> gettext.NullTranslations:
    ensure_compiled()
    return gettext.translation(DOMAIN, LOCALES_DIR, languages=[lang], fallback=True)


def translate(msgid: str, lang: str | None, **values: str) -> str:
    text = _catalogue((lang or "en").split("-")[0].lower()).gettext(msgid)
    return text.format(**values) if values else text
