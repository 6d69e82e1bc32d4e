"""What the operator sees of a running bot: Prometheus metrics (``GET /metrics``), the last exchanger
errors (for /admin), the time the exchanger last answered (for /health), and the per-update deadline
that keeps a slow exchanger from keeping a customer waiting.

- :class:`Metrics` (``services.metrics``): the registry and everything reported to it;
- :mod:`.exchanger`: ``ObservedTransport`` for the adapters' HTTP clients, ``ExchangerObserver.failed``;
- :mod:`.deadline`: the per-update exchanger deadline (a contextvar);
- :class:`UpdateObserver`: the dispatcher middleware (counts, timing, deadline, "typing…");
- :func:`instrument_bot`: counts Telegram's 429s.
"""

from bot.observability.exchanger import (
    ExchangerErrorRecord,
    ExchangerObserver,
    ObservedTransport,
    observed_transport,
    stable_path,
)
from bot.observability.metrics import Metrics
from bot.observability.telegram import instrument_bot
from bot.observability.updates import FeedbackPolicy, UpdateObserver

__all__ = [
    "ExchangerErrorRecord",
    "ExchangerObserver",
    "FeedbackPolicy",
    "Metrics",
    "ObservedTransport",
    "UpdateObserver",
    "instrument_bot",
    "observed_transport",
    "stable_path",
]
