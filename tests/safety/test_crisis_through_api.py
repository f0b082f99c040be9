"""Every danger message of the bank, sent through /api/chat: the emergency line in the same turn and an urgent
ticket, whatever the dialogue would have said."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from tests.channels.test_conversation import FakeRasa

BANK = yaml.safe_load((Path(__file__).parent / "danger_bank.yml").read_text(encoding="utf-8"))


def test_every_bank_danger_message_gets_emergency_reply_and_urgent_ticket(
    make_client: Callable[..., TestClient],
) -> None:
    rasa = FakeRasa()
    client = make_client(rasa, rate_burst=100_000, rate_per_second=100_000.0)
    misses = []
    for item in BANK["danger"]:
        body = client.post("/api/chat", json={"sender_id": f"bank-{item['id']}", "text": item["text"]}).json()
        first = body["replies"][0]["text"]
        if "110" not in first or not body["handoff"] or body["handoff"]["priority"] != "urgent":
            misses.append(item["id"])
    assert misses == []
    assert rasa.received == []  # none of them waited for the dialogue
    store = client.app.state.store  # type: ignore[attr-defined]
    assert len([t for t in store.queue(limit=1000) if t.priority == "urgent"]) == len(BANK["danger"])
