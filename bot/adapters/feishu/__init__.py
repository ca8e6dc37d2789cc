"""The Feishu/Lark adapter: translates Feishu events into core calls and core replies into Open API calls.

`gateway.FeishuGateway` is the core's chat port, `events.FeishuEvents` the dispatcher; `transports` says how
events arrive (long connection or HTTP callback). The runtime's composition root wires them.

Import from the submodules: this package's own import stays free of lark_oapi,
because the runtime's settings read `config` on every command, Feishu configured or not."""
