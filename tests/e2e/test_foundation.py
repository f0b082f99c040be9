"""The foundation's end-to-end path: a user's message → gateway → Rasa → action server → cited answer."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tools.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def citations(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for reply in body["replies"] for c in reply["citations"]]


def test_health_is_ok_with_all_parts(stack: Stack) -> None:
    resp = httpx.get(f"{stack.gateway}/healthz", timeout=10)
    assert resp.status_code == 200
    # The default profile: its store is SQLite, and neither PostgreSQL nor Redis is among its parts.
    assert resp.json()["parts"] == {"rasa": "ok", "action_server": "ok", "index": "ok", "sqlite": "ok"}


def test_policy_question_gets_a_cited_answer(stack: Stack) -> None:
    body = stack.chat("e2e-foundation-1", "什么是事实无人抚养儿童")
    assert body["handoff"] is None
    assert "民发〔2019〕62号" in [c["doc_no"] for c in citations(body)]
    text = "".join(r["text"] for r in body["replies"])
    assert "事实无人抚养儿童" in text and "失联" in text  # the definition, not just the name


def test_greeting_gets_a_greeting(stack: Stack) -> None:
    body = stack.chat("e2e-foundation-2", "你好")
    assert "童心守护" in body["replies"][0]["text"]
    assert body["replies"][0]["buttons"]


def test_rasa_outage_is_survived_and_recovered_without_restarting_the_gateway(stack: Stack) -> None:
    gateway = stack.procs["gateway"]
    stack.stop("rasa")
    try:
        down = httpx.get(f"{stack.gateway}/healthz", timeout=10)
        assert down.status_code == 503 and "rasa" in down.json()["failing"]
        body = stack.chat("e2e-foundation-3", "什么是留守儿童")
        assert "110" in body["replies"][0]["text"]
    finally:
        stack.start_rasa()
        stack.wait_healthy()
    assert stack.procs["gateway"] is gateway and gateway.poll() is None
    body = stack.chat("e2e-foundation-3", "什么是留守儿童")
    assert "国发〔2016〕13号" in [c["doc_no"] for c in citations(body)]


def test_index_reloads_on_request_without_a_restart(stack: Stack) -> None:
    from tests.e2e.conftest import ADMIN_TOKEN

    url = f"{stack.action_url}/admin/reload-index"
    assert httpx.post(url, timeout=30).status_code == 401
    assert httpx.post(url, headers={"Authorization": "Bearer wrong-token-0123456789"}, timeout=30).status_code == 401
    resp = httpx.post(url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=60)
    assert resp.status_code == 200 and resp.json()["index"]["ready"] is True
    assert resp.json()["index"]["chunks"] > 300
    stack.procs["actions"].send_signal(__import__("signal").SIGHUP)  # the other way to reload
    assert httpx.get(f"{stack.action_url}/ready", timeout=30).status_code == 200
    body = stack.chat("e2e-after-reload", "什么是事实无人抚养儿童")
    assert "民发〔2019〕62号" in [c["doc_no"] for c in citations(body)]
