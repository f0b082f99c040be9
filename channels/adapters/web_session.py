"""Web conversation tokens: proof that a client is the one that had a conversation.

The ``sender_id`` a web client chooses names a conversation but proves nothing: anyone may send any id. The
gateway therefore signs a token with its secret (``TONGXIN_SESSION_SECRET``, shared by every gateway) over the
conversation's row: its id, channel, sender and creation time. The history and the socket need it. A deleted
or purged conversation takes its token with it (its row is gone), and the same ``sender_id`` starting again
gets a new row and so a new token.

Format: ``<conversation id>.<base64url HMAC-SHA256>`` — the id only says which row to check against.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from channels.store.records import MAX_ROW_ID, ConversationRecord

_TOKEN = re.compile(r"^(\d{1,19})\.([A-Za-z0-9_-]{43})$")


class SessionTokens:
    """Usage example::

    tokens = SessionTokens(secret)
    token = tokens.issue(conversation)          # "42.pX3…"
    tokens.conversation_id(token)               # 42: the row to load
    tokens.valid(token, conversation)           # True; False for any other conversation
    """

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"tongxin-web-session|" + secret.encode()).digest()

    def issue(self, conversation: ConversationRecord) -> str:
        return f"{conversation.id}.{self._sign(conversation)}"

    @staticmethod
    def conversation_id(token: str | None) -> int | None:
        match = _TOKEN.match(token or "")
        if match is None or int(match.group(1)) > MAX_ROW_ID:
            return None
        return int(match.group(1))

    def valid(self, token: str | None, conversation: ConversationRecord | None) -> bool:
        if conversation is None or self.conversation_id(token) != conversation.id:
            return False
        return hmac.compare_digest(str(token).split(".", 1)[1], self._sign(conversation))

    def _sign(self, conversation: ConversationRecord) -> str:
        c = conversation
        bound = f"{c.id}|{c.channel}|{c.sender_id}|{c.created_at.isoformat()}"
        digest = hmac.new(self._key, bound.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")
