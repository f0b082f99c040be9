"""Plain, immutable records the store returns (no ORM objects leak out of a session)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2}
# Row ids are 64-bit integers in SQLite and PostgreSQL: a larger id in a URL is a 422, not a driver error.
MAX_ROW_ID = 2**63 - 1


@dataclass(frozen=True)
class ConversationRecord:
    id: int
    channel: str
    sender_id: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    notice_shown: bool
    last_buttons: list[dict[str, str]]
    pending: str | None


@dataclass(frozen=True)
class MessageRecord:
    id: int
    conversation_id: int
    author: str
    text: str
    payload: dict[str, Any]
    staff_id: int | None
    created_at: dt.datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "from": self.author,
            "text": self.text,
            "at": self.created_at.isoformat(),
            **{k: v for k, v in self.payload.items() if k in ("buttons", "citations")},
        }


@dataclass(frozen=True)
class TicketRecord:
    id: str
    conversation_id: int
    priority: str
    reason: str
    summary: dict[str, Any]
    state: str
    assignee_id: int | None
    created_at: dt.datetime
    taken_at: dt.datetime | None
    closed_at: dt.datetime | None
    outcome_code: str | None
    outcome_note: str | None
    callback_phone: str | None
    satisfaction: int | None
    channel: str = ""
    sender_id: str = ""

    @property
    def open(self) -> bool:
        return self.state in ("waiting", "active")


@dataclass(frozen=True)
class StaffRecord:
    id: int
    username: str
    display_name: str
    password_hash: str
    role: str
    active: bool

    @property
    def supervisor(self) -> bool:
        return self.role == "supervisor"


@dataclass(frozen=True)
class CannedRecord:
    id: int
    title: str
    text: str


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: dt.datetime
    staff_id: int | None
    action: str
    target_type: str
    target_id: str
    detail: dict[str, Any]
