"""Inbound: a pushed message's body, refused before parsing when it is not safe XML, and its fields."""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.parsers.expat import ExpatError

import xmltodict
from fastapi import Request

MAX_BODY_BYTES = 64 * 1024
_DECLARATION = re.compile(r"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)


class Rejected(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def safe_xml(body: bytes) -> str:
    """The body as text, refused before any parsing when it is not UTF-8 or declares a DTD or entities."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected(400, "invalid_xml", "the body is not UTF-8 XML") from None
    if _DECLARATION.search(text):
        raise Rejected(400, "forbidden_xml", "DOCTYPE and ENTITY declarations are not accepted")
    return text


@dataclass(frozen=True)
class WeChatMessage:
    """The fields of a pushed message or event the channel uses."""

    kind: str  # MsgType, lower case: text, voice, image, event, ...
    openid: str  # FromUserName: the user
    account: str  # ToUserName: the Official Account
    created: int  # CreateTime
    msg_id: int  # MsgId; 0 for events
    text: str  # Content of a text message, Recognition of a voice message; "" otherwise
    event: str  # Event, lower case; "" for messages

    @property
    def dedup_key(self) -> str:
        """WeChat retries with the same MsgId; events have none and are told apart by sender and time."""
        return f"msg:{self.msg_id}" if self.msg_id else f"event:{self.openid}:{self.created}:{self.event}"


def parse(xml: str) -> WeChatMessage:
    """The message in a (DTD-free) body; anything malformed raises a 400 rejection, never a 500."""
    try:
        root = xmltodict.parse(xml)  # entity declarations are refused here too (disable_entities)
    except (ExpatError, ValueError):
        raise Rejected(400, "invalid_xml", "the body is not well-formed XML") from None
    fields = root.get("xml") if isinstance(root, dict) else None
    if not isinstance(fields, dict):
        raise Rejected(400, "invalid_xml", "the body is not a WeChat message")

    def field(name: str) -> str:
        value = fields.get(name)
        return value.strip() if isinstance(value, str) else ""

    kind, openid, created, msg_id = field("MsgType").lower(), field("FromUserName"), field("CreateTime"), field("MsgId")
    if not (kind and openid and created.isdigit() and (msg_id or "0").isdigit()):
        raise Rejected(400, "invalid_xml", "the body is not a WeChat message")
    text = {"text": field("Content"), "voice": field("Recognition")}.get(kind, "")
    return WeChatMessage(
        kind,
        openid,
        field("ToUserName"),
        int(created),
        int(msg_id or "0"),
        text,
        field("Event").lower() if kind == "event" else "",
    )


async def read_limited(request: Request) -> bytes:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise Rejected(413, "too_large", f"the body is larger than {MAX_BODY_BYTES} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise Rejected(413, "too_large", f"the body is larger than {MAX_BODY_BYTES} bytes")
    return bytes(body)
