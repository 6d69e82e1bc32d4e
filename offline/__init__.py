"""The bot without Telegram: a fake Bot API session (``fake_session``), a client that drives the real
Dispatcher with real Updates through it (``bot_client``: tests, the benchmark) and the terminal chat
(``terminal_chat``: ``exchanger-bot chat``)."""
