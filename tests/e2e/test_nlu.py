"""The trained NLU pipeline in the real Rasa server: the text normaliser, m3e features and the linear intent
classifier. Accuracy is measured by 5-fold cross-validation (`make nlu-cv`); these messages are not in the
training data and check that every part is wired into the served model. Facts (a parent's situation, the
child's age, the county) are read by the action server's fact reader from the words, not by NLU entities."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tools.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def parse(stack: Stack, text: str) -> dict[str, Any]:
    resp = httpx.post(f"{stack.rasa_url}/model/parse", json={"text": text}, timeout=30)
    resp.raise_for_status()
    body: dict[str, Any] = resp.json()
    return body


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("喂 小助手 你在吗", "greet"),
        ("我家娃吞了一把安眠药", "report_danger"),
        ("家里的电视坏了找谁修", "out_of_scope"),
        ("我是村里的儿童主任", "set_role"),
        ("谢谢你 帮了大忙", "thank"),
        ("帮我转个人工客服", "request_human"),
    ],
)
def test_unseen_wording_gets_its_intent_with_a_ranking(stack: Stack, text: str, intent: str) -> None:
    body = parse(stack, text)
    assert body["intent"]["name"] == intent
    assert body["intent"]["confidence"] > 0.45  # the FallbackClassifier threshold in config.yml
    ranking = body["intent_ranking"]
    assert 2 <= len(ranking) <= 10 and ranking[0]["name"] == intent
    assert [r["confidence"] for r in ranking] == sorted((r["confidence"] for r in ranking), reverse=True)


def test_an_inform_message_is_understood_and_its_facts_are_not_asked_again(stack: Stack) -> None:
    text = "孩子的爸爸在服刑 伢今年10岁 我们是五峰的"
    assert parse(stack, text)["intent"]["name"] == "inform"
    body = stack.chat("e2e-nlu-inform-facts-1", text)
    replies = "\n".join(r["text"] for r in body["replies"])
    assert "几岁" not in replies and "爸爸现在" not in replies
