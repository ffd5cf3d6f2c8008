"""Raw channel records as call-centre systems publish them, for integration tests."""

from __future__ import annotations


def wechat_xml(openid: str, msg_id: int, create_time: int, msg_type: str, **fields) -> bytes:
    """A WeChat push message (XML) from ``openid``; ``fields`` become CDATA elements."""
    parts = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
    return (
        f"<xml><ToUserName><![CDATA[gh_12345]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{parts}"
        f"<MsgId>{msg_id}</MsgId></xml>"
    ).encode()
