"""/start, /help and the main menu."""

from html import escape

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers import keyboards
from handlers.callbacks import MenuCb
from handlers.replies import show


def _greeting(first_name: str | None) -> str:
    name = escape(first_name or "")
    return _(
        "👋 Hello, {name}!\n\n"
        "I am the exchange service's assistant. Here you can exchange currencies at a live rate, "
        "pay and follow your orders, and get a message whenever an order's status changes.\n\n"
        "Choose what you want to do:"
    ).format(name=name)


def help_text() -> str:
    return _(
        "<b>How to use this bot</b>\n\n"
        "Press the buttons under my messages, or type a command:\n"
        "/start: the main menu\n"
        "/exchange: start an exchange\n"
        "/orders: your orders and their status\n"
        "/partner: the partner cabinet (for the exchange's affiliates; /login links your key)\n"
        "/language: change the language\n"
        "/cancel: stop what you are doing and go back to the menu\n"
        "/help: this message\n\n"
        "If a button stops working, send /start to get a fresh menu."
    )


async def start(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(
        _greeting(message.from_user.first_name if message.from_user else None),
        reply_markup=keyboards.main_menu(),
    )


async def main_menu(callback: CallbackQuery, state: FSMContext) -> None:
    await callback.answer()
    await state.clear()
    await show(callback, _greeting(callback.from_user.first_name), keyboards.main_menu())


async def help_command(message: Message) -> None:
    await message.answer(help_text(), reply_markup=keyboards.back_to_menu())


async def help_button(callback: CallbackQuery) -> None:
    await callback.answer()
    await show(callback, help_text(), keyboards.back_to_menu())


def create_router() -> Router:
    router = Router(name="start")
    router.message.register(start, CommandStart())
    router.callback_query.register(main_menu, MenuCb.filter(F.item == "main"))
    router.message.register(help_command, Command("help"))
    router.callback_query.register(help_button, MenuCb.filter(F.item == "help"))
    return router
