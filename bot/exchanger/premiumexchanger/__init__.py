"""PremiumExchanger (premiumbox) User API v1 client."""

from bot.exchanger.premiumexchanger.client import PremiumExchangerClient

__all__ = ["PremiumExchangerClient"]
