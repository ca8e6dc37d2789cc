"""The Slack adapter: `serve` runs it; `build_app` and `SlackGateway` are its two halves."""

from bot.adapters.slack.app import build_app
from bot.adapters.slack.gateway import SlackGateway, make_client
from bot.adapters.slack.transports import build_runtime, serve, wsgi_app

__all__ = ["SlackGateway", "build_app", "build_runtime", "make_client", "serve", "wsgi_app"]
