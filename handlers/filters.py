"""Filters shared by the features' routers."""

from aiogram import F

# A typed answer in a conversation step. Commands are left to their own handlers, so /orders, /help
# or /cancel work in the middle of any conversation.
TYPED_TEXT = F.text & ~F.text.startswith("/")
