"""The Slack adapter: `app.build_app` (the Bolt app) and `gateway.SlackGateway` (the core's chat port) are its
two halves; `transports` says how Slack reaches the app. The runtime's composition root wires them.

Import from the submodules: this package's own import stays free of slack_bolt and slack_sdk, because the
runtime's settings read `config` on every command, Slack configured or not."""
