"""Exchanger platforms behind one neutral interface (see ``base``); PremiumExchanger first."""

from bot.exchanger.base import Catalogue, ExchangerPlatform, Orders, PartnerCabinet, Quoting
from bot.exchanger.errors import *  # noqa: F403
from bot.exchanger.errors import __all__ as _errors_all
from bot.exchanger.models import *  # noqa: F403
from bot.exchanger.models import __all__ as _models_all

__all__ = [
    "Catalogue",
    "ExchangerPlatform",
    "Orders",
    "PartnerCabinet",
    "Quoting",
    *_errors_all,
    *_models_all,
]
