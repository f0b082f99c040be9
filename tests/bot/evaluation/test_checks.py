from typing import Any

import pytest

from bot.evaluation.checks import TurnView, asked_facts, failures, has_answer, verdicts
from bot.evaluation.sets import Expect


def body(
    *texts: str, citations: list[dict[str, Any]] | None = None, handoff: dict[str, Any] | None = None
) -> dict[str, Any]:
    replies = [{"text": t, "buttons": [], "citations": [], "author": "bot"} for t in texts]
    if citations:
        replies[0]["citations"] = citations
    return {"replies": replies, "handoff": handoff}


CITE_62 = [
    {
        "doc_id": "de_facto_unsupported_definition",
        "doc_no": "民发〔2019〕62号",
        "title": "关于进一步加强事实无人抚养儿童保障工作的意见",
    }
]


def test_groups_match_any_wording_after_folding_script_and_spaces() -> None:
    reply = body("孩子須 不滿 16 周歲", citations=CITE_62)
    expect = Expect(contains=[["不满16周岁", "未满16周岁"], ["户籍"]], cites=["民发〔2019〕62号"])
    assert failures(expect, reply) == ["contains 户籍"]


def test_citation_must_match_one_of_the_sources() -> None:
    assert failures(Expect(cites=["国发〔2016〕13号"]), body("……", citations=CITE_62)) == ["cites 国发〔2016〕13号"]
    assert failures(Expect(no_citation=True), body("……", citations=CITE_62)) == ["no_citation"]


def test_verdicts_are_read_from_the_marked_lines() -> None:
    view = TurnView.of(body("✅ 符合：事实无人抚养儿童保障\n理由：……", "✖ 暂不符合：农村留守儿童关爱保护"))
    assert verdicts(view) == {"de_facto_unsupported": "eligible", "left_behind": "not_eligible"}
    expect = Expect.model_validate({"verdict": {"program": "left_behind", "is": "eligible"}})
    assert failures(expect, body("✖ 暂不符合：农村留守儿童")) == ["verdict left_behind=eligible got not_eligible"]


def test_only_question_sentences_count_as_asking() -> None:
    view = TurnView.of(body("孩子爸爸在服刑，这一条符合。孩子今年几岁？", "妈妈现在是什么情况？"))
    assert asked_facts(view) == {"child_age", "mother"}
    assert failures(Expect(not_asked=["father"]), body("孩子爸爸在服刑。妈妈呢？")) == []


@pytest.mark.parametrize(
    ("texts", "answered"),
    [(("孩子今年几岁？",), False), (("按规定，父母双方都外出务工、孩子不满16周岁的是留守儿童。孩子几岁？",), True)],
)
def test_an_answer_is_more_than_a_question(texts: tuple[str, ...], answered: bool) -> None:
    assert has_answer(TurnView.of(body(*texts))) is answered


def test_handoff_levels() -> None:
    urgent = {"ticket_id": "t1", "priority": "urgent"}
    assert failures(Expect(handoff="urgent_or_high"), body("…", handoff=urgent)) == []
    assert failures(Expect(handoff="none"), body("…", handoff=urgent)) == ["handoff none got urgent"]
    assert failures(Expect(handoff="any"), body("…")) == ["handoff any got none"]
