from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from bot.actions.counselling import ActionCounsellingAnswer, ActionSmallTalk
from bot.actions.crisis import ActionCrisisResponse
from bot.actions.hotlines import ActionShowHotlines
from bot.actions.role import ActionSetRole
from knowledge_base.loader import KnowledgeBase
from tests.bot.conftest import search_result, tracker


def slots(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def test_role_switch_persists_in_a_slot(use_services: Any, kb: KnowledgeBase) -> None:
    use_services(search_result(kb, None))
    dispatcher = CollectingDispatcher()
    events = await ActionSetRole().run(dispatcher, tracker("我是儿童主任", intent="set_role"), {})
    assert slots(events) == {"role": "child_director"}
    assert dispatcher.messages[0]["response"] == "utter_role_reference"
    parent = CollectingDispatcher()
    assert slots(await ActionSetRole().run(parent, tracker("我是孩子奶奶", intent="set_role"), {})) == {
        "role": "parent"
    }


async def test_hotlines_show_only_verified_numbers(use_services: Any, kb: KnowledgeBase) -> None:
    use_services(search_result(kb, None))
    dispatcher = CollectingDispatcher()
    await ActionShowHotlines().run(dispatcher, tracker("打什么电话"), {})
    lines = dispatcher.messages[0]["lines"]
    for number in ("110", "120", "12355", "12345", "12338"):
        assert number in lines
    assert "12349" not in lines and "12356" not in lines


async def test_a_question_about_one_hotline_gets_the_passage_that_answers_it(
    use_services: Any, kb: KnowledgeBase
) -> None:
    searcher = use_services(search_result(kb, "hotlines"))
    dispatcher = CollectingDispatcher()
    # After an answer about left-behind children: the number is looked for in the whole knowledge base.
    await ActionShowHotlines().run(
        dispatcher, tracker("妇联有热线吗", slots={"last_doc_id": "left_behind_children"}), {}
    )
    [message] = dispatcher.messages
    assert message["response"] == "utter_policy_answer"
    assert message["answer"] and message["source"]
    assert all(filters.doc_ids is None for _, filters in searcher.calls)


async def test_crisis_reply_names_emergency_lines_and_opens_an_urgent_ticket(
    use_services: Any, kb: KnowledgeBase
) -> None:
    use_services(search_result(kb, None))
    dispatcher = CollectingDispatcher()
    await ActionCrisisResponse().run(dispatcher, tracker("继父晚上摸我", intent="report_danger"), {})
    [message] = dispatcher.messages
    assert "110" in message["emergency"] and "120" in message["emergency"] and "12355" in message["counselling"]
    assert message["custom"]["handoff"]["priority"] == "urgent"
    assert message["custom"]["handoff"]["summary"]["message"] == "继父晚上摸我"


async def test_counselling_names_help_at_once_without_asking_the_age(use_services: Any, kb: KnowledgeBase) -> None:
    use_services(search_result(kb, None))
    dispatcher = CollectingDispatcher()
    await ActionCounsellingAnswer().run(dispatcher, tracker("孩子最近不爱说话 秭归的", intent="ask_counselling"), {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_counselling_referral"
    services = message["services"]
    assert "12355" in services
    assert "秭归县" in services and "心理咨询师队伍" in services
    local_lines = [line for line in services.splitlines() if "秭归县" in line or "心理咨询师" in line]
    assert local_lines and all(not any(ch.isdigit() for ch in line.split("：")[0]) for line in local_lines)


async def test_a_child_asking_for_help_is_answered_as_a_child(use_services: Any, kb: KnowledgeBase) -> None:
    use_services(search_result(kb, None))
    dispatcher = CollectingDispatcher()
    events = await ActionCounsellingAnswer().run(
        dispatcher, tracker("我爸爸妈妈都在外面打工 我好想他们", intent="ask_counselling"), {}
    )
    assert [m["response"] for m in dispatcher.messages] == ["utter_child_support"]
    assert slots(events) == {"role": "child"}


async def test_small_talk_from_a_child_about_secrets_gets_the_honest_answer(
    use_services: Any, kb: KnowledgeBase
) -> None:
    use_services(search_result(kb, None))
    dispatcher = CollectingDispatcher()
    await ActionSmallTalk().run(dispatcher, tracker("你会不会告诉我爸妈和老师", intent="chitchat"), {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_child_confidentiality"]
    adult = CollectingDispatcher()
    await ActionSmallTalk().run(adult, tracker("你每天陪这么多人聊天累不累", intent="chitchat"), {})
    assert [m["response"] for m in adult.messages] == ["utter_chitchat"]
