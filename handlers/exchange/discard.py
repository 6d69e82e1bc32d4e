"""Cancel in the middle of an exchange: a form with typed answers is thrown away only once the
customer says so."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.exchange.draft import ExchangeDraft
from bot.exchange.field_memory import FieldMemory
from handlers.callbacks import NavCb
from handlers.exchange import callbacks as cb
from handlers.exchange.callbacks import ExCb
from handlers.exchange.states import Exchange

DISCARD = "discard"  # NavCb action: cancel without asking again


async def unsaved_form(state: FSMContext, field_memory: FieldMemory, chat_id: int) -> ExchangeDraft | None:
    """The exchange draft of the chat when the customer has typed answers into its form."""
    if await state.get_state() not in Exchange.__all_states_names__:
        return None
    draft = ExchangeDraft.load(await state.get_data(), field_memory.box, chat_id)
    if draft is None or not any(draft.fields.values()):
        return None
    return draft


def question() -> str:
    return _("Cancel this exchange? The answers you typed into the order form will be lost.")


def keyboard(draft: ExchangeDraft) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=_("Yes, cancel it"), callback_data=NavCb(action=DISCARD).pack()),
                InlineKeyboardButton(
                    text=_("No, continue"), callback_data=ExCb(flow=draft.flow, a=cb.RESUME).pack()
                ),
            ]
        ]
    )
