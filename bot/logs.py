"""Logging set-up with a filter that blanks every known secret out of every record."""

from __future__ import annotations

import logging
import threading

_MASK = "***"
MIN_SECRET_LENGTH = 8  # shorter values are common words and numbers: masking them would garble every log
MAX_SECRETS = 10_000  # beyond this the oldest are forgotten, so hostile input can't grow it without end


class SecretRedactor(logging.Filter):
    """Replaces registered secret values in log records. Secrets can be added at run time
    (a partner's key the moment it arrives), so nothing logged later can carry them.

    Values shorter than ``MIN_SECRET_LENGTH`` are ignored; at most ``max_secrets`` are kept, the
    oldest dropped first (a re-added secret counts as new)."""

    def __init__(self, max_secrets: int = MAX_SECRETS) -> None:
        super().__init__()
        self._secrets: dict[str, None] = {}  # insertion-ordered: the oldest first
        self._max = max_secrets
        self._lock = threading.Lock()

    def add(self, secret: str | None) -> None:
        if not secret or len(secret) < MIN_SECRET_LENGTH:
            return
        with self._lock:
            self._secrets.pop(secret, None)
            self._secrets[secret] = None
            while len(self._secrets) > self._max:
                del self._secrets[next(iter(self._secrets))]

    def __len__(self) -> int:
        return len(self._secrets)

    def redact(self, text: str) -> str:
        with self._lock:
            secrets = list(self._secrets)
        for secret in secrets:
            if secret in text:
                text = text.replace(secret, _MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_info[1] is not None:
            # Render the traceback now, redacted, so a formatter can't print the raw one.
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


REDACTOR = SecretRedactor()
QUIET_LOGGERS = ("aiosqlite", "httpcore", "hpack")


def setup_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(REDACTOR)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request at INFO; aiohttp.access every callback hit.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))
    logging.getLogger("aiohttp.access").setLevel(max(logging.WARNING, root.level))
    # At DEBUG these log every statement's parameters (partner logins, callback tokens) and every
    # connection step: never below INFO, whatever LOG_LEVEL says.
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))
