from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from bot.actions.answer import ActionAnswerPolicy, ActionHandleFallback, ActionPolicyDetails
from knowledge_base.loader import KnowledgeBase
from tests.bot.conftest import search_result, tracker


def slots(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def test_parent_gets_summary_first_with_citation_and_details_button(use_services: Any, kb: KnowledgeBase) -> None:
    use_services(search_result(kb, "de_facto_unsupported_definition"))
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerPolicy().run(dispatcher, tracker("什么是事实无人抚养儿童"), {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_policy_answer"
    assert message["answer"] == kb.document("de_facto_unsupported_definition").meta.summary
    assert "民发〔2019〕62号" in message["source"]
    assert message["custom"]["citations"][0]["doc_no"] == "民发〔2019〕62号"
    set_ = slots(events)
    assert set_["last_doc_id"] == "de_facto_unsupported_definition" and set_["failure_streak"] == 0
    assert set_["last_answer"]["passage"]


async def test_child_director_gets_the_reference_register(use_services: Any, kb: KnowledgeBase) -> None:
    use_services(search_result(kb, "mandatory_reporting"))
    dispatcher = CollectingDispatcher()
    await ActionAnswerPolicy().run(dispatcher, tracker("强制报告向谁报", slots={"role": "child_director"}), {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_policy_answer_reference"
    assert message["passage"] and "未成年人保护法" in message["source"]


async def test_not_found_then_repeated_failure_asks_for_a_person(use_services: Any, kb: KnowledgeBase) -> None:
    use_services(search_result(kb, None))
    first = CollectingDispatcher()
    events = await ActionAnswerPolicy().run(first, tracker("车险怎么买"), {})
    assert [m["response"] for m in first.messages] == ["utter_policy_not_found"]
    assert not first.messages[0].get("custom") and slots(events)["failure_streak"] == 1
    second = CollectingDispatcher()
    events = await ActionHandleFallback().run(second, tracker("股票", slots={"failure_streak": 1}), {})
    [message] = second.messages
    assert message["response"] == "utter_repeated_failure"
    assert message["custom"]["handoff"]["reason"] == "repeated_failure"
    assert slots(events)["failure_streak"] == 0


async def test_history_questions_may_use_superseded_documents(use_services: Any, kb: KnowledgeBase) -> None:
    searcher = use_services(search_result(kb, "orphans"))
    await ActionAnswerPolicy().run(CollectingDispatcher(), tracker("62号文原来规定了几种情形"), {})
    await ActionAnswerPolicy().run(CollectingDispatcher(), tracker("62号文规定了几种情形"), {})
    assert [f.include_superseded for _, f in searcher.calls] == [True, False]


async def test_superseded_answer_is_marked_as_history(use_services: Any, kb: KnowledgeBase) -> None:
    use_services(search_result(kb, "de_facto_unsupported_2019_original"))
    dispatcher = CollectingDispatcher()
    await ActionAnswerPolicy().run(dispatcher, tracker("62号文原来规定几种情形"), {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_policy_history"
    assert message["current_title"] == kb.document("de_facto_unsupported_definition").meta.title


async def test_details_show_the_passage_of_the_last_answer(use_services: Any, kb: KnowledgeBase) -> None:
    use_services(search_result(kb, "orphans"))
    empty = CollectingDispatcher()
    await ActionPolicyDetails().run(empty, tracker("看具体规定"), {})
    assert empty.messages[0]["response"] == "utter_no_details"
    dispatcher = CollectingDispatcher()
    last = {"doc_id": "orphans", "heading": "认定", "passage": "孤儿是……", "source": "《意见》"}
    await ActionPolicyDetails().run(dispatcher, tracker("看具体规定", slots={"last_answer": last}), {})
    assert dispatcher.messages[0]["response"] == "utter_policy_details"
    assert dispatcher.messages[0]["passage"] == "孤儿是……"
