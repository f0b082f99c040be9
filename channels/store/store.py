"""The gateway's data access: one method per operation, each in its own transaction.

The methods are synchronous (SQLAlchemy sessions); async callers run them in a worker thread.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, delete, event, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from channels.store import migrate
from channels.store.models import (
    AuditLog,
    CannedReply,
    ChannelKey,
    Conversation,
    Message,
    StaffUser,
    Ticket,
    utcnow,
)
from channels.store.records import (
    PRIORITY_RANK,
    AuditRecord,
    CannedRecord,
    ConversationRecord,
    MessageRecord,
    StaffRecord,
    TicketRecord,
)


class TicketStateError(ValueError):
    """The ticket is not in a state that allows this operation."""


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL still survives a crash of the process; only a power cut can lose the
            # last commits. FULL fsyncs every commit, which cost a single-user turn about a fifth of its time.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def _conversation(row: Conversation) -> ConversationRecord:
    return ConversationRecord(
        row.id,
        row.channel,
        row.sender_id,
        row.created_at,
        row.last_seen_at,
        row.notice_shown,
        list(row.last_buttons or []),
        row.pending,
    )


def _message(row: Message) -> MessageRecord:
    return MessageRecord(
        row.id, row.conversation_id, row.author, row.text, dict(row.payload or {}), row.staff_id, row.created_at
    )


def _ticket(row: Ticket, conversation: Conversation | None = None) -> TicketRecord:
    return TicketRecord(
        row.id,
        row.conversation_id,
        row.priority,
        row.reason,
        dict(row.summary or {}),
        row.state,
        row.assignee_id,
        row.created_at,
        row.taken_at,
        row.closed_at,
        row.outcome_code,
        row.outcome_note,
        row.callback_phone,
        row.satisfaction,
        conversation.channel if conversation else "",
        conversation.sender_id if conversation else "",
    )


def _staff(row: StaffUser) -> StaffRecord:
    return StaffRecord(row.id, row.username, row.display_name, row.password_hash, row.role, row.active)


class Store:
    """Usage example::

    store = Store("sqlite:///var/gateway.db")
    store.migrate()
    conv = store.conversation("web", "u1")
    store.add_message(conv.id, "user", "你好")
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return str(self.engine.dialect.name)

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(select(1))

    def migrate(self) -> None:
        migrate.upgrade(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    # --- conversations and messages -------------------------------------------------------
    def conversation(self, channel: str, sender_id: str) -> ConversationRecord:
        """Get or create the conversation of (channel, user), and mark it seen now."""
        with self._session() as s:
            row = s.scalar(
                select(Conversation).where(Conversation.channel == channel, Conversation.sender_id == sender_id)
            )
            if row is None:
                row = Conversation(channel=channel, sender_id=sender_id, last_buttons=[])
                s.add(row)
                try:
                    s.flush()
                except IntegrityError:  # another request created it at the same moment
                    s.rollback()
                    row = s.scalar(
                        select(Conversation).where(Conversation.channel == channel, Conversation.sender_id == sender_id)
                    )
                    assert row is not None
            row.last_seen_at = utcnow()
            return _conversation(row)

    def find_conversation(self, channel: str, sender_id: str) -> ConversationRecord | None:
        with self._session() as s:
            row = s.scalar(
                select(Conversation).where(Conversation.channel == channel, Conversation.sender_id == sender_id)
            )
            return _conversation(row) if row else None

    def get_conversation(self, conversation_id: int) -> ConversationRecord | None:
        with self._session() as s:
            row = s.get(Conversation, conversation_id)
            return _conversation(row) if row else None

    def update_conversation(self, conversation_id: int, **values: Any) -> None:
        allowed = {"notice_shown", "last_buttons", "pending"}
        if set(values) - allowed:
            raise ValueError(f"cannot update {sorted(set(values) - allowed)}")
        with self._session() as s:
            s.execute(update(Conversation).where(Conversation.id == conversation_id).values(**values))

    def add_message(
        self,
        conversation_id: int,
        author: str,
        text: str,
        payload: dict[str, Any] | None = None,
        staff_id: int | None = None,
        client_id: str | None = None,
    ) -> MessageRecord:
        with self._session() as s:
            row = Message(
                conversation_id=conversation_id,
                author=author,
                text=text,
                payload=payload or {},
                staff_id=staff_id,
                client_id=client_id,
            )
            s.add(row)
            s.flush()
            return _message(row)

    def set_delivery(self, message_ids: list[int], error: str | None) -> None:
        """Record whether messages pushed to a user's platform reached it (``error`` None) or not."""
        status = {"ok": error is None, **({"error": error} if error else {}), "at": utcnow().isoformat()}
        with self._session() as s:
            for row in s.scalars(select(Message).where(Message.id.in_(message_ids))):
                row.payload = {**(row.payload or {}), "delivery": status}

    def get_message(self, message_id: int) -> MessageRecord | None:
        with self._session() as s:
            row = s.get(Message, message_id)
            return _message(row) if row is not None else None

    def finish_turn(
        self,
        conversation_id: int,
        replies: list[tuple[str, str, dict[str, Any]]],
        last_buttons: list[dict[str, Any]],
    ) -> bool:
        """Store a turn's replies ``(author, text, payload)``, the buttons a typed number picks next and that the
        privacy notice has been shown, in one transaction. False (nothing stored) when the conversation was
        deleted during the turn."""
        with self._session() as s:
            if s.get(Conversation, conversation_id) is None:
                return False
            s.add_all(
                Message(conversation_id=conversation_id, author=author, text=text, payload=payload or {})
                for author, text, payload in replies
            )
            s.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id)
                .values(last_buttons=last_buttons, notice_shown=True)
            )
            return True

    def message_by_client_id(self, conversation_id: int, client_id: str) -> MessageRecord | None:
        with self._session() as s:
            row = s.scalar(
                select(Message).where(Message.conversation_id == conversation_id, Message.client_id == client_id)
            )
            return _message(row) if row else None

    def messages(self, conversation_id: int, since_id: int = 0, limit: int = 200) -> list[MessageRecord]:
        with self._session() as s:
            rows = s.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id, Message.id > since_id)
                .order_by(Message.id)
                .limit(limit)
            )
            return [_message(r) for r in rows]

    def last_messages(self, conversation_id: int, limit: int = 50) -> list[MessageRecord]:
        with self._session() as s:
            rows = list(
                s.scalars(
                    select(Message)
                    .where(Message.conversation_id == conversation_id)
                    .order_by(Message.id.desc())
                    .limit(limit)
                )
            )
            return [_message(r) for r in reversed(rows)]

    def recent_risk(self, conversation_id: int, limit: int = 3) -> list[float]:
        """The crisis scores of the conversation's last user messages, newest first (for conversation-level risk)."""
        with self._session() as s:
            rows = s.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id, Message.author == "user")
                .order_by(Message.id.desc())
                .limit(limit)
            )
            return [float(r.payload["risk"]["score"]) for r in rows if isinstance((r.payload or {}).get("risk"), dict)]

    def delete_conversation(self, conversation_id: int) -> int:
        """Delete the conversation, its messages and its tickets (a user's "删除我的记录"); returns how many
        messages went."""
        with self._session() as s:
            row = s.get(Conversation, conversation_id)
            messages = s.execute(delete(Message).where(Message.conversation_id == conversation_id))
            s.execute(delete(Ticket).where(Ticket.conversation_id == conversation_id))
            s.execute(delete(Conversation).where(Conversation.id == conversation_id))
            if row is not None:  # the numbered menu the user last saw names them too
                s.execute(
                    delete(ChannelKey).where(
                        ChannelKey.namespace == "menu", ChannelKey.key == f"{row.channel}:{row.sender_id}"
                    )
                )
            return int(getattr(messages, "rowcount", 0) or 0)

    def purge_before(self, cutoff: dt.datetime) -> list[tuple[str, str]]:
        """Delete conversations not seen since ``cutoff`` (and without an open ticket).

        Returns the (channel, sender) of each, so the caller can erase them from Rasa's store too.
        """
        with self._session() as s:
            open_ids = select(Ticket.conversation_id).where(Ticket.state.in_(("waiting", "active")))
            rows = list(
                s.scalars(
                    select(Conversation).where(Conversation.last_seen_at < cutoff, Conversation.id.not_in(open_ids))
                )
            )
            ids = [r.id for r in rows]
            if ids:
                s.execute(delete(Message).where(Message.conversation_id.in_(ids)))
                s.execute(delete(Ticket).where(Ticket.conversation_id.in_(ids)))
                s.execute(delete(Conversation).where(Conversation.id.in_(ids)))
            return [(r.channel, r.sender_id) for r in rows]

    # --- channel keys ---------------------------------------------------------------------
    def add_key(self, namespace: str, key: str, value: str) -> bool:
        """Keep ``value`` under (namespace, key) unless something is there already; True when this call did.
        Every gateway process sees the same keys, so this is how one of them claims a message."""
        try:
            with self._session() as s:
                s.add(ChannelKey(namespace=namespace, key=key, value=value))
        except IntegrityError:
            return False
        return True

    def put_key(self, namespace: str, key: str, value: str) -> None:
        with self._session() as s:
            row = s.get(ChannelKey, (namespace, key))
            if row is None:
                s.add(ChannelKey(namespace=namespace, key=key, value=value))
            else:
                row.value, row.created_at = value, utcnow()
        # (a concurrent first put of the same key loses with IntegrityError; callers write their own keys)

    def get_key(self, namespace: str, key: str) -> str | None:
        with self._session() as s:
            row = s.get(ChannelKey, (namespace, key))
            return row.value if row is not None else None

    def delete_key(self, namespace: str, key: str) -> None:
        with self._session() as s:
            s.execute(delete(ChannelKey).where(ChannelKey.namespace == namespace, ChannelKey.key == key))

    def purge_keys_before(self, cutoff: dt.datetime) -> int:
        with self._session() as s:
            result = s.execute(delete(ChannelKey).where(ChannelKey.created_at < cutoff))
            return int(getattr(result, "rowcount", 0) or 0)

    # --- tickets --------------------------------------------------------------------------
    def open_ticket(self, conversation_id: int, priority: str, reason: str, summary: dict[str, Any]) -> TicketRecord:
        """Open a ticket, or return the conversation's open one (raising its priority if this is more urgent)."""
        with self._session() as s:
            existing = s.scalar(
                select(Ticket).where(Ticket.conversation_id == conversation_id, Ticket.state.in_(("waiting", "active")))
            )
            conversation = s.get(Conversation, conversation_id)
            if existing is not None:
                if PRIORITY_RANK[priority] < existing.priority_rank:
                    existing.priority, existing.priority_rank = priority, PRIORITY_RANK[priority]
                    existing.reason = reason
                existing.summary = {**(existing.summary or {}), **summary}
                return _ticket(existing, conversation)
            row = Ticket(
                id=secrets.token_hex(6),
                conversation_id=conversation_id,
                priority=priority,
                priority_rank=PRIORITY_RANK[priority],
                reason=reason,
                summary=summary,
                state="waiting",
            )
            s.add(row)
            s.flush()
            return _ticket(row, conversation)

    def get_ticket(self, ticket_id: str) -> TicketRecord | None:
        with self._session() as s:
            row = s.get(Ticket, ticket_id)
            return _ticket(row, s.get(Conversation, row.conversation_id)) if row else None

    def open_ticket_for(self, conversation_id: int) -> TicketRecord | None:
        with self._session() as s:
            row = s.scalar(
                select(Ticket).where(Ticket.conversation_id == conversation_id, Ticket.state.in_(("waiting", "active")))
            )
            return _ticket(row, s.get(Conversation, conversation_id)) if row else None

    def queue(self, *, include_closed: bool = False, limit: int = 200) -> list[TicketRecord]:
        """Open tickets, most urgent first, then longest waiting (closed ones after, newest first)."""
        with self._session() as s:
            query = select(Ticket, Conversation).join(Conversation, Conversation.id == Ticket.conversation_id)
            if not include_closed:
                query = query.where(Ticket.state.in_(("waiting", "active")))
            rows = s.execute(
                query.order_by((Ticket.state == "closed"), Ticket.priority_rank, Ticket.created_at).limit(limit)
            ).all()
            return [_ticket(t, c) for t, c in rows]

    def queue_position(self, ticket_id: str) -> int | None:
        """1 for the next ticket to be taken; None when it is not waiting."""
        with self._session() as s:
            ticket = s.get(Ticket, ticket_id)
            if ticket is None or ticket.state != "waiting":
                return None
            ahead = s.scalar(
                select(func.count())
                .select_from(Ticket)
                .where(
                    Ticket.state == "waiting",
                    (Ticket.priority_rank < ticket.priority_rank)
                    | ((Ticket.priority_rank == ticket.priority_rank) & (Ticket.created_at < ticket.created_at)),
                )
            )
            return int(ahead or 0) + 1

    def take_ticket(self, ticket_id: str, staff_id: int, *, reassign: bool = False) -> TicketRecord:
        with self._session() as s:
            row = s.get(Ticket, ticket_id, with_for_update=True)
            if row is None or row.state == "closed":
                raise TicketStateError("ticket is closed or unknown")
            if row.state == "active" and row.assignee_id not in (None, staff_id) and not reassign:
                raise TicketStateError("ticket is already taken by someone else")
            row.state, row.assignee_id = "active", staff_id
            row.taken_at = row.taken_at or utcnow()
            return _ticket(row, s.get(Conversation, row.conversation_id))

    def close_ticket(self, ticket_id: str, outcome_code: str, note: str | None) -> TicketRecord:
        with self._session() as s:
            row = s.get(Ticket, ticket_id, with_for_update=True)
            if row is None or row.state == "closed":
                raise TicketStateError("ticket is closed or unknown")
            row.state, row.closed_at, row.outcome_code, row.outcome_note = "closed", utcnow(), outcome_code, note
            return _ticket(row, s.get(Conversation, row.conversation_id))

    def set_ticket_fields(self, ticket_id: str, **values: Any) -> None:
        allowed = {"callback_phone", "satisfaction", "summary"}
        if set(values) - allowed:
            raise ValueError(f"cannot update {sorted(set(values) - allowed)}")
        with self._session() as s:
            s.execute(update(Ticket).where(Ticket.id == ticket_id).values(**values))

    def last_closed_ticket(self, conversation_id: int) -> TicketRecord | None:
        with self._session() as s:
            row = s.scalar(
                select(Ticket)
                .where(Ticket.conversation_id == conversation_id, Ticket.state == "closed")
                .order_by(Ticket.closed_at.desc())
                .limit(1)
            )
            return _ticket(row) if row else None

    # --- staff, canned replies, audit -------------------------------------------------------
    def create_staff(self, username: str, display_name: str, password_hash: str, role: str) -> StaffRecord:
        if role not in ("staff", "supervisor"):
            raise ValueError("role must be staff or supervisor")
        with self._session() as s:
            row = StaffUser(username=username, display_name=display_name, password_hash=password_hash, role=role)
            s.add(row)
            s.flush()
            return _staff(row)

    def staff_by_username(self, username: str) -> StaffRecord | None:
        with self._session() as s:
            row = s.scalar(select(StaffUser).where(StaffUser.username == username))
            return _staff(row) if row else None

    def staff_by_id(self, staff_id: int) -> StaffRecord | None:
        with self._session() as s:
            row = s.get(StaffUser, staff_id)
            return _staff(row) if row else None

    def all_staff(self) -> list[StaffRecord]:
        with self._session() as s:
            return [_staff(r) for r in s.scalars(select(StaffUser).order_by(StaffUser.username))]

    def set_password_hash(self, staff_id: int, password_hash: str) -> None:
        with self._session() as s:
            s.execute(update(StaffUser).where(StaffUser.id == staff_id).values(password_hash=password_hash))

    def canned_replies(self) -> list[CannedRecord]:
        with self._session() as s:
            return [
                CannedRecord(r.id, r.title, r.text) for r in s.scalars(select(CannedReply).order_by(CannedReply.id))
            ]

    def save_canned_reply(self, title: str, text: str, staff_id: int, canned_id: int | None = None) -> CannedRecord:
        with self._session() as s:
            row = s.get(CannedReply, canned_id) if canned_id else None
            if row is None:
                row = CannedReply(title=title, text=text, updated_by=staff_id)
                s.add(row)
            else:
                row.title, row.text, row.updated_by, row.updated_at = title, text, staff_id, utcnow()
            s.flush()
            return CannedRecord(row.id, row.title, row.text)

    def delete_canned_reply(self, canned_id: int) -> None:
        with self._session() as s:
            s.execute(delete(CannedReply).where(CannedReply.id == canned_id))

    def audit(
        self, staff_id: int | None, action: str, target_type: str, target_id: str, detail: dict[str, Any] | None = None
    ) -> None:
        with self._session() as s:
            s.add(
                AuditLog(
                    staff_id=staff_id, action=action, target_type=target_type, target_id=target_id, detail=detail or {}
                )
            )

    def audit_log(self, limit: int = 200) -> list[AuditRecord]:
        with self._session() as s:
            rows = s.scalars(select(AuditLog).order_by(AuditLog.id.desc()).limit(limit))
            return [
                AuditRecord(r.id, r.at, r.staff_id, r.action, r.target_type, r.target_id, dict(r.detail or {}))
                for r in rows
            ]
