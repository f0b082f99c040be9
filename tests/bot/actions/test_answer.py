from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from bot.actions.answer import ActionAnswerPolicy
from knowledge_base.loader import KnowledgeBase
from tests.bot.conftest import search_result, tracker


async def test_answer_utters_card_by_response_name_with_citation(use_services: Any, kb: KnowledgeBase) -> None:
    use_services(search_result(kb, "de_facto_unsupported_definition"))
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerPolicy().run(dispatcher, tracker("什么是事实无人抚养儿童"), {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_policy_answer"
    assert message["summary"] == kb.document("de_facto_unsupported_definition").meta.summary
    assert "民发〔2019〕62号" in message["source"]
    citations = message["custom"]["citations"]
    assert citations[0]["doc_no"] == "民发〔2019〕62号" and citations[0]["doc_id"] == "de_facto_unsupported_definition"
    assert events == [{"event": "slot", "timestamp": None, "name": "last_doc_id",
                       "value": "de_facto_unsupported_definition"}]


async def test_not_found_says_so_and_never_guesses(use_services: Any, kb: KnowledgeBase) -> None:
    use_services(search_result(kb, None))
    dispatcher = CollectingDispatcher()
    await ActionAnswerPolicy().run(dispatcher, tracker("车险怎么买"), {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_policy_not_found"]
    assert all(not m.get("custom") for m in dispatcher.messages)


async def test_history_questions_may_use_superseded_documents(use_services: Any, kb: KnowledgeBase) -> None:
    searcher = use_services(search_result(kb, "orphans"))
    await ActionAnswerPolicy().run(CollectingDispatcher(), tracker("62号文原来规定了几种情形"), {})
    await ActionAnswerPolicy().run(CollectingDispatcher(), tracker("62号文规定了几种情形"), {})
    assert [f.include_superseded for _, f in searcher.calls] == [True, False]
