"""contact_ref → the open WeChat session of that sender."""

from models.wechat import WeChatSession
from streams.app import app, settings

wechat_sessions = app.Table(
    "wechat-sessions",
    default=None,
    key_type=str,
    value_type=WeChatSession,
    partitions=settings.partitions,
)
