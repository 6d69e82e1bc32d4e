"""Order status push notifications.

- ``statuses``: :class:`OrderStatusService`, the one place a status observation is recorded and a
  notification queued (read its docstring for ``record``/``refresh`` and ``notify=False``).
- ``callbacks``: ``POST /callbacks/order/{token}``, :func:`callback_url_for`.
- ``tracker``: :class:`StatusTracker`, the polling fallback (``get_exchanges``, O(1) calls per cycle).
- ``outbox`` / ``sender`` / ``pacing`` / ``messages``: notifications persisted first, then sent by one
  task within Telegram's limits, rendered at send time in the chat's language.
- ``runtime``: :func:`notifications_running` starts and stops it all.
"""

from bot.notifications.callbacks import CALLBACK_PATH, OrderCallbacks, callback_url_for
from bot.notifications.messages import TEXT_KIND, RenderContext, Rendered, register_renderer
from bot.notifications.outbox import OutboxItem, OutboxRepository
from bot.notifications.runtime import (
    NotificationConfig,
    Notifications,
    build_notifications,
    notifications_running,
)
from bot.notifications.sender import NotificationSender
from bot.notifications.statuses import ORDER_STATUS_KIND, OrderStatusService
from bot.notifications.tracker import StatusTracker

__all__ = [
    "CALLBACK_PATH",
    "ORDER_STATUS_KIND",
    "TEXT_KIND",
    "NotificationConfig",
    "NotificationSender",
    "Notifications",
    "OrderCallbacks",
    "OrderStatusService",
    "OutboxItem",
    "OutboxRepository",
    "RenderContext",
    "Rendered",
    "StatusTracker",
    "build_notifications",
    "callback_url_for",
    "notifications_running",
    "register_renderer",
]
