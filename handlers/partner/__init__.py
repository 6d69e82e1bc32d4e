"""The partner cabinet: linking a key, figures, lists, exports, payouts and referral links.

Only what the platform serves is registered (:mod:`bot.partner.features`): the commands and buttons of
a screen the platform lacks don't exist, so they are answered like any unknown command (except
/withdraw, which then says where on the site payouts are requested). A screen the platform serves but a
partner's key may not use stays, and names the permission to tick on the site.

Private chats only: in a group every partner command and button gets a short "open a private chat"
answer, and no partner data is ever shown there. ``deeplink`` is registered on its own, before the
``start`` router, so ``/start <payload>`` reaches it.
"""

from aiogram import Router
from aiogram.utils.i18n import gettext as _

from bot.domain.capabilities import PlatformInfo
from bot.partner.features import Feature, features
from handlers.partner.commands import partner_commands
from handlers.private_only import private_only

__all__ = ["create_router", "partner_commands"]

_OUR_CALLBACKS = r"^(pt[a-z]*:|m:partner$)"


def _private_only_text() -> str:
    return _(
        "🔒 The partner cabinet works only in a private chat with me. Open it and send the command there."
    )


def create_router(info: PlatformInfo) -> Router:
    """The partner cabinet for ``info``'s platform (an empty router when it has no partner cabinet)."""
    from handlers.partner import cabinet, links, lists, login, stats, withdraw

    served = features(info)
    if not served:
        return Router(name="partner")
    modules = [login, cabinet]
    if Feature.STATS in served:
        modules.append(stats)
    modules.append(lists)  # registers only the lists the platform serves
    if Feature.LINK in served:
        modules.append(links)
    routers = [module.create_router(info) for module in modules]
    commands = [command for command, _text in partner_commands(info)]
    commands += [command for command in lists.list_commands(info) if command not in commands]
    if Feature.WITHDRAW in served:
        routers.append(withdraw.create_router(info))
    else:
        # Not in the menu; typed anyway, it says where on the site payouts are requested.
        routers.append(withdraw.create_site_router(info))
        commands.append("withdraw")
    return private_only(
        "partner",
        routers,
        commands=commands,
        callback_data=_OUR_CALLBACKS,
        explanation=_private_only_text,
    )
