# The chamber's bot. Point it at a Wechaty puppet-service gateway with
# WECHATY_PUPPET_SERVICE_ENDPOINT and WECHATY_PUPPET_SERVICE_TOKEN.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TZ=Asia/Shanghai

# tzdata: the bot converts times to Asia/Shanghai explicitly, whatever the host's zone.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tzdata \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml requirements.lock README.md ./
COPY bot ./bot
COPY handlers ./handlers
RUN pip install --no-cache-dir -c requirements.lock .

COPY config.toml ./
COPY announcements ./announcements
RUN useradd --create-home --uid 10001 chamber && mkdir -p /app/data && chown chamber /app/data
USER chamber
VOLUME ["/app/data"]

CMD ["python", "-m", "bot", "run"]
