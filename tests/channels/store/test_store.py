from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import inspect

from channels.store import migrate
from channels.store.store import Store, TicketStateError


def test_migrations_upgrade_an_empty_database_and_downgrade_cleanly(database_url: str) -> None:
    store = Store(database_url)
    store.migrate()
    tables = set(inspect(store.engine).get_table_names())
    assert {"conversations", "messages", "tickets", "staff_users", "canned_replies", "audit_log"} <= tables
    migrate.downgrade(store.engine, "base")
    assert set(inspect(store.engine).get_table_names()) <= {"alembic_version"}
    store.migrate()  # and up again
    assert "tickets" in inspect(store.engine).get_table_names()
    store.close()


def test_one_conversation_per_channel_and_user(store: Store) -> None:
    a = store.conversation("web", "u1")
    assert store.conversation("web", "u1").id == a.id
    assert store.conversation("telegram", "u1").id != a.id


def test_messages_in_order_with_payload_and_client_id(store: Store) -> None:
    conv = store.conversation("web", "u1")
    first = store.add_message(conv.id, "user", "你好", client_id="c1")
    store.add_message(conv.id, "bot", "您好", {"buttons": [{"title": "转人工", "payload": "/request_human"}]})
    assert [m.text for m in store.messages(conv.id)] == ["你好", "您好"]
    assert store.messages(conv.id, since_id=first.id)[0].payload["buttons"][0]["title"] == "转人工"
    assert store.message_by_client_id(conv.id, "c1") == first


def test_finish_turn_stores_replies_buttons_and_notice_together(store: Store) -> None:
    conv = store.conversation("web", "u-finish")
    buttons = [{"title": "转人工", "payload": "/request_human"}]
    assert store.finish_turn(conv.id, [("bot", "答案", {"citations": []}), ("system", "须知", {})], buttons)
    assert [(m.author, m.text) for m in store.messages(conv.id)] == [("bot", "答案"), ("system", "须知")]
    after = store.get_conversation(conv.id)
    assert after is not None and after.last_buttons == buttons and after.notice_shown


def test_finish_turn_after_deletion_stores_nothing(store: Store) -> None:
    conv = store.conversation("web", "u-deleted")
    store.delete_conversation(conv.id)
    assert store.finish_turn(conv.id, [("bot", "答案", {})], []) is False
    assert store.messages(conv.id) == []


def test_ticket_queue_orders_by_priority_then_waiting_time(store: Store) -> None:
    ids = {}
    for name, priority in (("a", "normal"), ("b", "high"), ("c", "urgent"), ("d", "normal")):
        conv = store.conversation("web", name)
        ids[name] = store.open_ticket(conv.id, priority, "user_request", {}).id
    assert [t.id for t in store.queue()] == [ids["c"], ids["b"], ids["a"], ids["d"]]
    assert store.queue_position(ids["c"]) == 1 and store.queue_position(ids["d"]) == 4


def test_a_conversation_has_one_open_ticket_escalated_by_urgency(store: Store) -> None:
    conv = store.conversation("web", "u1")
    first = store.open_ticket(conv.id, "normal", "user_request", {"a": 1})
    again = store.open_ticket(conv.id, "urgent", "crisis", {"b": 2})
    assert again.id == first.id and again.priority == "urgent" and again.summary == {"a": 1, "b": 2}


def test_ticket_lifecycle(store: Store) -> None:
    staff = store.create_staff("li", "小李", "hash", "staff")
    other = store.create_staff("wang", "小王", "hash", "staff")
    conv = store.conversation("web", "u1")
    ticket = store.open_ticket(conv.id, "high", "user_request", {})
    taken = store.take_ticket(ticket.id, staff.id)
    assert taken.state == "active" and taken.assignee_id == staff.id and store.queue_position(ticket.id) is None
    with pytest.raises(TicketStateError):
        store.take_ticket(ticket.id, other.id)
    assert store.take_ticket(ticket.id, other.id, reassign=True).assignee_id == other.id
    closed = store.close_ticket(ticket.id, "resolved", "已解答")
    assert closed.state == "closed" and closed.outcome_code == "resolved"
    with pytest.raises(TicketStateError):
        store.close_ticket(ticket.id, "resolved", None)
    assert store.open_ticket_for(conv.id) is None


def test_delete_conversation_removes_everything(store: Store) -> None:
    conv = store.conversation("web", "u1")
    store.add_message(conv.id, "user", "我的电话13812345678")
    store.open_ticket(conv.id, "normal", "user_request", {})
    store.delete_conversation(conv.id)
    assert store.find_conversation("web", "u1") is None
    assert store.messages(conv.id) == [] and store.queue() == []


def test_purge_keeps_recent_and_open_conversations(store: Store) -> None:
    old = store.conversation("web", "old")
    store.add_message(old.id, "user", "旧消息")
    busy = store.conversation("web", "busy")
    store.open_ticket(busy.id, "normal", "user_request", {})
    store.conversation("web", "new")
    removed = store.purge_before(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5))
    assert ("web", "old") in removed and ("web", "busy") not in removed
    assert store.find_conversation("web", "busy") is not None
    assert store.purge_before(dt.datetime.now(dt.UTC) - dt.timedelta(days=1)) == []


def test_staff_canned_replies_and_audit(store: Store) -> None:
    staff = store.create_staff("zhang", "老张", "hash", "supervisor")
    assert store.staff_by_username("zhang") == staff and staff.supervisor
    with pytest.raises(ValueError):
        store.create_staff("x", "x", "h", "admin")
    canned = store.save_canned_reply("问候", "您好，我是热线工作人员。", staff.id)
    store.save_canned_reply("问候", "您好！", staff.id, canned.id)
    assert [c.text for c in store.canned_replies()] == ["您好！"]
    store.audit(staff.id, "read", "ticket", "t1", {"n": 3})
    assert store.audit_log()[0].action == "read"
