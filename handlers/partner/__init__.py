"""The partner cabinet: linking a key, figures, lists, exports, payouts and referral links.

Private chats only: in a group every partner command and button gets a short "open a private chat"
answer, and no partner data is ever shown there. ``deeplink`` is registered on its own, before the
``start`` router, so ``/start <payload>`` reaches it.
"""

from aiogram import Router
from aiogram.utils.i18n import gettext as _

from handlers.private_only import private_only

COMMANDS = ("login", "logout", "partner", "stats", "referrals", "pexchanges", "payouts", "withdraw", "link")
_OUR_CALLBACKS = r"^(pt[a-z]*:|m:partner$)"


def _private_only_text() -> str:
    return _(
        "🔒 The partner cabinet works only in a private chat with me. Open it and send the command there."
    )


def create_router() -> Router:
    from handlers.partner import cabinet, links, lists, login, stats, withdraw

    return private_only(
        "partner",
        [module.create_router() for module in (login, cabinet, stats, lists, withdraw, links)],
        commands=COMMANDS,
        callback_data=_OUR_CALLBACKS,
        explanation=_private_only_text,
    )
