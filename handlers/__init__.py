"""One Router per feature; the order below is the order updates are offered to them.

Each module builds a fresh Router on request, so several Dispatchers can live in one process
(the tests, a restart in place)."""

from aiogram import Router
from aiogram.utils.i18n import gettext as _


def _orders_are_private() -> str:
    return _(
        "🔒 Exchanges and orders work only in a private chat with me, so your details stay private. "
        "Open it and send the command there."
    )


def get_routers() -> list[Router]:
    from handlers import cancel, chat_member, errors, exchange, fallback, language, orders, partner, start
    from handlers.partner import deeplink as partner_deeplink
    from handlers.private_only import private_only

    customers = private_only(
        "customers",
        [exchange.create_router(), orders.create_router()],
        commands=("exchange", "orders"),
        callback_data=r"^(x:|o:|m:(exchange|orders)$)",
        explanation=_orders_are_private,
    )
    # cancel first so /cancel wins in any conversation state; the exchange conversation before the
    # partner cabinet (it carries most of the traffic); fallback last.
    return [
        errors.create_router(),
        chat_member.create_router(),
        cancel.create_router(),
        partner_deeplink.create_router(),
        start.create_router(),
        language.create_router(),
        customers,
        partner.create_router(),
        fallback.create_router(),
    ]
