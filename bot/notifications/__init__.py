"""Order status push notifications.

- ``statuses``: :class:`OrderStatusService`, the one place a status observation is recorded and a
  notification queued (read its docstring for ``record``/``refresh`` and ``notify=False``).
- ``callbacks``: ``POST /callbacks/order/{token}`` (per-order push URLs).
- ``pushes``: :class:`PushInbox`, signed platform pushes (webhooks) once verified, each event once.
- ``tracker``: :class:`StatusTracker`, the polling fallback (the platform's order feed, or per-order reads).
- ``outbox`` / ``sender`` / ``pacing`` / ``messages``: notifications persisted first, then sent by one
  task within Telegram's limits, rendered at send time in the chat's language.
- ``runtime``: :func:`notifications_running` starts and stops it all.
"""

from bot.notifications.callbacks import OrderCallbacks
from bot.notifications.messages import TEXT_KIND, RenderContext, Rendered, register_renderer
from bot.notifications.pushes import PushInbox, push_url_for
from bot.notifications.runtime import (
    NotificationConfig,
    Notifications,
    build_notifications,
    notifications_running,
)
from bot.notifications.sender import NotificationSender
from bot.notifications.statuses import ORDER_STATUS_KIND, OrderStatusService
from bot.notifications.tracker import StatusTracker
from bot.storage.outbox import OutboxItem, OutboxRepository

__all__ = [
    "ORDER_STATUS_KIND",
    "TEXT_KIND",
    "NotificationConfig",
    "NotificationSender",
    "Notifications",
    "OrderCallbacks",
    "OrderStatusService",
    "OutboxItem",
    "OutboxRepository",
    "PushInbox",
    "RenderContext",
    "Rendered",
    "StatusTracker",
    "build_notifications",
    "notifications_running",
    "push_url_for",
    "register_renderer",
]
