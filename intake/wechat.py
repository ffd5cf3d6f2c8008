"""WeChat official-account push messages: WeChat's XML → validated, masked pieces.

Consecutive pieces of one user are joined into one appeal by ``intake.wechat_session``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from zoneinfo import ZoneInfo

from config.intake import IntakeSettings
from intake import pii
from intake.contact import Contact
from intake.decoding import decode
from intake.errors import ErrorCode, IntakeError
from intake.fields import build
from intake.identity import contact_ref
from intake.timestamps import check_not_future, from_unix
from models.appeal import RawRef
from models.raw import WeChatMessage
from models.wechat import WeChatPiece

# WeChat's element names → our field names
_ELEMENTS = {
    "ToUserName": "to_user", "FromUserName": "from_user", "CreateTime": "create_time",
    "MsgType": "msg_type", "MsgId": "msg_id", "Content": "content", "Recognition": "recognition",
    "Location_X": "location_x", "Location_Y": "location_y", "Label": "label",
    "PicUrl": "pic_url", "MediaId": "media_id",
}  # fmt: skip
#: Message types that join a session: text, voice (its recognised text, or else the
#: recording as an attachment), location (the address), and media kept as attachments.
MSG_TYPES = ("text", "voice", "location", "image", "video", "shortvideo")


def parse(data: bytes) -> WeChatMessage:
    """Decode WeChat's ``<xml>…</xml>`` push body and validate it."""
    text = decode(data)
    try:
        root = ET.fromstring(text)  # expat refuses external entities and entity bombs
    except ET.ParseError as exc:
        raise IntakeError(
            ErrorCode.BAD_XML, f"WeChat message is not well-formed XML: {exc}"
        ) from None
    if root.tag != "xml":
        raise IntakeError(ErrorCode.BAD_XML, f"root element is <{root.tag}>, WeChat sends <xml>")
    obj = {
        _ELEMENTS[child.tag]: (child.text or "").strip() for child in root if child.tag in _ELEMENTS
    }
    # the type decides which fields must be there (event pushes have no MsgId)
    msg_type = obj.get("msg_type", "")
    if not msg_type:
        raise IntakeError(
            ErrorCode.MISSING_FIELD, "WeChat message: required element MsgType is missing"
        )
    if msg_type not in MSG_TYPES:
        raise IntakeError(
            ErrorCode.UNKNOWN_MSG_TYPE, f"MsgType {msg_type!r} is not one of {', '.join(MSG_TYPES)}"
        )
    return build(WeChatMessage, obj, "WeChat message")


def to_piece(
    msg: WeChatMessage, raw: RawRef, now: datetime, settings: IntakeSettings
) -> tuple[WeChatPiece, Contact]:
    """Check one message, mask its text and split off the sender's contact details."""
    sent = from_unix(msg.create_time, ZoneInfo(settings.timezone), "CreateTime")
    check_not_future(sent, now, settings.max_future_skew_s, "CreateTime")
    text = (
        msg.content
        if msg.msg_type == "text"
        else msg.recognition
        if msg.msg_type == "voice"
        else None
    )
    if msg.msg_type == "text" and not (text or "").strip():
        raise IntakeError(ErrorCode.EMPTY_CONTENT, "text message has no Content")
    if msg.msg_type == "voice" and not (text or "").strip():
        # speech recognition is off, or heard nothing: the recording joins as an attachment
        if not msg.media_id:
            raise IntakeError(
                ErrorCode.EMPTY_CONTENT, "voice message has neither Recognition text nor MediaId"
            )
        text = None
    if len(text or "") > settings.max_content_chars:
        raise IntakeError(
            ErrorCode.OVERSIZED,
            f"message has {len(text or '')} characters, limit {settings.max_content_chars}",
        )
    masked = pii.mask(text)
    label = pii.mask(msg.label).text if msg.label else None
    ref = contact_ref(settings.contact_secret, "wechat", msg.from_user)
    piece = WeChatPiece(
        contact_ref=ref, msg_id=msg.msg_id, create_time=msg.create_time, msg_type=msg.msg_type,
        raw=raw, text=masked.text or None, label=label, latitude=msg.location_x,
        longitude=msg.location_y, media_id=msg.media_id,
    )  # fmt: skip
    contact = Contact(
        ref=ref,
        channel="wechat",
        identity=msg.from_user,
        found_in_text={f"wx-msg:{msg.msg_id}": masked.found},
    )
    return piece, contact
