"""The Feishu/Lark adapter: translates Feishu events into core calls and core replies into Open API calls.

`serve(bot_factory, team, settings, on_start)` runs it; `FeishuGateway` is the core's chat port.
"""

from bot.adapters.feishu.gateway import FeishuGateway
from bot.adapters.feishu.transports import EVENTS_PATH, build_runtime, serve

__all__ = ["EVENTS_PATH", "FeishuGateway", "build_runtime", "serve"]
