"""The crisis screen through /api/chat: every danger message of the bank gets an emergency line in the same
turn and an urgent or concern ticket; a cry for help is stored and screened before any limit; a concern gets
its answer and a safety check; a parent's status given as a screening answer raises nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from tests.channels.pipeline.test_conversation import FakeRasa

BANK = yaml.safe_load((Path(__file__).parent / "danger_bank.yml").read_text(encoding="utf-8"))
LINES = ("110", "120", "12355")


def test_every_bank_danger_message_gets_an_emergency_line_and_a_ticket(
    make_client: Callable[..., TestClient],
) -> None:
    rasa = FakeRasa()
    client = make_client(rasa, rate_burst=100_000, rate_per_second=100_000.0)
    misses = []
    for item in BANK["danger"]:
        body = client.post(
            "/api/chat", json={"sender_id": f"test-web-sender-bank-{item['id']}", "text": item["text"]}
        ).json()
        text = "\n".join(r["text"] for r in body["replies"] if not r["text"].startswith("【使用须知】"))
        if (
            not any(line in text for line in LINES)
            or not body["handoff"]
            or body["handoff"]["priority"]
            not in (
                "urgent",
                "high",
            )
        ):
            misses.append(item["id"])
    assert misses == []


def test_a_danger_message_in_a_burst_is_stored_and_opens_an_urgent_ticket(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(FakeRasa(), rate_burst=2, rate_per_second=0.001)
    for text in ("你好", "在吗"):
        client.post("/api/chat", json={"sender_id": "test-web-sender-burst", "text": text})
    assert (
        "稍等"
        in client.post("/api/chat", json={"sender_id": "test-web-sender-burst", "text": "喂"}).json()["replies"][0][
            "text"
        ]
    )
    body = client.post("/api/chat", json={"sender_id": "test-web-sender-burst", "text": "救命 他又打我了"}).json()
    assert "110" in body["replies"][0]["text"] and body["handoff"]["priority"] == "urgent"
    history = client.get("/api/history", params={"sender_id": "test-web-sender-burst"}).json()["messages"]
    assert "救命 他又打我了" in [m["text"] for m in history if m["from"] == "user"]


def test_an_over_long_message_is_screened_by_its_head_and_kept(make_client: Callable[..., TestClient]) -> None:
    client = make_client(FakeRasa())
    text = "我不想活了 今晚就去河边" + "。真的好累" * 1000
    body = client.post("/api/chat", json={"sender_id": "test-web-sender-long", "text": text}).json()
    assert "110" in body["replies"][0]["text"] and body["handoff"]["priority"] == "urgent"
    history = client.get("/api/history", params={"sender_id": "test-web-sender-long"}).json()["messages"]
    assert [m["text"] for m in history if m["from"] == "user"] == [text]
    ordinary = client.post(
        "/api/chat", json={"sender_id": "test-web-sender-long2", "text": "孤儿怎么申请" * 500}
    ).json()
    assert "太长" in ordinary["replies"][0]["text"] and ordinary["handoff"] is None


def test_a_concern_gets_its_answer_and_a_safety_check(make_client: Callable[..., TestClient]) -> None:
    rasa = FakeRasa()
    client = make_client(rasa)
    body = client.post(
        "/api/chat", json={"sender_id": "test-web-sender-concern", "text": "家访时孩子说不敢回家、怕他继父"}
    ).json()
    texts = [r["text"] for r in body["replies"]]
    assert rasa.received == ["家访时孩子说不敢回家、怕他继父"]  # the dialogue answered
    assert any("安全吗" in t and "12355" in t for t in texts)  # then the safety check
    assert body["handoff"]["priority"] == "high"
    store = client.app.state.store  # type: ignore[attr-defined]
    [ticket] = store.queue(limit=10)
    assert ticket.priority == "high" and ticket.summary["risk_level"] == "concern" and ticket.summary["evidence"]


def test_a_parents_status_in_the_screening_raises_nothing(make_client: Callable[..., TestClient]) -> None:
    rasa = FakeRasa()
    client = make_client(rasa)
    body = client.post(
        "/api/chat", json={"sender_id": "test-web-sender-screening", "text": "他爸前年出车祸死了 他妈联系不上好几年了"}
    ).json()
    assert body["handoff"] is None and rasa.received == ["他爸前年出车祸死了 他妈联系不上好几年了"]


def test_hopelessness_then_a_plan_escalates_to_urgent(make_client: Callable[..., TestClient]) -> None:
    client = make_client(FakeRasa())
    first = client.post(
        "/api/chat", json={"sender_id": "test-web-sender-escalate", "text": "每天都不开心 不知道为什么要活着"}
    ).json()
    assert first["handoff"]["priority"] == "high"  # a concern: staff review, no alarm
    second = client.post(
        "/api/chat", json={"sender_id": "test-web-sender-escalate", "text": "东西都准备好了 今晚就去"}
    ).json()
    assert "110" in second["replies"][0]["text"] and second["handoff"]["priority"] == "urgent"
