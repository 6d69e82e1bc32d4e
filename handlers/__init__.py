"""One Router per feature; the order below is the order updates are offered to them.

Each module builds a fresh Router on request, so several Dispatchers can live in one process
(the tests, a restart in place)."""

from aiogram import Router


def get_routers() -> list[Router]:
    from handlers import cancel, chat_member, errors, exchange, fallback, language, orders, partner, start
    from handlers.partner import deeplink as partner_deeplink

    # cancel first so /cancel wins in any conversation state; fallback last.
    modules = (
        errors,
        chat_member,
        cancel,
        partner_deeplink,
        start,
        language,
        exchange,
        orders,
        partner,
        fallback,
    )
    return [module.create_router() for module in modules]
