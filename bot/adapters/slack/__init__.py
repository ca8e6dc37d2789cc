"""The Slack adapter: `build_app` (the Bolt app) and `SlackGateway` (the core's chat port) are its two
halves; `transports` says how Slack reaches the app. The runtime's composition root wires them."""

from bot.adapters.slack.app import build_app
from bot.adapters.slack.gateway import SlackGateway, make_client
from bot.adapters.slack.transports import EVENTS_PATH, socket_mode

__all__ = ["EVENTS_PATH", "SlackGateway", "build_app", "make_client", "socket_mode"]
