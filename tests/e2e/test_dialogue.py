"""Dialogue through the real stack (/api/chat → gateway → Rasa → action server)."""

from __future__ import annotations

from typing import Any

import pytest

from tools.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def texts(body: dict[str, Any]) -> str:
    return "\n".join(r["text"] for r in body["replies"])


def citations(body: dict[str, Any]) -> list[str | None]:
    return [c["doc_no"] for r in body["replies"] for c in r["citations"]]


def test_a_situation_told_gets_the_verdict_in_the_first_reply(stack: Stack) -> None:
    sender = "e2e-screening-situation-1"
    first = stack.chat(sender, "孩子爸爸在坐牢，妈妈联系不上快一年了，孩子9岁，农村的")
    verdict = first["replies"][0]
    assert verdict["text"].startswith("✅") and "事实无人抚养儿童" in verdict["text"]
    assert "民发〔2019〕62号" in [c["doc_no"] for c in verdict["citations"]]
    assert "15个工作日" in verdict["text"] and "户籍所在地" in verdict["text"]
    # Nothing the user said is asked again.
    assert not any(word in texts(first) for word in ("几岁", "爸爸现在", "妈妈现在"))


def test_dont_know_and_a_policy_question_in_the_middle(stack: Stack) -> None:
    sender = "test-web-sender-e2e-screening-2"
    stack.chat(sender, "帮我看看我孙子能享受什么补助")
    asked_age = stack.chat(sender, "十岁")
    assert "爸爸" in texts(asked_age)
    digression = stack.chat(sender, "事实无人抚养儿童申请要多长时间")
    assert "民发〔2019〕62号" in citations(digression)  # answered, with its source
    assert "爸爸" in texts(digression)  # and the screening asks its question again
    after = stack.chat(sender, "不知道")
    assert "妈妈" in texts(after)  # "don't know" is an answer; the next question follows


def test_role_switch_gives_reference_answers(stack: Stack) -> None:
    sender = "test-web-sender-e2e-role"
    assert "工作参考模式" in texts(stack.chat(sender, "我是儿童主任"))
    body = stack.chat(sender, "强制报告的主体和时限是怎么规定的")
    assert "【依据】" in texts(body) and "未成年人保护法" in texts(body)
    assert body["replies"][0]["citations"]


def test_danger_in_the_middle_of_the_screening_gets_the_emergency_reply(stack: Stack) -> None:
    sender = "test-web-sender-e2e-crisis-form"
    stack.chat(sender, "帮我看看孩子能享受什么保障")
    body = stack.chat(sender, "孩子刚才说他不想活了")
    assert "110" in body["replies"][0]["text"]
    assert body["handoff"] is not None and body["handoff"]["priority"] == "urgent"


def test_request_for_a_person_opens_a_ticket(stack: Stack) -> None:
    body = stack.chat("test-web-sender-e2e-human", "转人工")
    assert body["handoff"] is not None and body["handoff"]["priority"] in ("normal", "high")
    assert body["handoff"]["ticket_id"]


def test_out_of_scope_is_honest(stack: Stack) -> None:
    body = stack.chat("test-web-sender-e2e-oos", "车险怎么买划算")
    assert not citations(body)
    assert "转人工" in [b["title"] for r in body["replies"] for b in r["buttons"]]
