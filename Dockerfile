# syntax=docker/dockerfile:1
# zhoubao (周报) container image. Build: docker build -t zhoubao .   Guide: docs/deploy.md
# Configuration comes only from the environment (docker run -e / --env-file, compose's env_file);
# the team file is mounted at $TEAM_FILE. Nothing secret is baked in: .env and team.yaml are not copied.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: the wheel, installed into a virtual environment exactly as the README/Makefile do (pip install .)
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/zhoubao
WORKDIR /src
# What the wheel is built from (pyproject.toml [tool.hatch.build.targets.wheel]); .env.example is the
# commented example that `zhoubao init` writes, not a configuration.
COPY pyproject.toml requirements.lock README.md LICENSE .env.example ./
COPY bot ./bot
COPY storage ./storage
COPY templates ./templates
# The versions the tests ran with (requirements.lock) as constraints: the image gets the same libraries.
RUN /opt/zhoubao/bin/python -m pip install --constraint=requirements.lock .

# ---- runtime: the virtual environment only, run by an unprivileged user
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="zhoubao" \
      org.opencontainers.image.description="周报 bot: runs a team's weekly report in Slack or Feishu/Lark" \
      org.opencontainers.image.licenses="MIT"
RUN groupadd --system --gid 10001 zhoubao \
 && useradd --system --uid 10001 --gid zhoubao --no-log-init --home-dir /var/lib/zhoubao --shell /usr/sbin/nologin zhoubao \
 && mkdir -p /var/lib/zhoubao/data/spool /etc/zhoubao \
 && chown -R zhoubao:zhoubao /var/lib/zhoubao
COPY --from=build /opt/zhoubao /opt/zhoubao
ENV PATH=/opt/zhoubao/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DATABASE_URL=sqlite:////var/lib/zhoubao/data/zhoubao.db \
    TEAM_FILE=/etc/zhoubao/team.yaml \
    SPOOL_DIR=/var/lib/zhoubao/data/spool \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /var/lib/zhoubao
# The SQLite database (when DATABASE_URL is not PostgreSQL) and the answer spool live here.
VOLUME ["/var/lib/zhoubao/data"]
USER zhoubao
EXPOSE 3000
# GET /healthz on PORT (bot/adapters/slack/transports.py, bot/adapters/feishu/transports.py): 200 while the
# bot runs, also "degraded" with the database down; 503 when the scheduler has stopped. The slim image has
# no curl, so the probe is Python's standard library: any error (refused, timeout, 503) exits 1 with one
# line for `docker inspect` instead of a traceback.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request; sys.excepthook = lambda t, v, tb: print('unhealthy:', v, file=sys.stderr); urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]
CMD ["zhoubao", "run"]
