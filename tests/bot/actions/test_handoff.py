from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from bot.actions.handoff import ActionRequestHandoff
from knowledge_base.loader import KnowledgeBase
from tests.bot.conftest import search_result, tracker


async def test_handoff_signal_carries_reason_and_case_summary(use_services: Any, kb: KnowledgeBase) -> None:
    use_services(search_result(kb, None))
    events = [
        {"event": "user", "text": "孩子爸爸坐牢了"},
        {"event": "bot", "text": "……"},
        {"event": "user", "text": "转人工"},
    ]
    dispatcher = CollectingDispatcher()
    await ActionRequestHandoff().run(
        dispatcher, tracker("转人工", slots={"child_age": 9, "county": "秭归县"}, events=events), {}
    )
    [message] = dispatcher.messages
    assert message["response"] == "utter_handoff_requested"
    handoff = message["custom"]["handoff"]
    assert handoff["reason"] == "user_request" and handoff["priority"] == "normal"
    assert handoff["summary"]["slots"] == {"child_age": 9, "county": "秭归县"}
    assert handoff["summary"]["last_exchanges"][0] == {"from": "user", "text": "孩子爸爸坐牢了"}


async def test_a_reported_child_is_followed_up_with_high_priority(use_services: Any, kb: KnowledgeBase) -> None:
    use_services(search_result(kb, None))
    dispatcher = CollectingDispatcher()
    message = tracker("好 帮我转给工作人员", slots={"next_step": "offer_report"})
    await ActionRequestHandoff().run(dispatcher, message, {})
    handoff = dispatcher.messages[0]["custom"]["handoff"]
    assert handoff["reason"] == "child_report" and handoff["priority"] == "high"


async def test_declining_a_person_opens_nothing(use_services: Any, kb: KnowledgeBase) -> None:
    use_services(search_result(kb, None))
    dispatcher = CollectingDispatcher()
    await ActionRequestHandoff().run(dispatcher, tracker("算了 先不用转人工 我自己先去找学校"), {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_handoff_declined"]
    assert not dispatcher.messages[0].get("custom")


async def test_a_child_asking_for_a_person_hears_it_as_a_child(use_services: Any, kb: KnowledgeBase) -> None:
    use_services(search_result(kb, None))
    dispatcher = CollectingDispatcher()
    await ActionRequestHandoff().run(dispatcher, tracker("我想找人聊聊", slots={"role": "child"}), {})
    assert dispatcher.messages[0]["response"] == "utter_handoff_requested_child"
