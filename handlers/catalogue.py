"""The currencies the exchange accepts, read live from the exchanger."""

from html import escape

from aiogram import F, Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from bot.exchanger.base import ExchangerPlatform
from bot.exchanger.errors import ExchangerError
from handlers import keyboards
from handlers.callbacks import MenuCb
from handlers.replies import show
from handlers.upstream import upstream_error_text


async def currencies(callback: CallbackQuery, exchanger: ExchangerPlatform) -> None:
    await callback.answer()
    try:
        lists = await exchanger.list_currencies()
    except ExchangerError as exc:
        await show(callback, upstream_error_text(exc), keyboards.retry(MenuCb(item="currencies").pack()))
        return
    if not lists.give:
        await show(callback, _("The exchange offers no currencies right now."), keyboards.back_to_menu())
        return
    lines = [_("<b>You can give:</b>")]
    lines += [f"• {escape(currency.title)}" for currency in lists.give]
    lines += ["", _("<b>You can receive:</b>")]
    lines += [f"• {escape(currency.title)}" for currency in lists.get]
    await show(callback, "\n".join(lines), keyboards.back_to_menu())


def create_router() -> Router:
    router = Router(name="catalogue")
    router.callback_query.register(currencies, MenuCb.filter(F.item == "currencies"))
    return router
