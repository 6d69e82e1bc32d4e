"""The bot's commands per platform: the command menu and /help list only what this platform serves."""

from __future__ import annotations

from bot.domain.capabilities import PlatformInfo
from bot.i18n import N_
from handlers.partner import partner_commands

# (command, msgid of its description)
Command = tuple[str, str]

START: Command = ("start", N_("Main menu"))
CUSTOMER: tuple[Command, ...] = (
    ("exchange", N_("Exchange currencies")),
    ("orders", N_("My orders")),
)
COMMON: tuple[Command, ...] = (
    ("help", N_("How to use this bot")),
    ("language", N_("Change the language")),
    ("cancel", N_("Cancel the current action")),
)


def menu_commands(info: PlatformInfo) -> list[Command]:
    """Telegram's command menu: the entry points only (the partner cabinet lists its own commands)."""
    commands = [START]
    if info.has_customer_flow:
        commands += CUSTOMER
    commands += [c for c in partner_commands(info) if c[0] == "partner"]
    return commands + list(COMMON)


def help_commands(info: PlatformInfo) -> list[Command]:
    """Every command /help explains, in the order it lists them."""
    commands = [START]
    if info.has_customer_flow:
        commands += CUSTOMER
    commands += partner_commands(info)
    return commands + list(COMMON)
