"""The Feishu/Lark adapter: translates Feishu events into core calls and core replies into Open API calls.

`FeishuGateway` is the core's chat port, `FeishuEvents` the dispatcher; `transports` says how events
arrive (long connection or HTTP callback). The runtime's composition root wires them.
"""

from bot.adapters.feishu.gateway import FeishuGateway
from bot.adapters.feishu.transports import EVENTS_PATH, callback

__all__ = ["EVENTS_PATH", "FeishuGateway", "callback"]
