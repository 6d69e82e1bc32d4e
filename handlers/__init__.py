"""One Router per feature; the order below is the order updates are offered to them."""

from aiogram import Router


def get_routers() -> list[Router]:
    from handlers import cancel, catalogue, errors, fallback, language, start

    # cancel first so /cancel wins in any conversation state; fallback last.
    return [errors.router, cancel.router, start.router, language.router, catalogue.router, fallback.router]
