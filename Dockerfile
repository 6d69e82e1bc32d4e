FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATABASE_PATH=/data/bot.sqlite3 \
    HTTP_HOST=0.0.0.0

WORKDIR /app
# Dependencies first, from the same lock file CI installs: this layer is rebuilt only when the lock changes.
COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY offline ./offline
COPY locales ./locales
# Editable install keeps locales/ next to the code, where the bot looks for them; --no-deps: the lock has them.
RUN pip install --no-deps -e . \
 && python -c "from bot.i18n import ensure_compiled; ensure_compiled()" \
 && useradd --create-home --uid 10001 bot \
 && mkdir -p /data && chown bot:bot /data

USER bot
VOLUME ["/data"]
EXPOSE 8080
# /health answers 503 when the bot is failing (urlopen raises), 200 when ok or degraded.
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import os,urllib.request;urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('HTTP_PORT','8080'))"
# SIGTERM (docker stop) lets updates in flight finish; give it longer than SHUTDOWN_GRACE_SECONDS.
STOPSIGNAL SIGTERM
ENTRYPOINT ["exchanger-bot"]
CMD ["run"]
