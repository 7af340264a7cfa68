# The chamber's bot, `python -m bot run`. It reaches WeChat only through a Wechaty
# puppet-service gateway: docker-compose.yml runs both; README "Deployment" says how.
#
# A full version tag (not `3.11-slim`), so a rebuild next year gets the same Python and Debian.
FROM python:3.11.15-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    TZ=Asia/Shanghai

# tzdata: the bot converts to Asia/Shanghai itself; this makes log times, `date` and tools agree.
# fonts-wqy-microhei (5 MB; Noto CJK is 90 MB): Chinese labels on congratulation pictures,
#   which otherwise render as empty boxes. File: /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
# sqlite3: `.backup` of the live database (README "Deployment").
# Debian versions stay unpinned (DL3008): the archive drops old ones at each security update.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends tzdata fonts-wqy-microhei sqlite3 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, pinned by the same lock file as `make run` (-c: constraints): a change
# to the code alone reuses this layer instead of reinstalling them.
COPY pyproject.toml requirements.lock ./
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" > /tmp/deps.txt \
    && pip install -c requirements.lock -r /tmp/deps.txt \
    && rm /tmp/deps.txt
COPY README.md ./
COPY bot ./bot
COPY handlers ./handlers
RUN pip install --no-deps .

# Defaults only: docker-compose.yml mounts the real config.toml and announcements/ over these.
COPY config.toml ./
COPY announcements ./announcements

# Not root: a bug or a bad post file cannot touch the rest of the container. The bot writes
# data/ (SQLite store, login QR) and announcements/ (admins' #新建/#编辑), so it owns both.
# A numeric USER, so runtimes can check it is not root without reading /etc/passwd.
RUN useradd --create-home --uid 10001 chamber \
    && mkdir -p data \
    && chown -R chamber data announcements
USER 10001

# The web console (docker-compose.yml publishes it on the host's 127.0.0.1 only).
EXPOSE 8080

# Kept outside the image: a new image must never lose the send ledger or the posts.
VOLUME ["/app/data", "/app/announcements"]

# `health` exits 0 while the running bot is connected to the gateway and making progress.
HEALTHCHECK --interval=60s --timeout=20s --start-period=120s --retries=3 \
    CMD ["python", "-m", "bot", "health", "--config", "/app/config.toml"]

CMD ["python", "-m", "bot", "run"]
