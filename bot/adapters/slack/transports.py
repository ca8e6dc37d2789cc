"""Two ways Slack reaches the bot: HTTP (SLACK_SIGNING_SECRET) or Socket Mode (SLACK_APP_TOKEN).

Both go through `SlackIntake`: the request is journaled before Slack is answered, and the journal's
worker dispatches it into the one Bolt app. Over HTTP the runtime's HTTP app reads the body and hands it
to `SlackIntake.http`; in Socket Mode, slack_sdk's `SocketModeClient` holds the
WebSocket alongside that same HTTP app (which then serves only health and metrics), and
`socket_listener` acknowledges each envelope once it is journaled.
"""

from __future__ import annotations

from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.web import WebClient

from bot.adapters.slack.intake import SlackIntake, socket_listener

EVENTS_PATH = "/slack/events"  # served by the runtime's HTTP app with `SlackIntake.http` as its callback


class SocketMode:
    """The Socket Mode connection (slack_sdk's built-in client): `connect()` returns once connected and
    keeps the socket on its own threads, `close()` ends it."""

    def __init__(self, client: SocketModeClient) -> None:
        self.client = client

    def connect(self) -> None:
        self.client.connect()

    def close(self) -> None:
        self.client.close()

    def connected(self) -> bool:
        """True while the WebSocket is open. A failed handshake is logged, not raised, and the client
        keeps retrying on its monitor thread (slack_sdk/socket_mode/builtin/connection.py `connect`,
        client.py `_monitor_current_session`), so this is the only sign the connection is down."""
        return self.client.is_connected()


def socket_mode(intake: SlackIntake, app_token: str, web_client: WebClient) -> SocketMode:
    client = SocketModeClient(app_token=app_token, web_client=web_client)
    client.socket_mode_request_listeners.append(socket_listener(intake))
    return SocketMode(client)
