"""The turn plans of bot/dialogue/responder.py on the real knowledge base, rules and lexicons (a fake search)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.dialogue.responder import Responder
from bot.services import get_services
from knowledge_base.loader import KnowledgeBase
from tests.bot.conftest import search_result


@pytest.fixture
def responder(use_services: Any, kb: KnowledgeBase) -> Responder:
    use_services(search_result(kb, "guide_child_alone_or_harmed"))
    return Responder(get_services())


def responses(plan: Any) -> list[str]:
    return [u.response for u in plan.utterances]


def test_a_situational_question_gets_the_verdict_first_and_nothing_already_said_is_asked(responder: Responder) -> None:
    plan = responder.answer("他爹判了三年刑 他娘走了几年没音信 孩子十岁 农村户口 这算不算事实无人抚养", {})
    first = plan.utterances[0]
    assert first.response == "utter_program_eligible" and first.values["name"] == "事实无人抚养儿童保障"
    assert "民发〔2019〕62号" in first.values["citations"]
    assert not any(r.startswith("utter_ask") for r in responses(plan))
    assert plan.slots["father"] == "imprisoned" and plan.slots["mother"] == "lost_contact_6m"
    assert plan.slots["child_age"] == 10 and plan.slots["focus"] == ["de_facto_unsupported"]


def test_an_open_fact_is_offered_to_check_after_the_answer(responder: Responder) -> None:
    plan = responder.situation("我孙子十二岁 他爸他妈都在外面打工", {}, screening_asked=False)
    assert responses(plan)[0].startswith("utter_program_")
    assert responses(plan)[-1] == "utter_offer_check" and "户口" in plan.utterances[-1].values["labels"]
    assert plan.slots["next_step"] == "offer_screening"


def test_a_request_to_be_screened_with_nothing_known_starts_the_form(responder: Responder) -> None:
    plan = responder.situation("帮我看看孩子能享受什么保障", {}, screening_asked=True)
    assert responses(plan) == ["utter_screening_intro"] and plan.slots["next_step"] == "screening"


def test_a_correction_in_natural_words_changes_the_fact_and_the_verdict(responder: Responder) -> None:
    before = {"father": "imprisoned", "mother": "deceased", "child_age": 9, "focus": ["de_facto_unsupported"]}
    plan = responder.situation("不对不对 他爸不是坐牢 是在外面打工", before, screening_asked=False)
    assert plan.slots["father"] == "migrant_worker"
    verdicts = {u.values["name"]: u.response for u in plan.utterances if "name" in u.values}
    assert verdicts.get("事实无人抚养儿童保障", "utter_program_not_eligible") == "utter_program_not_eligible"


def test_a_later_question_about_another_programme_uses_the_facts_already_given(responder: Responder) -> None:
    known = {"child_age": 18, "in_school": True, "father": "at_home", "mother": "at_home"}
    plan = responder.answer("不是说满了18岁还在读书的也能领吗 孤儿那个呢", known)
    assert responses(plan)[0] == "utter_program_not_eligible"
    assert plan.utterances[0].values["name"] == "孤儿基本生活保障"


def test_a_child_is_spoken_to_as_a_child(responder: Responder) -> None:
    plan = responder.situation("我爸爸妈妈在外面打工 我好想他们 晚上睡不着", {}, screening_asked=False)
    assert responses(plan) == ["utter_child_support"] and plan.slots["role"] == "child"
    secret = responder.answer("我想跟你说个事 你会不会告诉我爸妈和老师", {})
    assert responses(secret) == ["utter_child_confidentiality"]


def test_a_child_director_reporting_a_child_alone_gets_the_steps_and_a_person(responder: Responder) -> None:
    text = "我是村里的儿童主任 发现一个11岁的伢一个人住在屋里 爸妈都在外面打工 带他的爷爷上个月住院了 我该么办"
    plan = responder.situation(text, {}, screening_asked=False)
    assert responses(plan) == ["utter_report_steps", "utter_offer_report"]
    assert plan.slots["next_step"] == "offer_report" and plan.slots["role"] == "child_director"


def test_a_hinted_status_is_not_assumed(responder: Responder) -> None:
    plan = responder.answer("孩子他妈跑了好几年 他爸在坐牢 伢九岁 算不算事实无人抚养", {})
    assert plan.utterances[0].response == "utter_program_possibly"
    assert "mother" not in plan.slots and plan.slots["clarify"] == {"mother": "reachable"}
    assert responses(plan)[-1] == "utter_offer_check"


def test_a_counselling_question_gets_what_the_policies_say_then_where_to_find_help(responder: Responder) -> None:
    plan = responder.counselling("伢在学校老是不说话 我们在外头打工能做么子", {}, "· 12355 青少年服务台")
    assert responses(plan) == ["utter_policy_answer", "utter_counselling_more"]
    assert plan.utterances[1].values["services"] == "· 12355 青少年服务台"


def test_a_child_asking_for_help_is_answered_as_a_child(responder: Responder) -> None:
    plan = responder.counselling("我好想爸爸妈妈 心里好难受", {}, "· 12355")
    assert responses(plan) == ["utter_child_support"] and plan.slots["role"] == "child"


def test_a_correction_of_the_age_updates_the_verdict(responder: Responder) -> None:
    known = {"child_age": 16, "father": "migrant_worker", "mother": "migrant_worker", "hukou": "rural"}
    plan = responder.answer("哦 说错了 是十五岁 下个月才满十六", {**known, "focus": ["left_behind"]})
    assert responses(plan) == ["utter_program_eligible"] and plan.slots["child_age"] == 15


def test_a_corrected_grade_without_the_parent_named_corrects_that_parent(responder: Responder) -> None:
    known = {"child_age": 10, "father": "other_disability", "mother": "deceased", "focus": ["de_facto_unsupported"]}
    plan = responder.situation("不对 我看错了证 是智力残疾三级", known, screening_asked=False)
    assert plan.utterances[0].response == "utter_program_eligible"
    assert plan.slots["father"] == "severe_disability" and "child_disability" not in plan.slots
