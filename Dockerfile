FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATABASE_PATH=/data/bot.sqlite3 \
    HTTP_HOST=0.0.0.0

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY offline ./offline
COPY locales ./locales
# Editable install keeps locales/ next to the code, where the bot looks for them.
RUN pip install -e . \
 && python -c "from bot.i18n import ensure_compiled; ensure_compiled()" \
 && useradd --create-home --uid 10001 bot \
 && mkdir -p /data && chown bot:bot /data

USER bot
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import os,urllib.request;urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('HTTP_PORT','8080'))"
ENTRYPOINT ["exchanger-bot"]
CMD ["run"]
