"""The bot's Telegram handlers: one Router per feature (``create_router()`` in each module).

Which routers run, and in which order, is decided per platform by :func:`bot.app.dispatcher.get_routers`.
"""
