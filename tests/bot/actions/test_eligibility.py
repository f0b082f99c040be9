from __future__ import annotations

from typing import Any

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.eligibility import (
    ActionAskMother,
    ActionEligibilityResult,
    ActionRestartScreening,
    ActionStartScreening,
    ActionStopScreening,
    ValidateEligibilityForm,
)
from knowledge_base.loader import KnowledgeBase
from tests.bot.conftest import search_result, tracker


def slots(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def validate(text: str, *, intent: str = "inform", **state: Any) -> tuple[dict[str, Any], list[str]]:
    dispatcher = CollectingDispatcher()
    events = await ValidateEligibilityForm().run(
        dispatcher, tracker(text, slots=state, intent=intent, active_loop="eligibility_form"), {}
    )
    return slots(events), [m["response"] for m in dispatcher.messages]


async def test_first_message_fills_every_fact_it_gives(use_services: Any, kb: KnowledgeBase) -> None:
    use_services(search_result(kb, None))
    set_, said = await validate("孩子爸爸在坐牢，妈妈联系不上快一年了，孩子9岁，农村的")
    assert set_["father"] == "imprisoned" and set_["mother"] == "lost_contact_6m"
    assert set_["child_age"] == 9 and set_["hukou"] == "rural"
    assert set_["requested_slot"] == "family_low_income"  # the next fact that can still change a verdict
    assert said == []


async def test_dont_know_is_an_answer_and_not_asked_again(use_services: Any, kb: KnowledgeBase) -> None:
    use_services(search_result(kb, None))
    state = {
        "child_age": 9,
        "father": "imprisoned",
        "mother": "lost_contact_6m",
        "hukou": "rural",
        "requested_slot": "family_low_income",
    }
    set_, _ = await validate("不知道", intent="dont_know", **state)
    assert set_["family_low_income"] == "unknown" and set_["requested_slot"] == "child_disability"


async def test_invalid_age_is_re_asked_kindly(use_services: Any, kb: KnowledgeBase) -> None:
    use_services(search_result(kb, None))
    set_, said = await validate("孩子50岁", requested_slot="child_age")
    assert said == ["utter_invalid_age"]
    assert set_["child_age"] is None and set_["requested_slot"] == "child_age"


async def test_a_correction_overrides_an_earlier_answer(use_services: Any, kb: KnowledgeBase) -> None:
    use_services(search_result(kb, None))
    set_, _ = await validate("不对，孩子是17岁", child_age=9, father="imprisoned", requested_slot="mother")
    assert set_["child_age"] == 17


async def test_a_policy_question_is_not_an_answer(use_services: Any, kb: KnowledgeBase) -> None:
    use_services(search_result(kb, None))
    dispatcher = CollectingDispatcher()
    events = await ValidateEligibilityForm().run(
        dispatcher,
        tracker(
            "申请要带什么材料", slots={"requested_slot": "father"}, intent="ask_policy", active_loop="eligibility_form"
        ),
        {},
    )
    # The form rejects (nothing filled); the rules answer; then it resumes with the same question.
    assert events == [SlotSet("requested_slot", "father")] and dispatcher.messages == []


async def test_unclear_answer_is_asked_again(use_services: Any, kb: KnowledgeBase) -> None:
    use_services(search_result(kb, None))
    set_, said = await validate("啊啊啊", child_age=9, requested_slot="father")
    assert said == ["utter_not_understood_answer"] and set_["requested_slot"] == "father"


async def test_form_ends_when_nothing_can_change_a_verdict(use_services: Any, kb: KnowledgeBase) -> None:
    use_services(search_result(kb, None))
    state = {
        "child_age": 9,
        "father": "imprisoned",
        "mother": "lost_contact_6m",
        "hukou": "rural",
        "family_low_income": False,
        "child_disability": "none",
        "requested_slot": "guardianship_harm",
    }
    set_, _ = await validate("没有", intent="deny", **state)
    assert set_["guardianship_harm"] is False and set_["requested_slot"] is None


async def test_an_accepted_check_keeps_what_was_said(use_services: Any, kb: KnowledgeBase) -> None:
    use_services(search_result(kb, None))
    dispatcher = CollectingDispatcher()
    events = await ActionStartScreening().run(dispatcher, tracker("好的", slots={"child_age": 5}), {})
    assert "child_age" not in slots(events)
    assert dispatcher.messages[0]["response"] == "utter_screening_continue"


async def test_a_fresh_screening_forgets_previous_answers(use_services: Any, kb: KnowledgeBase) -> None:
    use_services(search_result(kb, None))
    dispatcher = CollectingDispatcher()
    events = await ActionRestartScreening().run(dispatcher, tracker("重新判断", slots={"child_age": 5}), {})
    assert slots(events)["child_age"] is None and slots(events)["clarify"] is None
    assert dispatcher.messages[0]["response"] == "utter_screening_intro"


async def test_a_hinted_status_is_clarified_before_anything_else(use_services: Any, kb: KnowledgeBase) -> None:
    use_services(search_result(kb, None))
    set_, _ = await validate("他妈跑了好几年 他爸在坐牢 伢十岁")
    assert "mother" not in set_ and set_["clarify"] == {"mother": "reachable"}
    assert set_["requested_slot"] == "mother"
    dispatcher = CollectingDispatcher()
    await ActionAskMother().run(dispatcher, tracker("", slots={"clarify": {"mother": "reachable"}}), {})
    assert dispatcher.messages[0]["response"] == "utter_clarify_reachable"
    answered, _ = await validate(
        "联系不上半年以上", clarify={"mother": "reachable"}, father="imprisoned", child_age=10, requested_slot="mother"
    )
    assert answered["mother"] == "lost_contact_6m" and answered["clarify"] is None


async def test_only_what_can_change_the_programmes_asked_about_is_asked(use_services: Any, kb: KnowledgeBase) -> None:
    use_services(search_result(kb, None))
    state = {"child_age": 9, "father": "imprisoned", "mother": "deceased", "focus": ["de_facto_unsupported"]}
    set_, _ = await validate("好的", intent="affirm", requested_slot=None, **state)
    assert set_["requested_slot"] is None  # 事实无人抚养 is already decided: nothing else is asked


async def test_results_eligible_first_with_citations(use_services: Any, kb: KnowledgeBase) -> None:
    use_services(search_result(kb, None))
    state = {
        "child_age": 9,
        "father": "imprisoned",
        "mother": "lost_contact_6m",
        "hukou": "rural",
        "family_low_income": "unknown",
        "child_disability": "none",
        "guardianship_harm": False,
    }
    dispatcher = CollectingDispatcher()
    await ActionEligibilityResult().run(dispatcher, tracker("没有", slots=state), {})
    responses = [m["response"] for m in dispatcher.messages]
    assert responses[0] == "utter_screening_header" and responses[-1] == "utter_screening_footer"
    first = dispatcher.messages[1]
    assert first["response"] == "utter_program_eligible" and first["name"] == "事实无人抚养儿童保障"
    assert "民发〔2019〕62号" in first["citations"] and "15个工作日" in first["next_steps"]
    assert first["custom"]["citations"][0]["doc_no"] == "民发〔2019〕62号"
    assert responses.index("utter_program_eligible") < responses.index("utter_program_not_eligible")


async def test_harm_reported_in_screening_asks_for_a_person(use_services: Any, kb: KnowledgeBase) -> None:
    use_services(search_result(kb, None))
    dispatcher = CollectingDispatcher()
    await ActionEligibilityResult().run(
        dispatcher, tracker("有", slots={"child_age": 7, "guardianship_harm": True}), {}
    )
    last = dispatcher.messages[-1]
    assert last["response"] == "utter_screening_needs_person"
    assert last["custom"]["handoff"]["priority"] == "high"


async def test_stop_ends_the_form(use_services: Any, kb: KnowledgeBase) -> None:
    use_services(search_result(kb, None))
    dispatcher = CollectingDispatcher()
    events = await ActionStopScreening().run(dispatcher, tracker("不问了"), {})
    assert slots(events) == {"requested_slot": None, "screening_stopped": True}
