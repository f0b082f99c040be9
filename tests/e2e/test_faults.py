"""Kill and restart each process in the middle of conversations: state survives (SQL tracker store and the
gateway store), users always get an answer, and no message is lost or answered twice."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from channels.store.store import Store
from channels.store.tracker_eraser import TrackerEraser
from tools.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of its own: these tests kill its processes."""
    stack = Stack(tmp_path_factory.mktemp("faults"))
    try:
        stack.start()
        yield stack
    finally:
        stack.stop_all()


def text(body: dict[str, Any]) -> str:
    return "\n".join(r["text"] for r in body["replies"])


def store_of(stack: Stack) -> Store:
    return Store(f"sqlite:///{stack.workdir / 'gateway.db'}")


def test_screening_survives_a_rasa_crash(faulty: Stack) -> None:
    sender = "test-web-sender-fault-rasa"
    first = faulty.chat(sender, "帮我看看孩子能享受什么保障，孩子9岁")
    assert "爸爸" in text(first)
    faulty.kill("rasa")
    during = faulty.chat(sender, "他爸在坐牢")
    assert "110" in text(during)  # polite answer while Rasa is down; the message is kept
    faulty.start_rasa()
    faulty.wait_healthy()
    resumed = faulty.chat(sender, "他爸在坐牢")
    assert "妈妈" in text(resumed)  # the form remembered the age and asks the next question
    history = faulty.history(sender)
    users = [m["text"] for m in history["messages"] if m["from"] == "user"]
    assert users == ["帮我看看孩子能享受什么保障，孩子9岁", "他爸在坐牢", "他爸在坐牢"]


def test_conversation_survives_a_gateway_crash(faulty: Stack) -> None:
    sender = "test-web-sender-fault-gateway"
    faulty.chat(sender, "帮我看看孙子能享受什么补助")
    faulty.chat(sender, "十二岁")
    faulty.kill("gateway")
    faulty.start_gateway()
    faulty.wait_healthy()
    history = faulty.history(sender)
    assert [m["text"] for m in history["messages"] if m["from"] == "user"] == ["帮我看看孙子能享受什么补助", "十二岁"]
    assert "妈妈" in text(faulty.chat(sender, "他爸外出打工"))


def test_action_server_down_still_answers_and_recovers(faulty: Stack) -> None:
    sender = "test-web-sender-fault-actions"
    faulty.kill("actions")
    body = faulty.chat(sender, "什么是事实无人抚养儿童")
    assert body["replies"] and text(body).strip()  # never an empty reply list
    faulty.start_actions()
    faulty.wait_healthy()
    again = faulty.chat(sender, "什么是事实无人抚养儿童")
    assert "民发〔2019〕62号" in [c["doc_no"] for r in again["replies"] for c in r["citations"]]


def test_a_retried_message_is_processed_once(faulty: Stack) -> None:
    sender = "test-web-sender-fault-retry"
    payload = {"sender_id": sender, "text": "孤儿基本生活费怎么申请", "client_id": "retry-1"}
    first = httpx.post(f"{faulty.gateway}/api/chat", json=payload, timeout=60).json()
    second = httpx.post(f"{faulty.gateway}/api/chat", json=payload, timeout=60).json()
    assert text(first) == text(second)
    eraser = TrackerEraser(f"sqlite:///{faulty.workdir / 'tracker.db'}")
    try:
        events = httpx.get(f"{faulty.rasa_url}/conversations/web:{sender}/tracker", timeout=10).json()["events"]
        assert [e["text"] for e in events if e["event"] == "user"] == ["孤儿基本生活费怎么申请"]
        assert eraser.count(f"web:{sender}") > 0
    finally:
        eraser.close()


def test_every_user_message_was_kept_and_answered(faulty: Stack) -> None:
    store = store_of(faulty)
    try:
        for sender in (
            f"test-web-sender-{name}" for name in ("fault-rasa", "fault-gateway", "fault-actions", "fault-retry")
        ):
            conversation = store.find_conversation("web", sender)
            assert conversation is not None
            messages = store.messages(conversation.id)
            for i, message in enumerate(messages):
                if message.author == "user":
                    answered = any(m.author != "user" for m in messages[i + 1 :])
                    assert answered, (sender, message.text)
            client_ids = [m for m in messages if m.author == "user" and m.text == "孤儿基本生活费怎么申请"]
            assert len(client_ids) <= 1
    finally:
        store.close()


def test_deleting_my_data_removes_it_from_both_stores(faulty: Stack) -> None:
    sender = "test-web-sender-fault-delete"
    faulty.chat(sender, "我孙子叫王小明 电话13812345678 什么是留守儿童")
    eraser = TrackerEraser(f"sqlite:///{faulty.workdir / 'tracker.db'}")
    try:
        assert eraser.count(f"web:{sender}") > 0
        ask = faulty.chat(sender, "删除我的记录")
        assert ask["replies"][0]["buttons"][0]["payload"] == "/tx_confirm_delete"
        done = faulty.chat(sender, "/tx_confirm_delete")
        assert "删除" in text(done)
        assert eraser.count(f"web:{sender}") == 0
        store = store_of(faulty)
        assert store.find_conversation("web", sender) is None
        store.close()
        fresh = faulty.chat(sender, "你好")  # a new, empty conversation: the notice is shown again
        assert text(fresh).endswith("删除我的记录”。")
    finally:
        eraser.close()


def test_retention_purge_empties_both_stores(faulty: Stack) -> None:
    sender = "test-web-sender-fault-retention"
    faulty.chat(sender, "什么是留守儿童")
    eraser = TrackerEraser(f"sqlite:///{faulty.workdir / 'tracker.db'}")
    try:
        assert eraser.count(f"web:{sender}") > 0
        done = subprocess.run(
            [sys.executable, "-m", "channels.store.retention", "purge", "--days", "-1", "--json"],
            env=faulty.env(),
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(done.stdout)
        assert result["conversations"] >= 1
        assert eraser.count(f"web:{sender}") == 0
        store = store_of(faulty)
        assert store.find_conversation("web", sender) is None
        store.close()
    finally:
        eraser.close()
